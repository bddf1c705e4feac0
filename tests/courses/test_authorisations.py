"""Machine cover for minors: a learner under 18 on the day of a session on a machine
needs the school's derogation for that kind of machine, a medical fitness and a safety
training, all valid that day; staff see whose cover lapses soon."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from courses.models import Session
from courses.scheduling import ExpiringCover, learners_with_cover_expiring
from courses.services import series_create, session_create
from school.models import EnrolmentStatus, Learner, Role
from tests.factories import (
    CohortFactory,
    CourseFactory,
    DerogationFactory,
    EnrolmentFactory,
    LearnerFactory,
    MachineFactory,
    MedicalFitnessFactory,
    RoomFactory,
    SafetyTrainingFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
SESSION_DAY = datetime.date(2027, 1, 12)
BORN_2011 = datetime.date(2011, 1, 1)
NO_DEROGATION = (
    "Léa Morel (moins de 18 ans le 12/01/2027) ne peut pas travailler sur Tour CN 2 : "
    "pas de déclaration de dérogation valable pour « Tour CN »."
)
NO_FITNESS = (
    "Léa Morel (moins de 18 ans le 12/01/2027) ne peut pas travailler sur Tour CN 2 : "
    "pas d'avis médical d'aptitude valable."
)
NO_TRAINING = (
    "Léa Morel (moins de 18 ans le 12/01/2027) ne peut pas travailler sur Tour CN 2 : "
    "pas de formation à la sécurité sur « Tour CN »."
)


def day(month: int, day: int, year: int = 2027) -> datetime.date:
    return datetime.date(year, month, day)


class Cast:
    """Léa Morel, 16, and Hugo Petit, an adult, in the CAP cohort; Marc teaches turning
    in Atelier 1, where Tour CN 2 stands. Léa starts fully covered."""

    def __init__(self) -> None:
        self.marc = UserFactory(first_name="Marc", last_name="Aubertin", role=Role.TRAINER)
        self.workshop = RoomFactory(name="Atelier 1")
        self.lathe = MachineFactory(name="Tour CN 2", kind="cnc_lathe", room=self.workshop)
        self.cap = CohortFactory(name="CAP CIP 2026-2028")
        self.turning = CourseFactory(title="Tournage", programme=self.cap.programme)
        self.lea = LearnerFactory(first_name="Léa", last_name="Morel", birth_date=day(3, 14, 2010))
        self.hugo = LearnerFactory(first_name="Hugo", last_name="Petit", birth_date=day(5, 2, 2005))
        for learner in (self.lea, self.hugo):
            EnrolmentFactory(learner=learner, cohort=self.cap)
        self.derogation = DerogationFactory(
            declared_on=day(8, 25, 2026), machine_kinds=["cnc_lathe"]
        )
        self.fitness = MedicalFitnessFactory(
            learner=self.lea, issued_on=day(9, 1, 2026), valid_until=day(8, 31)
        )
        self.training = SafetyTrainingFactory(
            learner=self.lea, machine_kind="cnc_lathe", trained_on=day(9, 15, 2026)
        )

    def schedule(self, *learners: Learner, **overrides: Any) -> Session:
        """A session on Tour CN 2 on 12/01/2027 for ``learners`` (none: the cohort)."""
        fields: dict[str, Any] = {
            "course": self.turning,
            "cohort": self.cap,
            "trainer": self.marc,
            "room": self.workshop,
            "machines": [self.lathe],
            "learners": learners,
            "start": datetime.datetime.combine(SESSION_DAY, datetime.time(8), tzinfo=PARIS),
            "end": datetime.datetime.combine(SESSION_DAY, datetime.time(12), tzinfo=PARIS),
        }
        return session_create(**{**fields, **overrides})


@pytest.fixture
def cast() -> Cast:
    return Cast()


def refusal(attempt: Any) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        attempt()
    return refused.value.messages


def test_a_covered_minor_may_work_on_the_lathe(cast: Cast) -> None:
    assert cast.schedule(cast.lea).pk


def test_a_minor_without_a_derogation_is_refused(cast: Cast) -> None:
    cast.derogation.delete()

    assert refusal(lambda: cast.schedule(cast.lea)) == [NO_DEROGATION]


def test_a_derogation_for_other_kinds_of_machine_does_not_cover_the_lathe(cast: Cast) -> None:
    cast.derogation.machine_kinds = ["milling_machine", "drill"]
    cast.derogation.save()

    assert refusal(lambda: cast.schedule(cast.lea)) == [NO_DEROGATION]


def test_a_derogation_lapses_three_years_after_its_declaration(cast: Cast) -> None:
    cast.derogation.declared_on = day(1, 12, 2024)
    cast.derogation.save()

    assert refusal(lambda: cast.schedule(cast.lea)) == [NO_DEROGATION]


@pytest.mark.parametrize(
    ("issued_on", "valid_until"),
    [(day(9, 1, 2025), day(1, 11)), (day(1, 13), day(12, 31))],
    ids=["expired the day before", "issued the day after"],
)
def test_a_minor_without_a_medical_fitness_valid_that_day_is_refused(
    cast: Cast, issued_on: datetime.date, valid_until: datetime.date
) -> None:
    cast.fitness.issued_on, cast.fitness.valid_until = issued_on, valid_until
    cast.fitness.save()

    assert refusal(lambda: cast.schedule(cast.lea)) == [NO_FITNESS]


def test_a_medical_fitness_is_valid_up_to_its_last_day_included(cast: Cast) -> None:
    cast.fitness.valid_until = SESSION_DAY
    cast.fitness.save()

    assert cast.schedule(cast.lea).pk


@pytest.mark.parametrize(
    ("machine_kind", "trained_on"),
    [("milling_machine", day(9, 15, 2026)), ("cnc_lathe", day(1, 13))],
    ids=["trained on another kind", "trained the day after"],
)
def test_a_minor_without_safety_training_on_the_kind_is_refused(
    cast: Cast, machine_kind: str, trained_on: datetime.date
) -> None:
    cast.training.machine_kind, cast.training.trained_on = machine_kind, trained_on
    cast.training.save()

    assert refusal(lambda: cast.schedule(cast.lea)) == [NO_TRAINING]


def test_a_minor_without_any_cover_is_told_everything_missing_at_once(cast: Cast) -> None:
    for cover in (cast.derogation, cast.fitness, cast.training):
        cover.delete()

    assert refusal(lambda: cast.schedule(cast.lea)) == [
        "Léa Morel (moins de 18 ans le 12/01/2027) ne peut pas travailler sur Tour CN 2 : "
        "pas de déclaration de dérogation valable pour « Tour CN », "
        "pas d'avis médical d'aptitude valable, pas de formation à la sécurité sur « Tour CN »."
    ]


def test_an_adult_never_needs_cover(cast: Cast) -> None:
    cast.derogation.delete()

    assert cast.schedule(cast.hugo).pk


def test_a_minor_who_turns_18_before_the_session_needs_no_cover(cast: Cast) -> None:
    cast.derogation.delete()
    cast.lea.birth_date = day(1, 12, 2009)
    cast.lea.save()

    assert cast.schedule(cast.lea).pk


def test_a_minor_who_turns_18_the_day_after_still_needs_cover(cast: Cast) -> None:
    cast.derogation.delete()
    cast.lea.birth_date = day(1, 13, 2009)
    cast.lea.save()

    assert refusal(lambda: cast.schedule(cast.lea)) == [NO_DEROGATION]


def test_a_minor_away_from_the_machines_needs_no_cover(cast: Cast) -> None:
    cast.derogation.delete()

    assert cast.schedule(cast.lea, machines=[]).pk


def test_a_whole_cohort_session_checks_the_cohorts_minors_in_training(cast: Cast) -> None:
    cast.fitness.delete()
    away = LearnerFactory(first_name="Tom", last_name="Blanc", birth_date=day(6, 1, 2011))
    EnrolmentFactory(learner=away, cohort=cast.cap, status=EnrolmentStatus.SUSPENDED)

    assert refusal(lambda: cast.schedule()) == [NO_FITNESS]


def test_a_series_is_refused_on_the_dates_past_a_minors_cover(cast: Cast) -> None:
    cast.fitness.valid_until = day(1, 19)
    cast.fitness.save()
    sessions = Session.objects.count()

    with pytest.raises(ValidationError) as refused:
        series_create(
            course=cast.turning,
            cohort=cast.cap,
            trainer=cast.marc,
            room=cast.workshop,
            machines=[cast.lathe],
            learners=[cast.lea],
            weekday=SESSION_DAY.weekday(),
            start_time=datetime.time(8),
            end_time=datetime.time(12),
            first_date=SESSION_DAY,
            last_date=day(2, 2),
        )

    assert refused.value.messages == [
        f"Léa Morel (moins de 18 ans le {date}) ne peut pas travailler sur Tour CN 2 : "
        "pas d'avis médical d'aptitude valable."
        for date in ("26/01/2027", "02/02/2027")
    ]
    assert Session.objects.count() == sessions


def rows(expiring: list[ExpiringCover]) -> list[tuple[str, str, datetime.date]]:
    return [(str(row.learner), row.what, row.last_day) for row in expiring]


def test_staff_see_the_minors_whose_medical_fitness_lapses_within_60_days(cast: Cast) -> None:
    def minor(
        first_name: str, valid_until: datetime.date, birth_date: datetime.date = BORN_2011
    ) -> Learner:
        learner = LearnerFactory(first_name=first_name, last_name="Roux", birth_date=birth_date)
        EnrolmentFactory(learner=learner, cohort=cast.cap)
        MedicalFitnessFactory(learner=learner, valid_until=valid_until)
        return learner

    minor("Noah", day(7, 20))
    minor("Jade", day(9, 13))  # the 60th day
    minor("Zoé", day(9, 14))  # the 61st
    renewed = minor("Tom", day(8, 1))
    MedicalFitnessFactory(learner=renewed, issued_on=day(7, 25), valid_until=day(7, 31, 2028))
    minor("Eva", day(8, 1), birth_date=day(8, 2, 2009))  # 18 the day after: no need
    minor("Liam", day(7, 14))  # lapsed yesterday: no longer "expiring"
    gone = minor("Sam", day(8, 1))
    gone.enrolments.update(status=EnrolmentStatus.WITHDRAWN)

    with time_machine.travel(datetime.datetime(2027, 7, 15, 10, tzinfo=PARIS)):
        expiring = learners_with_cover_expiring()

    assert rows(expiring) == [
        ("Noah Roux", "avis médical d'aptitude", day(7, 20)),
        ("Léa Morel", "avis médical d'aptitude", day(8, 31)),
        ("Jade Roux", "avis médical d'aptitude", day(9, 13)),
    ]


def test_staff_see_the_trained_minors_of_a_derogation_that_lapses(cast: Cast) -> None:
    # Léa's medical fitness lasts; the derogation of 2024 covers lathes and mills until
    # 31/08/2027, and a new one already renews the mills.
    cast.fitness.valid_until = day(8, 31, 2028)
    cast.fitness.save()
    cast.derogation.declared_on = day(9, 1, 2024)
    cast.derogation.machine_kinds = ["cnc_lathe", "manual_lathe", "milling_machine"]
    cast.derogation.save()
    DerogationFactory(declared_on=day(6, 1), machine_kinds=["milling_machine"])
    SafetyTrainingFactory(learner=cast.lea, machine_kind="manual_lathe")
    SafetyTrainingFactory(learner=cast.lea, machine_kind="milling_machine")
    SafetyTrainingFactory(learner=cast.hugo, machine_kind="cnc_lathe")  # an adult
    untrained = LearnerFactory(birth_date=day(1, 1, 2011))
    EnrolmentFactory(learner=untrained, cohort=cast.cap)

    expiring = learners_with_cover_expiring(within_days=60, today=day(7, 15))

    assert rows(expiring) == [
        ("Léa Morel", "déclaration de dérogation (Tour CN, Tour conventionnel)", day(8, 31))
    ]


def test_nothing_lapses_outside_the_window(cast: Cast) -> None:
    assert learners_with_cover_expiring(within_days=30, today=day(7, 15)) == []


def test_a_minor_without_cover_cannot_join_a_cohort_that_works_on_lathes(cast: Cast) -> None:
    from school.services import enrolment_create

    newcomer = LearnerFactory(first_name="Zoé", last_name="Lambert", birth_date=day(3, 3, 2011))
    with time_machine.travel(day(1, 4), tick=False):
        cast.schedule()  # the whole cohort on the lathe, 12/01/2027
        with pytest.raises(ValidationError) as refused:
            enrolment_create(learner=newcomer, cohort=cast.cap)
    assert "Zoé Lambert (moins de 18 ans le 12/01/2027) ne peut pas travailler" in str(
        refused.value
    )
    assert not newcomer.enrolments.exists()

    adult = LearnerFactory(birth_date=day(3, 3, 2000))
    with time_machine.travel(day(1, 4), tick=False):
        enrolment_create(learner=adult, cohort=cast.cap)
    assert adult.enrolments.count() == 1
