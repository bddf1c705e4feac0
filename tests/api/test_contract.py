"""Schemathesis fuzzes every API operation of the OpenAPI schema, as each role in turn
and anonymously, through the WSGI application: no answer may be a server error, and every answer —
errors included — must match the schema (status, content type, body).

Data: the world of tests/conftest.py (two of everything), so that generated ids
sometimes hit real rows; each role authenticates with its own token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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


def _schema() -> Any:
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = get_wsgi_application()
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
