"""Marks out of 20, the proposed CCF marks, the term's report and the bulletin."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assessments import services
from assessments.documents import jury_learners
from assessments.marks import proposed_marks, term_reports
from assessments.models import ResultStatus, Scale
from assessments.services import Entry
from courses.models import AttendanceStatus
from school import services as school_services
from school.models import Enrolment
from tests.factories import AttendanceFactory, SessionFactory
from tests.pdf import text_of

from .world import a_class, levels

pytestmark = pytest.mark.django_db


def test_a_situation_by_levels_alone_has_the_mark_its_grid_gives() -> None:
    world = a_class(1)
    situation = world.situation(scale=Scale.LEVELS)  # weights 60 / 40
    services.results_record(
        situation=situation,
        entries=[
            Entry(learner=world.learners[0].pk, levels=levels(world, "mastered", "in_progress"))
        ],
        by=world.trainer,
    )
    [row] = term_reports(world.term, world.learners)[world.learners[0].pk].courses
    # 60 × 1 + 40 × 1/3 = 73.33 % of 20
    assert row.average == Decimal("14.67")


def test_the_course_average_weighs_by_coefficients_and_brings_marks_to_20() -> None:
    world = a_class(3)
    first = world.situation(scale=Scale.MARK, weights={}, max_mark=Decimal(10), coefficient=1)
    second = world.situation(scale=Scale.MARK, weights={}, title="Bilan", coefficient=3)
    marks = {first: ["5", "10", "2"], second: ["12", "16", None]}
    for situation, typed in marks.items():
        services.results_record(
            situation=situation,
            entries=[
                Entry(learner=learner.pk, mark=mark)
                if mark
                else Entry(learner=learner.pk, status=ResultStatus.ABSENT)
                for learner, mark in zip(world.learners, typed, strict=True)
            ],
            by=world.trainer,
        )
    reports = term_reports(world.term, world.learners)
    averages = [reports[learner.pk].courses[0].average for learner in world.learners]
    # (10 × 1 + 12 × 3) / 4, (20 + 48) / 4, and an absence not counted: 4 / 1
    assert averages == [Decimal("11.50"), Decimal("17.00"), Decimal("4.00")]
    spread = reports[world.learners[0].pk].courses[0].class_
    assert (spread.average, spread.lowest, spread.highest) == (
        Decimal("10.83"),
        Decimal("4.00"),
        Decimal("17.00"),
    )
    assert reports[world.learners[0].pk].class_.highest == Decimal("17.00")


def test_a_situation_outside_the_term_is_not_in_its_report() -> None:
    world = a_class(1)
    situation = world.situation(scale=Scale.MARK, weights={}, date=datetime.date(2027, 1, 10))
    services.results_record(
        situation=situation,
        entries=[Entry(learner=world.learners[0].pk, mark="3")],
        by=world.trainer,
    )
    assert term_reports(world.term, world.learners)[world.learners[0].pk].courses == []


@pytest.mark.parametrize(
    ("second", "expected", "state"),
    [
        (
            Entry(learner=0, mark="16"),
            Decimal("13.00"),
            "complete",
        ),  # (10 + 16 × 2) / 3 = 14 ? no: below
        (Entry(learner=0, status=ResultStatus.ABSENT), Decimal("3.33"), "complete"),
        (Entry(learner=0, status=ResultStatus.EXCUSED), None, "incomplete"),
        (Entry(learner=0, status=ResultStatus.EXEMPT), Decimal("10.00"), "complete"),
    ],
)
def test_the_proposed_ccf_mark_follows_the_exam_rules(
    second: Entry, expected: Decimal | None, state: str
) -> None:
    world = a_class(1)
    learner = world.learners[0]
    workshop = world.ccf(scale=Scale.MARK, weights={}, coefficient=1)
    placement = world.ccf(scale=Scale.MARK, weights={}, title="Situation 2", coefficient=2)
    services.results_record(
        situation=workshop, entries=[Entry(learner=learner.pk, mark="10")], by=world.trainer
    )
    second.learner = learner.pk
    if second.status == ResultStatus.ASSESSED:
        second.mark = "14.5"  # (10 + 14.5 × 2) / 3 = 13
    services.results_record(situation=placement, entries=[second], by=world.trainer)
    units, [row] = proposed_marks(world.cohort, [learner])
    assert units == [world.unit]
    assert (row.units[0].mark, row.units[0].state) == (expected, state)


def test_a_unit_with_a_situation_not_yet_assessed_is_incomplete() -> None:
    world = a_class(2)
    situation = world.ccf(scale=Scale.MARK, weights={})
    services.results_record(
        situation=situation,
        entries=[Entry(learner=world.learners[0].pk, mark="12")],
        by=world.trainer,
    )
    _units, rows = proposed_marks(world.cohort, world.learners)
    assert [(row.units[0].mark, row.units[0].state) for row in rows] == [
        (Decimal("12.00"), "complete"),
        (None, "incomplete"),
    ]


def test_the_jury_decides_for_those_who_did_not_leave() -> None:
    world = a_class(2)
    enrolment = Enrolment.objects.get(learner=world.learners[1])
    from school.services import enrolment_change_status

    enrolment_change_status(
        enrolment=enrolment, status="withdrawn", by=world.staff, reason="Départ"
    )
    assert jury_learners(world.cohort) == [world.learners[0]]


def test_the_term_report_takes_its_attendance_from_the_emargement() -> None:
    world = a_class(1)
    learner = world.learners[0]
    session = SessionFactory(
        cohort=world.cohort,
        course=world.course,
        trainer=world.trainer,
        start=datetime.datetime(2026, 11, 3, 7, tzinfo=datetime.UTC),
    )
    AttendanceFactory(session=session, learner=learner, status=AttendanceStatus.ABSENT)
    report = term_reports(world.term, [learner])[learner.pk]
    assert report.hours.unjustified_absence == Decimal("4.00")


def test_the_bulletin_is_issued_numbered_with_marks_class_figures_and_comments() -> None:
    world = a_class(2)
    situation = world.situation()
    services.results_record(
        situation=situation,
        entries=[
            Entry(
                learner=world.learners[0].pk,
                mark="15.5",
                levels=levels(world, "acquired", "mastered"),
            ),
            Entry(
                learner=world.learners[1].pk,
                mark="9",
                levels=levels(world, "in_progress", "acquired"),
            ),
        ],
        by=world.trainer,
    )
    learner = world.learners[0]
    services.comment_save(
        term=world.term,
        learner=learner,
        course=world.course,
        text="Tournage soigné.",
        by=world.trainer,
    )
    services.comment_save(
        term=world.term,
        learner=learner,
        course=None,
        text="Bon trimestre.",
        by=world.cohort.head_trainer,
    )
    document = school_services.document_issue(
        kind="bulletin",
        subject=Enrolment.objects.get(learner=learner),
        by=world.staff,
        start=world.term.start_date,
        end=world.term.end_date,
    )
    assert document.number.startswith("MT-2026-")
    text = text_of(document.file.read(), layout=False)
    for mention in [
        "Bulletin de période",
        document.number,
        "1er trimestre",
        "15,5/20",
        "15,50",  # the course average
        "12,25 (9,00 – 15,50)",  # the class's
        "Tournage soigné.",
        "Bon trimestre.",
        "C2.2 Maîtrisé",
        "Assiduité",
    ]:
        assert mention in text, mention


def test_a_bulletin_for_a_period_that_is_no_term_is_refused() -> None:
    world = a_class(1)
    with pytest.raises(ValidationError, match="pas de période"):
        school_services.document_issue(
            kind="bulletin",
            subject=Enrolment.objects.get(learner=world.learners[0]),
            start=datetime.date(2026, 9, 1),
            end=datetime.date(2026, 9, 30),
        )


def test_a_trainer_comments_on_their_course_and_the_head_trainer_overall() -> None:
    world = a_class(1)
    learner = world.learners[0]
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.comment_save(
            term=world.term, learner=learner, course=None, text="x", by=world.trainer
        )
    comment = services.comment_save(
        term=world.term, learner=learner, course=world.course, text="Bien", by=world.trainer
    )
    assert comment is not None
    assert (
        services.comment_save(
            term=world.term, learner=learner, course=world.course, text=" ", by=world.trainer
        )
        is None
    )


def test_terms_of_a_cohort_never_overlap() -> None:
    world = a_class(1)
    with pytest.raises(ValidationError, match="chevauche"):
        services.term_save(
            by=world.staff,
            cohort=world.cohort,
            name="2e trimestre",
            start_date=datetime.date(2026, 12, 1),
            end_date=datetime.date(2027, 3, 20),
        )
