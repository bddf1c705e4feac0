from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from courses import services as course_services
from internships import services
from internships.models import Placement, PlacementStatus, ScheduleSlot
from school.models import Role
from tests.factories import (
    CohortFactory,
    ContactFactory,
    CourseFactory,
    EnrolmentFactory,
    LearnerFactory,
    PlacementFactory,
    RoomFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MINOR_BIRTH = datetime.date(2010, 3, 14)  # 16 in March 2027
ADULT_BIRTH = datetime.date(2005, 1, 2)


def week(hours_from: int, hours_to: int, days: range = range(5)) -> list[dict]:
    return [
        {
            "weekday": day,
            "start_time": datetime.time(hours_from),
            "end_time": datetime.time(hours_to),
        }
        for day in days
    ]


def save(placement: Placement, slots: list[dict]) -> Placement:
    return services.placement_save(placement, slots=slots)


def test_a_minor_s_forty_hour_week_is_refused_with_the_rule_quoted() -> None:
    placement = PlacementFactory(learner=LearnerFactory(birth_date=MINOR_BIRTH))
    with pytest.raises(ValidationError) as refusal:
        save(placement, week(8, 16))  # 8 h × 5 days = 40 h
    assert refusal.value.messages == [
        "Un mineur ne travaille pas plus de 35 heures par semaine (Code du travail, "
        "art. L3162-1) : cet horaire en compte 40 h."
    ]
    assert placement.slots.count() == 10  # the factory's 35 h schedule, untouched


def test_a_minor_works_at_most_eight_hours_a_day_and_never_at_night() -> None:
    placement = PlacementFactory(learner=LearnerFactory(birth_date=MINOR_BIRTH))
    slots = [
        *week(8, 12, range(3)),
        {"weekday": 3, "start_time": datetime.time(7), "end_time": datetime.time(17)},
        {"weekday": 4, "start_time": datetime.time(18), "end_time": datetime.time(23)},
    ]
    with pytest.raises(ValidationError) as refusal:
        save(placement, slots)
    messages = refusal.value.messages
    assert any("8 heures par jour" in m and "jeudi en compte 10 h" in m for m in messages)
    assert any("entre 22 heures et 6 heures" in m and "vendredi 18:00–23:00" in m for m in messages)


def test_an_adult_may_work_forty_hours_a_week() -> None:
    placement = PlacementFactory(learner=LearnerFactory(birth_date=ADULT_BIRTH))
    save(placement, week(8, 16))
    assert placement.slots.count() == 5


def test_the_minor_rule_applies_on_the_first_day_of_the_placement() -> None:
    # 18 on 9 March 2027: a minor on the 8th, when the placement starts.
    learner = LearnerFactory(birth_date=datetime.date(2009, 3, 9))
    placement = PlacementFactory(learner=learner)
    with pytest.raises(ValidationError, match="35 heures"):
        save(placement, week(8, 16))


def test_overlapping_spans_of_one_day_are_refused() -> None:
    placement = PlacementFactory(learner=LearnerFactory(birth_date=ADULT_BIRTH))
    slots = [
        {"weekday": 0, "start_time": datetime.time(8), "end_time": datetime.time(12)},
        {"weekday": 0, "start_time": datetime.time(11), "end_time": datetime.time(15)},
    ]
    with pytest.raises(ValidationError, match="se chevauchent"):
        save(placement, slots)


def test_a_placement_may_not_overlap_the_learner_s_sessions() -> None:
    learner = LearnerFactory()
    cohort = CohortFactory()
    EnrolmentFactory(learner=learner, cohort=cohort)
    SessionFactory(
        cohort=cohort,
        course=CourseFactory(programme=cohort.programme, title="Métrologie"),
        start=datetime.datetime(2027, 3, 10, 7, tzinfo=datetime.UTC),
    )
    placement = PlacementFactory(learner=learner)
    with pytest.raises(ValidationError) as refusal:
        save(placement, week(8, 12))
    assert refusal.value.messages == [
        f"La période chevauche une séance de {learner} : « Métrologie » du 10/03/2027 à 08:00."
    ]


def test_a_placement_may_not_overlap_another_placement_of_the_learner() -> None:
    first = PlacementFactory()
    second = PlacementFactory(
        learner=first.learner,
        start_date=datetime.date(2027, 3, 22),
        end_date=datetime.date(2027, 4, 2),
    )
    with pytest.raises(ValidationError, match="chevauche un autre stage"):
        save(second, week(8, 12))


def test_a_session_may_not_be_planned_while_a_learner_is_away_on_placement() -> None:
    learner = LearnerFactory(first_name="Léa", last_name="Morel")
    cohort = CohortFactory()
    EnrolmentFactory(learner=learner, cohort=cohort)
    placement = PlacementFactory(learner=learner)
    with pytest.raises(ValidationError) as refusal:
        course_services.session_create(
            course=CourseFactory(programme=cohort.programme),
            cohort=cohort,
            trainer=UserFactory(role=Role.TRAINER),
            room=RoomFactory(),
            start=datetime.datetime(2027, 3, 15, 7, tzinfo=datetime.UTC),
            end=datetime.datetime(2027, 3, 15, 11, tzinfo=datetime.UTC),
        )
    assert (
        f"Léa Morel est en stage chez {placement.company} du 08/03/2027 au 26/03/2027."
        in refusal.value.messages
    )


def test_a_cancelled_placement_frees_the_period() -> None:
    placement = PlacementFactory()
    services.placement_cancel(placement, reason="Entreprise fermée", by=UserFactory())
    other = PlacementFactory(learner=placement.learner)
    save(other, week(8, 12))
    assert Placement.objects.get(pk=placement.pk).status == PlacementStatus.CANCELLED


def test_the_tutor_must_be_flagged_and_the_signatory_authorised() -> None:
    placement = PlacementFactory()
    placement.tutor = ContactFactory(company=placement.company, is_tutor=False)
    placement.signatory = ContactFactory(company=placement.company, is_signatory=False)
    with pytest.raises(ValidationError) as refusal:
        save(placement, week(8, 12))
    assert any("n'est pas déclaré tuteur" in m for m in refusal.value.messages)
    assert any("n'est pas habilité à signer" in m for m in refusal.value.messages)


def test_planned_presence_counts_the_scheduled_days_of_the_period() -> None:
    placement = PlacementFactory()  # 3 weeks, 35 h a week
    slots = list(placement.slots.all())
    assert len(placement.presence_days(slots)) == 15
    assert placement.planned_presence(slots) == datetime.timedelta(hours=105)
    assert placement.weeks == Decimal("3.0")  # 15 working days
    assert ScheduleSlot.objects.filter(placement=placement).count() == 10
