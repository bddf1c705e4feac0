"""Schemathesis fuzzes every API operation of the OpenAPI schema, as each role in turn
and anonymously, through the WSGI application: no answer may be a server error, and every answer —
errors included — must match the schema (status, content type, body).

Data: the world of tests/conftest.py (two of everything), so that generated ids
sometimes hit real rows; each role authenticates with its own token.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, note, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import World

ROLES = ["staff", "trainer", "partner", "learner", "guardian"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class RefusalsReplayed:
    """The WSGI application, answering again without Django a refusal that did not
    depend on the request's body.

    The coverage phase sends hundreds of bodies to each write operation, and each goes
    out as six roles: most roles are refused (401, 403, 404) before the view reads the
    body, so that all those bodies get one answer. A refusal given without reading a
    non-empty body depends only on the request line and headers: the same line and
    headers (the content type without the multipart boundary that frames the body)
    get it back, checked against the schema like any answer. Any write that
    succeeds may change who sees what, so it forgets every refusal kept.
    """

    UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.kept: dict[tuple[str, ...], tuple[str, list[tuple[str, str]], bytes]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with_body = int(environ.get("CONTENT_LENGTH") or 0) > 0
        key = self._key(environ)
        if with_body and key in self.kept:
            status, headers, body = self.kept[key]
            start_response(status, headers)
            return [body]
        watched = _Watched(environ["wsgi.input"])
        environ["wsgi.input"] = watched
        answer: dict[str, Any] = {}

        def keep_start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            answer.update(status=status, headers=headers)
            return start_response(status, headers, *args)

        result = self.app(environ, keep_start)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        code = int(answer["status"].split()[0])
        if with_body and 400 <= code < 500 and not watched.read_at_all:
            self.kept[key] = (answer["status"], answer["headers"], body)
        elif code < 400 and environ["REQUEST_METHOD"] in self.UNSAFE:
            self.kept.clear()
        return [body]

    @staticmethod
    def _key(environ: dict[str, Any]) -> tuple[str, ...]:
        headers = sorted(
            f"{name}={value}"
            for name, value in environ.items()
            if name.startswith("HTTP_") and name != CASE_ID
        )
        return (
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            _unframed(environ.get("CONTENT_TYPE", "")),
            *headers,
        )


class _Watched:
    """A request's input stream, noting whether anything read it (Django takes its
    ``read`` and ``readline`` when it builds the request, and calls them only when the
    body is wanted)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.read_at_all = False

    def read(self, *size: int) -> bytes:
        self.read_at_all = True
        return self.stream.read(*size)

    def readline(self, *size: int) -> bytes:
        self.read_at_all = True
        return self.stream.readline(*size)


def _unframed(content_type: str) -> str:
    """The content type without its multipart boundary: the boundary, drawn anew for
    each request, only frames the body, which an answer kept has not read."""
    return MULTIPART_BOUNDARY.sub("", content_type)


MULTIPART_BOUNDARY = re.compile(r";\s*boundary=(\"[^\"]*\"|[^;]*)", re.IGNORECASE)

# The header by which Schemathesis names each case it sends: not part of the request.
CASE_ID = "HTTP_X_SCHEMATHESIS_TESTCASEID"
APP = RefusalsReplayed(get_wsgi_application())


def _schema() -> Any:
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = APP
    return loaded


SCHEMA = _schema()


@pytest.fixture(autouse=True)
def _keep_the_test_transaction() -> Iterator[None]:
    # Schemathesis calls the WSGI application itself, not through Django's test client,
    # which is what usually stops the end of a request from closing "old" connections —
    # on PostgreSQL, the connection holding the test's transaction. Do as the client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_refusal_from_another_test() -> None:
    # Each test has its own world: another's rows, ids and tokens are not this one's.
    APP.kept.clear()


@pytest.fixture
def tokens(world: World) -> dict[str, str]:
    return {role: Token.objects.create(user=world.user(role)).key for role in ROLES}


@pytest.mark.django_db
@SCHEMA.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_within_its_schema_for_every_role(
    case: Any, tokens: dict[str, str]
) -> None:
    # Each generated request is sent as each role in turn, then without credentials:
    # one world per operation instead of one per role keeps the run to minutes.
    for role in [*ROLES, "anonymous"]:
        note(f"as {role}")
        headers = {"Authorization": f"Token {tokens[role]}"} if role in tokens else {}
        case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.mark.django_db
def test_linked_calls_keep_to_the_schema_from_one_step_to_the_next(
    tokens: dict[str, str],
) -> None:
    # Stateful: Schemathesis chains operations by the links it infers between them (a
    # learner created, then read, changed, enrolled…), as the office staff, who may
    # write almost everything; every step is checked as above.
    headers = {"Authorization": f"Token {tokens['staff']}"}

    class Workflows(SCHEMA.as_state_machine()):  # type: ignore[misc]
        # Each run of steps starts from the same rows: Hypothesis replays a run it has
        # already drawn and requires the same answers, which the previous run's writes
        # would change (reported as « inconsistent data generation »).
        def setup(self) -> None:
            self.savepoint = transaction.savepoint()

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflows.run(
        settings=settings(
            max_examples=30,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )


def _fake_app(calls: list[str]) -> Callable[..., Any]:
    """Refuses /refused/ without reading the body; reads it, then answers 400 or 201."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        calls.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] == "/refused/":
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"detail": "no"}']
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        start_response("201 Created" if body == b"ok" else "400 Bad Request", [])
        return [body]

    return app


def _send(
    app: RefusalsReplayed,
    path: str,
    body: bytes,
    case_id: str = "a",
    content_type: str = "application/json",
) -> str:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        CASE_ID: case_id,
    }
    statuses: list[str] = []
    b"".join(app(environ, lambda status, headers: statuses.append(status)))
    return statuses[0]


def test_a_refusal_given_without_reading_the_body_is_replayed_for_another_body() -> None:
    calls: list[str] = []
    app = RefusalsReplayed(_fake_app(calls))

    assert _send(app, "/refused/", b"one", "a") == "404 Not Found"
    assert _send(app, "/refused/", b"two", "b") == "404 Not Found"

    assert calls == ["/refused/"]


def test_an_answer_that_read_the_body_is_never_replayed() -> None:
    calls: list[str] = []
    app = RefusalsReplayed(_fake_app(calls))

    assert _send(app, "/read/", b"bad") == "400 Bad Request"
    assert _send(app, "/read/", b"bad") == "400 Bad Request"

    assert calls == ["/read/", "/read/"]


def test_a_successful_write_forgets_the_refusals_kept() -> None:
    calls: list[str] = []
    app = RefusalsReplayed(_fake_app(calls))
    _send(app, "/refused/", b"one")

    assert _send(app, "/read/", b"ok") == "201 Created"
    _send(app, "/refused/", b"one")

    assert calls == ["/refused/", "/read/", "/refused/"]


def test_a_refusal_is_replayed_for_another_multipart_boundary_not_another_content_type() -> None:
    calls: list[str] = []
    app = RefusalsReplayed(_fake_app(calls))
    _send(app, "/refused/", b"one", content_type='multipart/form-data; boundary="---Part_1"')
    _send(app, "/refused/", b"two", content_type='multipart/form-data; boundary="---Part_2"')
    _send(app, "/refused/", b"two", content_type="application/x-www-form-urlencoded")

    assert calls == ["/refused/", "/refused/"]
