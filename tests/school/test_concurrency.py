"""Rules that protect data hold when two requests race (PostgreSQL only: SQLite
serialises every write, so there is no race to lose there)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from school.models import Enrolment
from school.services import enrolment_create
from tests.factories import CohortFactory, LearnerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… to run it")


@pytest.mark.parametrize("attempt", range(5))
def test_two_offices_enrolling_one_learner_at_once_leave_one_active_enrolment(
    attempt: int,
) -> None:
    learner = LearnerFactory()
    cohorts = [CohortFactory(), CohortFactory()]
    start = threading.Barrier(len(cohorts))
    outcomes: list[str] = []

    def enrol(cohort: object) -> None:
        start.wait()
        try:
            enrolment_create(learner=learner, cohort=cohort)
            outcomes.append("enrolled")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=enrol, args=(cohort,)) for cohort in cohorts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [
        "Cet apprenant est déjà en formation dans une autre promotion.",
        "enrolled",
    ]
    assert Enrolment.objects.filter(learner=learner).count() == 1
