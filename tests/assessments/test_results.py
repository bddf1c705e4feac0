"""Entering a class's results: the grid saved in one go, every bad line refused with
nothing written, the lock, the audit, and the levels entering the portfolio."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from assessments import services
from assessments.models import Result, ResultLevel, ResultStatus, Scale, Situation
from assessments.services import Entry
from courses.models import CompetencyEvidence, EvidenceSource
from courses.portfolio import portfolio_of
from school.models import Role
from tests.factories import EnrolmentFactory, LearnerFactory, UserFactory

from .world import DAY, a_class, levels

pytestmark = pytest.mark.django_db


def test_weights_that_do_not_sum_to_100_are_refused_and_nothing_is_written() -> None:
    world = a_class(1)
    with pytest.raises(ValidationError, match="font 90 %, pas 100 %"):
        world.situation(weights={world.competencies[0].pk: 50, world.competencies[1].pk: 40})
    assert not Situation.objects.exists()


def test_a_competency_outside_the_programme_is_refused() -> None:
    world, other = a_class(1), a_class(1)
    with pytest.raises(ValidationError, match="pas du référentiel"):
        world.situation(weights={other.competencies[0].pk: 100})


def test_a_trainer_who_does_not_teach_the_course_cannot_write_its_situation() -> None:
    world = a_class(1)
    with pytest.raises(PermissionDenied):
        world.situation(by=UserFactory(role=Role.TRAINER))
    assert not Situation.objects.exists()


def test_the_author_becomes_an_assessor() -> None:
    world = a_class(1)
    situation = world.situation()
    assert list(situation.assessors.all()) == [world.trainer]


def test_a_class_of_twelve_is_saved_in_one_go() -> None:
    world = a_class(12)
    situation = world.situation()
    entries = [
        Entry(
            learner=learner.pk,
            mark=f"{10 + n / 2}",
            levels=levels(world, "acquired", "in_progress"),
        )
        for n, learner in enumerate(world.learners[:10])
    ]
    entries += [
        Entry(learner=world.learners[10].pk, status=ResultStatus.ABSENT),
        Entry(learner=world.learners[11].pk, status=ResultStatus.EXEMPT),
    ]
    services.results_record(situation=situation, entries=entries, by=world.trainer)
    assert Result.objects.filter(situation=situation).count() == 12
    assert ResultLevel.objects.filter(result__situation=situation).count() == 20
    assert Result.objects.get(learner=world.learners[3]).mark == Decimal("11.50")
    assert Result.objects.get(learner=world.learners[10]).mark is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"mark": "20.5"}, r"n'est pas entre 0 et 20"),
        ({"mark": "-1"}, r"n'est pas entre 0 et 20"),
        ({"mark": "douze"}, "n'est pas une note"),
        ({"mark": "12.345"}, "deux décimales"),
        ({"mark": None}, "Il manque la note"),
        ({"levels": {}}, "pour chaque compétence"),
        ({"status": "absent"}, "ni note ni niveau"),
    ],
)
def test_a_bad_last_line_leaves_the_whole_grid_unwritten(entry: dict, message: str) -> None:
    world = a_class(3)
    situation = world.situation()
    good = [
        Entry(learner=learner.pk, mark="12", levels=levels(world, "acquired", "acquired"))
        for learner in world.learners[:2]
    ]
    bad = {
        "learner": world.learners[2].pk,
        "mark": "12",
        "levels": levels(world, "acquired", "mastered"),
    }
    bad.update(entry)
    with pytest.raises(ValidationError, match=message):
        services.results_record(
            situation=situation, entries=[*good, Entry(**bad)], by=world.trainer
        )
    assert not Result.objects.exists()


def test_a_learner_not_in_the_cohort_is_refused() -> None:
    world = a_class(1)
    situation = world.situation(scale=Scale.MARK, weights={})
    stranger = LearnerFactory()
    with pytest.raises(ValidationError, match="pas de la promotion"):
        services.results_record(
            situation=situation, entries=[Entry(learner=stranger.pk, mark="12")], by=world.trainer
        )


def test_a_learner_who_joined_after_the_situation_is_not_assessed_in_it() -> None:
    world = a_class(1)
    situation = world.situation(scale=Scale.MARK, weights={})
    late = EnrolmentFactory(
        cohort=world.cohort, start_date=DAY + datetime.timedelta(days=1)
    ).learner
    with pytest.raises(ValidationError, match="pas de la promotion"):
        services.results_record(
            situation=situation, entries=[Entry(learner=late.pk, mark="12")], by=world.trainer
        )


def test_a_mark_on_another_scale_is_checked_against_it() -> None:
    world = a_class(1)
    situation = world.situation(scale=Scale.MARK, weights={}, max_mark=Decimal(10))
    with pytest.raises(ValidationError, match="entre 0 et 10"):
        services.results_record(
            situation=situation,
            entries=[Entry(learner=world.learners[0].pk, mark="11")],
            by=world.trainer,
        )


def test_another_trainer_cannot_enter_results() -> None:
    world = a_class(1)
    situation = world.situation(scale=Scale.MARK, weights={})
    with pytest.raises(PermissionDenied):
        services.results_record(
            situation=situation,
            entries=[Entry(learner=world.learners[0].pk, mark="12")],
            by=UserFactory(role=Role.TRAINER),
        )


def test_no_change_after_the_lock_and_changes_before_are_audited() -> None:
    world = a_class(1)
    situation = world.ccf(scale=Scale.MARK, weights={})
    learner = world.learners[0].pk
    services.results_record(
        situation=situation, entries=[Entry(learner=learner, mark="11")], by=world.trainer
    )
    services.results_record(
        situation=situation, entries=[Entry(learner=learner, mark="13")], by=world.trainer
    )
    result = Result.objects.get()
    assert [(h.mark, h.history_user) for h in result.history.order_by("history_date")] == [
        (Decimal("11.00"), world.trainer),
        (Decimal("13.00"), world.trainer),
    ]
    services.situation_lock(situation=situation, by=world.staff)
    with pytest.raises(ValidationError, match="verrouillée"):
        services.results_record(
            situation=situation, entries=[Entry(learner=learner, mark="15")], by=world.staff
        )
    assert Result.objects.get().mark == Decimal("13.00")


def test_after_the_jury_date_a_ccf_situation_is_locked_by_itself() -> None:
    world = a_class(1)
    with time_machine.travel(datetime.date(2026, 11, 20), tick=False):
        situation = world.ccf(scale=Scale.MARK, weights={}, jury_date=datetime.date(2026, 12, 1))
        services.results_record(
            situation=situation,
            entries=[Entry(learner=world.learners[0].pk, mark="9")],
            by=world.trainer,
        )
    with (
        time_machine.travel(datetime.date(2026, 12, 2), tick=False),
        pytest.raises(ValidationError, match="verrouillée"),
    ):
        services.results_record(
            situation=situation,
            entries=[Entry(learner=world.learners[0].pk, mark="10")],
            by=world.trainer,
        )


def test_only_the_staff_lock_a_situation() -> None:
    world = a_class(1)
    situation = world.ccf(scale=Scale.MARK, weights={})
    with pytest.raises(PermissionDenied):
        services.situation_lock(situation=situation, by=world.trainer)


def test_publishing_makes_the_levels_portfolio_evidence_and_a_correction_changes_that_row() -> None:
    world = a_class(1)
    learner = world.learners[0]
    situation = world.situation()
    entry = Entry(learner=learner.pk, mark="12", levels=levels(world, "in_progress", "acquired"))
    services.results_record(situation=situation, entries=[entry], by=world.trainer)
    assert not CompetencyEvidence.objects.exists()  # not before the trainer publishes

    services.situation_publish(situation=situation, by=world.trainer)
    evidence = CompetencyEvidence.objects.filter(learner=learner, source=EvidenceSource.ASSESSMENT)
    assert sorted(evidence.values_list("competency__code", "level")) == [
        ("C2.1", "in_progress"),
        ("C2.2", "acquired"),
    ]
    entry.levels = levels(world, "mastered", "acquired")
    services.results_record(situation=situation, entries=[entry], by=world.trainer)
    assert evidence.count() == 2
    rows = {row.competency.code: row.level for row in portfolio_of(learner).rows}
    assert rows["C2.1"] == "mastered"


def test_a_situation_is_published_once_and_not_empty() -> None:
    world = a_class(1)
    situation = world.situation()
    with pytest.raises(ValidationError, match="Aucun résultat"):
        services.situation_publish(situation=situation, by=world.trainer)
