"""Two planners writing at the same instant cannot both take one slot: the check locks the
resources before it reads the timetable (PostgreSQL only: SQLite serialises writes)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from courses.models import Session
from courses.services import series_create, session_create
from school.models import Role
from tests.factories import CohortFactory, CourseFactory, RoomFactory, UserFactory
from tests.school.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")
MONDAY_8 = datetime.datetime(2027, 1, 11, 8, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… to run it")


@pytest.mark.parametrize("attempt", range(5))
def test_two_sessions_in_one_room_at_once_leave_one(attempt: int) -> None:
    room = RoomFactory(name=f"Atelier {attempt}")
    course = CourseFactory(title="Tournage")

    def plan() -> None:
        session_create(
            course=course,
            cohort=CohortFactory(programme=course.programme),
            trainer=UserFactory(role=Role.TRAINER),
            room=room,
            start=MONDAY_8,
            end=MONDAY_8 + datetime.timedelta(hours=4),
        )

    outcomes = race(plan, plan)

    assert outcomes == [
        f"La salle Atelier {attempt} est déjà occupée par « Tournage » le 11/01 de 8 h à 12 h.",
        "ok",
    ]
    assert Session.objects.filter(room=room).count() == 1


@pytest.mark.parametrize("attempt", range(5))
def test_a_session_and_a_series_for_one_trainer_at_once_leave_one(attempt: int) -> None:
    trainer = UserFactory(first_name="Marc", last_name=f"Aubertin {attempt}", role=Role.TRAINER)
    course = CourseFactory(title="Tournage")

    def one() -> None:
        session_create(
            course=course,
            cohort=CohortFactory(programme=course.programme),
            trainer=trainer,
            room=RoomFactory(),
            start=MONDAY_8,
            end=MONDAY_8 + datetime.timedelta(hours=4),
        )

    def weekly() -> None:
        series_create(
            course=course,
            cohort=CohortFactory(programme=course.programme),
            trainer=trainer,
            room=RoomFactory(),
            weekday=0,
            start_time=datetime.time(8),
            end_time=datetime.time(12),
            first_date=datetime.date(2027, 1, 4),
            last_date=datetime.date(2027, 1, 25),
        )

    outcomes = race(one, weekly)

    assert outcomes == [
        f"Le formateur Marc Aubertin {attempt} est déjà en « Tournage » le 11/01 de 8 h à 12 h.",
        "ok",
    ]
    assert Session.objects.filter(trainer=trainer, start=MONDAY_8).count() == 1
