"""Rate limits on what can be abused, and nothing personal left in a cache."""

from __future__ import annotations

import os
from typing import Any

import pytest
import redis
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from school import throttle
from school.models import Role
from tests.clients import Client as SignedInClient
from tests.conftest import World
from tests.factories import PASSWORD, CohortFactory, EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight(settings: Any) -> dict[str, str]:
    """Limits of two, so a test reaches them in three requests."""
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "2/hour")
    return settings.RATE_LIMITS


def test_the_verification_upload_is_limited_per_address_and_reading_is_not(tight: Any) -> None:
    client = Client()
    upload = {"pdf": SimpleUploadedFile("a.pdf", b"%PDF-1.7", "application/pdf")}
    answers = [client.post("/verify/inconnu/", upload).status_code for _ in range(3)]

    assert answers == [404, 404, 429]
    refused = client.post("/verify/inconnu/", upload)
    assert "Trop de demandes" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 3601
    # Another address still gets through; reading the page is not counted.
    assert Client(REMOTE_ADDR="10.0.0.2").post("/verify/inconnu/", upload).status_code == 404
    assert client.get("/verify/inconnu/").status_code == 404


def test_the_login_page_is_limited_per_address_across_accounts(tight: Any) -> None:
    # django-axes locks one account after five failures; this ceiling stops a
    # spray of one password over many accounts from one address.
    for n in range(2):
        UserFactory(email=f"eleve{n}@metaltech.test", role=Role.LEARNER)
    client = Client()
    tries = [
        client.post("/connexion/", {"username": f"eleve{n}@metaltech.test", "password": "x"})
        for n in range(3)
    ]
    assert [t.status_code for t in tries] == [200, 200, 429]


def test_the_token_endpoint_is_limited_too(tight: Any, api_client: Any) -> None:
    UserFactory(email="eleve@metaltech.test", role=Role.LEARNER)
    credentials = {"email": "eleve@metaltech.test", "password": PASSWORD}
    answers = [api_client.post("/api/v1/auth/token/", credentials) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Retry-After" in answers[2]


def test_password_reset_mails_are_limited(tight: Any) -> None:
    client = Client()
    answers = [
        client.post("/mot-de-passe/oubli/", {"email": "x@metaltech.test"}).status_code
        for _ in range(3)
    ]
    assert answers == [302, 302, 429]


def test_document_batches_are_limited_per_account(tight: Any, api_as: Any) -> None:
    staff = UserFactory(role=Role.STAFF)
    cohort = CohortFactory()
    EnrolmentFactory(cohort=cohort)
    api = api_as(staff)
    body = {"kind": "attestation_fin_formation", "cohort": cohort.pk}
    answers = [api.post("/api/v1/documents/batches/", body).status_code for _ in range(3)]
    assert answers[2] == 429
    # Following a batch's progress is reading: never limited.
    assert api.get("/api/v1/documents/batches/").status_code == 200


def test_personal_data_exports_are_limited(tight: Any) -> None:
    from tests.factories import LearnerFactory

    learner = LearnerFactory()
    client = SignedInClient()
    client.force_login(UserFactory(role=Role.STAFF))
    action = {"action": "export_personal_data", "_selected_action": [learner.pk]}
    answers = [client.post("/admin/school/learner/", action) for _ in range(3)]
    assert [a["Content-Type"] for a in answers[:2]] == ["application/zip"] * 2
    assert answers[2].status_code == 302  # back to the list, with the message
    assert "Trop d" in client.get("/admin/school/learner/").content.decode()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://…")
def test_the_counters_live_in_redis_so_every_web_node_shares_them(settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "verify_upload": "5/hour"}
    for _ in range(3):
        throttle.allow("verify_upload", "ip:192.0.2.7")
    # What another node sees: the same Redis, read without Django.
    server = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = list(server.scan_iter("*throttle:verify_upload:ip:192.0.2.7:*"))
    assert len(keys) == 1
    assert int(server.get(keys[0])) == 3
    cache.clear()


# --- nothing personal in a cache -------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "trainer", "partner", "learner", "guardian"])
def test_every_page_of_a_signed_in_user_says_no_store(world: World, role: str) -> None:
    client = SignedInClient()
    client.force_login(world.user(role))
    response = client.get("/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_api_answers_and_feeds_say_no_store_whoever_asks(world: World, api_as: Any) -> None:
    api = api_as(world.learner_user)
    assert api.get("/api/v1/me/")["Cache-Control"] == "private, no-store"
    feed = Client().get(api.get("/api/v1/me/").json()["calendar_url"].split("testserver")[-1])
    assert feed.status_code == 200
    assert feed["Cache-Control"] == "private, no-store"
