from __future__ import annotations

import datetime
import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.utils import translation
from rest_framework.test import APIClient

from school.models import User
from tests.clients import Client
from tests.module_scope import fast_and_collectless, kept_for_the_module

# The query counters' asserts (tests/queries.py) are shared by many test modules: a
# failed comparison should show both counts, as the tests' own asserts do. This must
# run before any test module imports it.
pytest.register_assert_rewrite("tests.queries")


@pytest.fixture(scope="session")
def django_db_use_migrations(request: pytest.FixtureRequest) -> bool:
    """On SQLite, the everyday loop, each worker builds its test database from the models:
    replaying the migrations took each worker ~15 s of its start. The migrations are
    still checked: ``makemigrations --check`` holds them to the models, ``.ci/run``
    applies them to a fresh SQLite file, and the PostgreSQL run builds its test
    databases through them. ``TEST_MIGRATIONS=1`` migrates on SQLite too."""
    if request.config.getvalue("nomigrations"):
        return False
    return connections["default"].vendor != "sqlite" or os.environ.get("TEST_MIGRATIONS") == "1"


@pytest.fixture
def client() -> Client:
    """pytest-django's ``client``, signing staff and trainers in past their second factor."""
    return Client()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # The limits count in the cache (school/throttle.py): each test starts from zero.
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as(api_client: APIClient):
    """``api_as(user)`` gives an API client authenticated as that user."""

    def login(user: User) -> APIClient:
        api_client.force_authenticate(user)
        return api_client

    return login


class World:
    """Two of everything: what a user may see ("ours") and what they must not ("theirs")."""

    def __init__(self) -> None:
        from school.models import Role
        from tests.factories import (
            CohortFactory,
            CompanyFactory,
            ContactFactory,
            EnrolmentFactory,
            GuardianFactory,
            LearnerFactory,
            UserFactory,
        )

        self.staff = UserFactory(email="direction@test.fr", role=Role.STAFF)
        self.trainer = UserFactory(email="formateur@test.fr", role=Role.TRAINER)
        self.other_trainer = UserFactory(email="autre.formateur@test.fr", role=Role.TRAINER)
        self.cohort = CohortFactory(name="CAP 2026", head_trainer=self.trainer)
        self.other_cohort = CohortFactory(name="Bac pro 2026", head_trainer=self.other_trainer)

        self.learner_user = UserFactory(email="eleve@test.fr", role=Role.LEARNER)
        self.learner = LearnerFactory(user=self.learner_user, last_name="Martin")
        self.other_learner = LearnerFactory(last_name="Durand")
        self.enrolment = EnrolmentFactory(learner=self.learner, cohort=self.cohort)
        self.other_enrolment = EnrolmentFactory(
            learner=self.other_learner, cohort=self.other_cohort
        )

        self.guardian_user = UserFactory(email="parent@test.fr", role=Role.GUARDIAN)
        self.guardian = GuardianFactory(learner=self.learner, user=self.guardian_user)
        self.other_guardian = GuardianFactory(learner=self.other_learner)

        self.partner = UserFactory(email="tuteur@test.fr", role=Role.PARTNER)
        self.company = CompanyFactory(legal_name="Forges de Nogent")
        self.other_company = CompanyFactory(legal_name="Fonderie de Langres")
        self.contact = ContactFactory(company=self.company, user=self.partner)
        self.other_contact = ContactFactory(company=self.other_company)

    def user(self, role: str) -> User:
        return {
            "staff": self.staff,
            "trainer": self.trainer,
            "partner": self.partner,
            "learner": self.learner_user,
            "guardian": self.guardian_user,
        }[role]


@pytest.fixture
def world(db: None) -> World:
    return World()


@pytest.fixture(autouse=True)
def _back_to_the_default_language() -> Iterator[None]:
    # LocaleMiddleware leaves the last request's language active on the thread: without
    # this, code called outside a request after an English request would speak English.
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_and_collectless() -> Iterator[None]:
    with fast_and_collectless():
        yield


# Wednesday 2 December 2026, 14 h in Paris: the demo term began on last week's Monday, so
# the demo has seven school days of roll calls behind it and this afternoon's sessions run.
DEMO_NOW = datetime.datetime(2026, 12, 2, 13, 0, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The demo school, seeded once for the module at ``DEMO_NOW`` (~2 s a run), and what
    ``seed_demo`` printed. A module uses it for all its tests or for none:
    ``pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_demo")]``."""

    def seed() -> str:
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        return out.getvalue()

    yield from kept_for_the_module(django_db_blocker, DEMO_NOW, seed)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The demo kept for a module stands in its database for every test of it: a test
    # that did not ask for it would find it there (tests/module_scope.py).
    modules: dict[str, set[bool]] = {}
    for item in items:
        uses = "seeded_demo" in getattr(item, "fixturenames", ())
        modules.setdefault(item.nodeid.split("::")[0], set()).add(uses)
    mixed = sorted(module for module, uses in modules.items() if len(uses) > 1)
    if mixed:
        raise pytest.UsageError(
            "These modules use seeded_demo in some tests only: " + ", ".join(mixed)
        )
