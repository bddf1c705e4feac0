"""Rules that protect data hold when two requests race (PostgreSQL only: SQLite
serialises every write, so there is no race to lose there)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from rest_framework import serializers

from school.models import Enrolment, EnrolmentStatus, Guardian
from school.serializers import GuardianSerializer
from school.services import enrolment_change_status, enrolment_create
from tests.factories import CohortFactory, EnrolmentFactory, LearnerFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… to run it")


def race(*attempts: Callable[[], object]) -> list[str]:
    """Run the attempts at the same instant; each outcome is "ok" or the refusal's words."""
    start = threading.Barrier(len(attempts))
    outcomes: list[str] = []

    def run(attempt: Callable[[], object]) -> None:
        start.wait()
        try:
            attempt()
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        except serializers.ValidationError as error:
            outcomes.append(str(error.detail))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


ALREADY_ACTIVE = "Cet apprenant est déjà en formation dans une autre promotion."


@pytest.mark.parametrize("attempt", range(5))
def test_two_offices_enrolling_one_learner_at_once_leave_one_active_enrolment(
    attempt: int,
) -> None:
    learner = LearnerFactory()
    first, second = CohortFactory(), CohortFactory()

    outcomes = race(
        lambda: enrolment_create(learner=learner, cohort=first),
        lambda: enrolment_create(learner=learner, cohort=second),
    )

    assert outcomes == [ALREADY_ACTIVE, "ok"]
    assert Enrolment.objects.filter(learner=learner).count() == 1


@pytest.mark.parametrize("attempt", range(5))
def test_two_reactivations_of_one_learner_at_once_leave_one_active_enrolment(
    attempt: int,
) -> None:
    learner = LearnerFactory()
    first = EnrolmentFactory(learner=learner, status=EnrolmentStatus.SUSPENDED)
    second = EnrolmentFactory(learner=learner, status=EnrolmentStatus.SUSPENDED)

    outcomes = race(
        lambda: enrolment_change_status(enrolment=first, status=EnrolmentStatus.ACTIVE),
        lambda: enrolment_change_status(enrolment=second, status=EnrolmentStatus.ACTIVE),
    )

    assert outcomes == [ALREADY_ACTIVE, "ok"]
    assert Enrolment.objects.filter(learner=learner, status=EnrolmentStatus.ACTIVE).count() == 1


@pytest.mark.parametrize("attempt", range(5))
def test_two_second_guardians_posted_at_once_leave_one(attempt: int) -> None:
    learner = LearnerFactory()
    request: Any = type("Request", (), {"user": UserFactory()})()

    def add(first_name: str) -> None:
        data = {"learner": learner.pk, "rank": 2, "first_name": first_name, "last_name": "X"}
        serializer = GuardianSerializer(data=data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        serializer.save()

    outcomes = race(lambda: add("Anne"), lambda: add("Paul"))

    refused = [outcome for outcome in outcomes if outcome != "ok"]
    assert len(refused) == 1
    assert "deux au plus" in refused[0]
    assert Guardian.objects.filter(learner=learner).count() == 1
