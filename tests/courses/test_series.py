"""Weekly series: a session every week between two dates, closures skipped, local wall-clock
times across DST, and all or nothing with every conflict reported at once."""

from __future__ import annotations

import datetime
import math
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Session, SessionSeries
from courses.services import series_create
from school.models import Role
from tests.factories import (
    ClosurePeriodFactory,
    CohortFactory,
    CourseFactory,
    DerogationFactory,
    EnrolmentFactory,
    LearnerFactory,
    MachineFactory,
    MedicalFitnessFactory,
    RoomFactory,
    SafetyTrainingFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
MONDAY, TUESDAY = 0, 1


def paris(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=PARIS)


class Cast:
    def __init__(self) -> None:
        self.marc = UserFactory(first_name="Marc", last_name="Aubertin", role=Role.TRAINER)
        self.office = UserFactory(role=Role.STAFF)
        self.workshop = RoomFactory(name="Atelier 1")
        self.lathe = MachineFactory(name="Tour CN 2", room=self.workshop)
        self.cap = CohortFactory(name="CAP CIP 2026-2028")
        self.lea = LearnerFactory(
            first_name="Léa", last_name="Morel", birth_date=datetime.date(2007, 5, 2)
        )
        EnrolmentFactory(learner=self.lea, cohort=self.cap)
        self.turning = CourseFactory(title="Tournage", programme=self.cap.programme)

    def series(self, **overrides: Any) -> SessionSeries:
        """Mondays 8 h – 12 h from 04/01/2027 to 25/01/2027, but for ``overrides``."""
        fields: dict[str, Any] = {
            "course": self.turning,
            "cohort": self.cap,
            "trainer": self.marc,
            "room": self.workshop,
            "weekday": MONDAY,
            "start_time": datetime.time(8),
            "end_time": datetime.time(12),
            "first_date": datetime.date(2027, 1, 4),
            "last_date": datetime.date(2027, 1, 25),
            "by": self.office,
        }
        return series_create(**{**fields, **overrides})


@pytest.fixture
def cast() -> Cast:
    return Cast()


def local_starts(series: SessionSeries) -> list[datetime.datetime]:
    return [session.start.astimezone(PARIS) for session in series.sessions.order_by("start")]


def test_a_series_has_a_session_every_week_from_its_first_to_its_last_date(cast: Cast) -> None:
    series = cast.series(learners=[cast.lea], machines=[cast.lathe])

    assert local_starts(series) == [
        paris(datetime.date(2027, 1, day), 8) for day in (4, 11, 18, 25)
    ]
    assert series.created_by == cast.office
    for session in series.sessions.all():
        assert session.end - session.start == datetime.timedelta(hours=4)
        assert list(session.learners.all()) == [cast.lea]
        assert list(session.machines.all()) == [cast.lathe]


def test_a_series_starting_midweek_begins_on_its_next_weekday(cast: Cast) -> None:
    series = cast.series(
        weekday=TUESDAY, first_date=datetime.date(2027, 1, 6), last_date=datetime.date(2027, 1, 19)
    )

    assert [start.date() for start in local_starts(series)] == [
        datetime.date(2027, 1, 12),
        datetime.date(2027, 1, 19),
    ]


def test_a_series_skips_school_holidays_and_public_holidays(cast: Cast) -> None:
    ClosurePeriodFactory(
        name="Vacances d'hiver",
        kind="school_holidays",
        start_date=datetime.date(2027, 2, 13),
        end_date=datetime.date(2027, 2, 28),
    )
    ClosurePeriodFactory(
        name="Lundi de Pâques",
        kind="public_holiday",
        start_date=datetime.date(2027, 3, 29),
        end_date=datetime.date(2027, 3, 29),
    )

    series = cast.series(first_date=datetime.date(2027, 2, 8), last_date=datetime.date(2027, 4, 5))

    assert [start.date() for start in local_starts(series)] == [
        datetime.date(2027, 2, 8),
        datetime.date(2027, 3, 1),
        datetime.date(2027, 3, 8),
        datetime.date(2027, 3, 15),
        datetime.date(2027, 3, 22),
        datetime.date(2027, 4, 5),
    ]


@pytest.mark.parametrize(
    ("first_date", "utc_hours"),
    [(datetime.date(2027, 3, 23), [7, 6]), (datetime.date(2027, 10, 26), [6, 7])],
    ids=["spring forward (28/03/2027)", "fall back (31/10/2027)"],
)
def test_a_series_across_a_dst_change_keeps_its_local_times(
    cast: Cast, first_date: datetime.date, utc_hours: list[int]
) -> None:
    series = cast.series(
        weekday=TUESDAY, first_date=first_date, last_date=first_date + datetime.timedelta(weeks=1)
    )

    sessions = list(series.sessions.order_by("start"))
    assert [session.start.astimezone(PARIS).hour for session in sessions] == [8, 8]
    assert [session.end.astimezone(PARIS).hour for session in sessions] == [12, 12]
    assert [session.start.astimezone(datetime.UTC).hour for session in sessions] == utc_hours


def test_a_series_with_three_conflicts_reports_all_three_and_writes_nothing(cast: Cast) -> None:
    SessionFactory(
        course=CourseFactory(title="Métrologie"),
        trainer=cast.marc,
        start=paris(datetime.date(2027, 1, 11), 10),
        end=paris(datetime.date(2027, 1, 11), 11),
    )
    SessionFactory(
        course=CourseFactory(title="Fraisage CN"),
        room=cast.workshop,
        start=paris(datetime.date(2027, 1, 18), 7),
        end=paris(datetime.date(2027, 1, 18), 9),
    )
    SessionFactory(
        course=CourseFactory(title="Français"),
        cohort=cast.cap,
        start=paris(datetime.date(2027, 1, 25), 11),
        end=paris(datetime.date(2027, 1, 25), 13),
    )
    sessions, series = Session.objects.count(), SessionSeries.objects.count()

    with pytest.raises(ValidationError) as refused:
        cast.series()

    assert refused.value.messages == [
        "Le formateur Marc Aubertin est déjà en « Métrologie » le 11/01 de 10 h à 11 h.",
        "La salle Atelier 1 est déjà occupée par « Fraisage CN » le 18/01 de 7 h à 9 h.",
        "La promotion CAP CIP 2026-2028 a déjà « Français » le 25/01 de 11 h à 13 h.",
    ]
    assert (Session.objects.count(), SessionSeries.objects.count()) == (sessions, series)


def test_a_fault_of_the_pattern_is_reported_once_not_on_every_date(cast: Cast) -> None:
    outsider = LearnerFactory(first_name="Jade", last_name="Fabre")

    with pytest.raises(ValidationError) as refused:
        cast.series(learners=[outsider])

    assert refused.value.messages == [
        "Jade Fabre n'est pas en formation dans la promotion CAP CIP 2026-2028."
    ]


def test_a_series_with_an_impossible_pattern_lists_every_fault(cast: Cast) -> None:
    with pytest.raises(ValidationError) as refused:
        cast.series(
            weekday=7,
            start_time=datetime.time(14),
            end_time=datetime.time(13),
            first_date=datetime.date(2027, 2, 1),
            last_date=datetime.date(2027, 1, 1),
        )

    assert refused.value.messages == [
        "Le jour de la semaine va de 0 (lundi) à 6 (dimanche).",
        "L'heure de fin des séances doit suivre leur heure de début.",
        "La dernière date de la série précède la première.",
    ]
    assert not SessionSeries.objects.exists()


def test_a_series_whose_every_date_is_closed_is_refused(cast: Cast) -> None:
    ClosurePeriodFactory(start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 1, 31))

    with pytest.raises(ValidationError) as refused:
        cast.series()

    assert refused.value.messages == ["Aucune séance : toutes les dates de la série sont fermées."]
    assert not SessionSeries.objects.exists()


def _series_of(weeks: int) -> CaptureQueriesContext:
    """A series of ``weeks`` sessions for a group with a minor, on a machine, against a
    timetable that already has sessions: every part of the check has work to do."""
    trainer = UserFactory(role=Role.TRAINER)
    room = RoomFactory()
    lathe = MachineFactory(room=room)
    cohort = CohortFactory()
    adult = LearnerFactory(birth_date=datetime.date(2000, 1, 1))
    minor = LearnerFactory(birth_date=datetime.date(2012, 1, 1))
    for learner in (adult, minor):
        EnrolmentFactory(learner=learner, cohort=cohort)
    MedicalFitnessFactory(learner=minor, valid_until=datetime.date(2029, 8, 31))
    SafetyTrainingFactory(learner=minor)
    for week in range(weeks):
        SessionFactory(
            trainer=trainer,
            room=room,
            cohort=cohort,
            machines=[lathe],
            learners=[adult],
            start=paris(datetime.date(2027, 1, 5) + datetime.timedelta(weeks=week), 8),
        )
    with CaptureQueriesContext(connection) as queries:
        series_create(
            course=CourseFactory(programme=cohort.programme),
            cohort=cohort,
            trainer=trainer,
            room=room,
            learners=[adult, minor],
            machines=[lathe],
            weekday=MONDAY,
            start_time=datetime.time(8),
            end_time=datetime.time(12),
            first_date=datetime.date(2027, 1, 4),
            last_date=datetime.date(2027, 1, 4) + datetime.timedelta(weeks=weeks - 1),
        )
    assert Session.objects.filter(series__isnull=False, cohort=cohort).count() == weeks
    return queries


def _session_inserts(queries: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('INSERT INTO "courses_session" ')
    ]


def test_creating_a_series_costs_as_many_queries_for_100_sessions_as_for_10() -> None:
    DerogationFactory()

    ten, hundred = _series_of(10), _series_of(100)

    reads_and_other_writes = [
        len(queries) - len(_session_inserts(queries)) for queries in (ten, hundred)
    ]
    assert reads_and_other_writes[0] == reads_and_other_writes[1]
    # Apart from the batches SQLite needs to stay under its limit of parameters per
    # statement (PostgreSQL inserts them at once).
    fields = [field for field in Session._meta.concrete_fields if not field.primary_key]
    batch = connection.ops.bulk_batch_size(fields, [Session()] * 100)
    assert len(_session_inserts(hundred)) == math.ceil(100 / batch)
    assert len(_session_inserts(ten)) == 1
