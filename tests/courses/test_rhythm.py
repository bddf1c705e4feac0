"""The learning rhythm: production, other workshop, technology, general teaching and
placement hours against the programme's planned hours, for a learner and a cohort."""

from __future__ import annotations

import datetime
import html
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Attendance, TimeLog
from courses.rhythm import rhythm_of
from internships.models import PlacementStatus
from school.models import Learner
from tests.clients import Client
from tests.conftest import World
from tests.courses.test_orders_api import _order
from tests.factories import (
    CourseFactory,
    EnrolmentFactory,
    PlacementFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db


def attend(world: World, learner: Learner, kind: str, day: int, hours: int = 4) -> None:
    start = datetime.datetime(2026, 11, day, 7, tzinfo=datetime.UTC)
    session = SessionFactory(
        cohort=world.cohort,
        course=CourseFactory(programme=world.cohort.programme, kind=kind),
        start=start,
        end=start + datetime.timedelta(hours=hours),
    )
    Attendance.objects.create(session=session, learner=learner, status="present")
    return session


def test_a_learner_s_hours_by_part_against_the_planned(world: World) -> None:
    workshop = attend(world, world.learner, "workshop", 2)
    attend(world, world.learner, "workshop", 3)
    attend(world, world.learner, "technology", 4, hours=3)
    attend(world, world.learner, "general", 5, hours=2)
    order = _order()
    TimeLog.objects.create(
        order=order,
        session=workshop,
        learner=world.learner,
        hours=Decimal("3"),
        operation="turning",
    )
    # A placement of two weeks done (35 h a week), one 3.5-hour absence.
    placement = PlacementFactory(
        learner=world.learner,
        start_date=datetime.date(2026, 10, 5),
        end_date=datetime.date(2026, 10, 16),
        status=PlacementStatus.COMPLETED,
    )
    placement.absences.create(date=datetime.date(2026, 10, 7), hours=Decimal("3.5"))
    rhythm = rhythm_of(Learner.objects.filter(pk=world.learner.pk), world.cohort.programme)
    assert {part.key: part.hours for part in rhythm.parts} == {
        "production": Decimal("3.0"),
        "workshop": Decimal("5.0"),
        "technology": Decimal("3.0"),
        "general": Decimal("2.0"),
        "placement": Decimal("66.5"),
    }
    assert rhythm.total == Decimal("79.5") and rhythm.planned == 2100


def test_the_cohort_s_rhythm_is_per_learner_and_its_page_draws_it(world: World) -> None:
    other = EnrolmentFactory(cohort=world.cohort).learner
    attend(world, world.learner, "technology", 4, hours=4)
    attend(world, other, "technology", 5, hours=2)
    learners = Learner.objects.filter(enrolments__cohort=world.cohort)
    rhythm = rhythm_of(learners, world.cohort.programme)
    assert rhythm.per == 2
    assert {p.key: p.hours for p in rhythm.parts}["technology"] == Decimal("3.0")
    client = Client()
    client.force_login(world.staff)
    page = client.get(f"/promotions/{world.cohort.pk}/").content.decode()
    assert "<svg" in page and "Moyenne par apprenant en formation (2)" in page
    learner_page = html.unescape(client.get(f"/apprenants/{world.learner.pk}/").content.decode())
    assert "Rythme d'apprentissage" in learner_page and "Voir le portfolio" in learner_page


def test_the_cohort_page_costs_the_same_for_one_learner_and_for_many(world: World) -> None:
    client = Client()
    client.force_login(world.staff)
    url = f"/promotions/{world.cohort.pk}/"
    attend(world, world.learner, "workshop", 2)
    PlacementFactory(learner=world.learner, status=PlacementStatus.COMPLETED,
                     start_date=datetime.date(2026, 10, 5), end_date=datetime.date(2026, 10, 9))  # fmt: skip
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for day in range(6, 12):
        learner = EnrolmentFactory(cohort=world.cohort).learner
        attend(world, learner, "workshop", day)
        PlacementFactory(learner=learner, status=PlacementStatus.COMPLETED,
                         start_date=datetime.date(2026, 10, 5), end_date=datetime.date(2026, 10, 9))  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(one)


def test_the_cohort_page_charts_attendance_by_week_and_competency_coverage(world: World) -> None:
    from courses.models import CompetencyEvidence
    from courses.rhythm import attendance_by_week, competency_coverage
    from tests.factories import CompetencyBlockFactory, CompetencyFactory

    other = EnrolmentFactory(cohort=world.cohort).learner
    today = datetime.date.today()
    monday = today - datetime.timedelta(days=today.weekday() + 7)
    start = datetime.datetime.combine(monday, datetime.time(7), tzinfo=datetime.UTC)
    session = SessionFactory(
        cohort=world.cohort,
        course=CourseFactory(programme=world.cohort.programme),
        start=start,
        end=start + datetime.timedelta(hours=4),
    )
    Attendance.objects.create(session=session, learner=world.learner, status="present")
    Attendance.objects.create(session=session, learner=other, status="absent")
    [week] = attendance_by_week(world.cohort)
    assert (week.monday, week.recorded, week.attended, week.rate) == (monday, 2, 1, 50)

    competency = CompetencyFactory(block=CompetencyBlockFactory(programme=world.cohort.programme))
    for learner, level, day in [
        (world.learner, "in_progress", 1), (world.learner, "acquired", 2), (other, "acquired", 1),
        (other, "in_progress", 3),
    ]:  # fmt: skip
        CompetencyEvidence.objects.create(
            learner=learner, competency=competency, level=level, source="assessment",
            assessor_name="Marc", date=datetime.date(2026, 11, day),
        )  # fmt: skip
    learners = Learner.objects.filter(enrolments__cohort=world.cohort)
    [coverage] = competency_coverage(world.cohort, learners)
    assert (coverage.secured, coverage.learners, coverage.percent) == (1, 2, 50)
    client = Client()
    client.force_login(world.staff)
    page = html.unescape(client.get(f"/promotions/{world.cohort.pk}/").content.decode())
    assert f"Semaine du {monday:%d/%m} : 50 % (1 / 2)" in page
    assert "1 / 2" in page
