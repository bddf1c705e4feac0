"""The documents that prove the school's week: the attestation de fin de formation,
the attestation d'assiduité and the feuille d'émargement.

Each kind is a template under ``templates/documents/`` and one function that builds
its context; ``register_kinds`` hands them to the school's document engine from
``CoursesConfig.ready`` (the engine lives below this app and never imports it).
Every figure comes from the émargement through ``hours_report``: none is typed.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from school.documents import DocumentKind, Subject, register_kind, signing_place
from school.models import Cohort, Enrolment, IssuedDocument, Learner
from school.privacy import Anonymisation

from .attendance import Hours, HoursReport, hours_report, hours_reports, local_midnight
from .models import (
    Attendance,
    Competency,
    Course,
    CourseKind,
    Inspection,
    Session,
    SessionQuerySet,
)
from .portfolio import portfolio_of

ONE_DAY = datetime.timedelta(days=1)

# A long name or cohort must shorten the register's label, not make the issue fail.
SUBJECT_LENGTH = IssuedDocument._meta.get_field("subject").max_length or 255


def _label(text: str) -> str:
    return Truncator(text).chars(SUBJECT_LENGTH)


def _starting_between(
    sessions: SessionQuerySet, first: datetime.date, last: datetime.date
) -> SessionQuerySet:
    """The sessions starting on a local day from ``first`` to ``last`` included: the
    days ``hours_attended`` counts, so that lists and totals agree."""
    return sessions.filter(
        start__gte=local_midnight(first), start__lt=local_midnight(last + ONE_DAY)
    )


# ---------------------------------------------------------------------------------------
# Attestation de fin de formation: subject, an enrolment.
# ---------------------------------------------------------------------------------------


def completion_context(enrolment: Enrolment) -> dict[str, Any]:
    return completion_contexts([enrolment])[0]


def completion_contexts(enrolments: Sequence[Enrolment]) -> list[dict[str, Any]]:
    """Each enrolment's attestation: its hours from the émargement, the modules followed
    and their competencies; a class's enrolments are read together, in three queries
    (one more for each other period of enrolment)."""
    # A learner still in training is attested up to the cohort's planned end.
    periods = {
        enrolment.pk: (enrolment.start_date, enrolment.end_date or enrolment.cohort.end_date)
        for enrolment in enrolments
    }
    reports: dict[int, HoursReport] = {}
    for (first, last), together in groupby(
        sorted(enrolments, key=lambda enrolment: periods[enrolment.pk]),
        key=lambda enrolment: periods[enrolment.pk],
    ):
        learners = [enrolment.learner_id for enrolment in together]
        reports.update(hours_reports(learners, start=first, end=last))
    # A module is followed once the learner was there (present or late) at one of its
    # sessions: a module missed entirely says nothing about its competencies.
    followed = {
        enrolment.pk: {
            course
            for course, hours in reports[enrolment.learner_id].by_course.items()
            if hours.attended
        }
        for enrolment in enrolments
    }
    every_course = set().union(*followed.values())
    courses = list(Course.objects.filter(pk__in=every_course).order_by("code", "title"))
    taught_in: dict[int, set[int]] = defaultdict(set)  # competency id → its courses
    competencies = {}
    for competency in (
        Competency.objects.filter(courses__in=every_course)
        .annotate(course=F("courses"))
        .select_related("block")
        .order_by("block__code", "code")
    ):
        competencies[competency.pk] = competency
        taught_in[competency.pk].add(competency.course)
    contexts = []
    for enrolment in enrolments:
        first, last = periods[enrolment.pk]
        mine = [course for course in courses if course.pk in followed[enrolment.pk]]
        kinds = {course.kind for course in mine}
        contexts.append(
            {
                "learner": enrolment.learner,
                "cohort": enrolment.cohort,
                "programme": enrolment.cohort.programme,
                "first_day": first,
                "last_day": last,
                "hours": reports[enrolment.learner_id].total,
                "courses": mine,
                "course_kinds": [label for value, label in CourseKind.choices if value in kinds],
                "competencies": [
                    competency
                    for competency in competencies.values()
                    if taught_in[competency.pk] & followed[enrolment.pk]
                ],
                "place": signing_place(),
            }
        )
    return contexts


def completion_subject(enrolment: Enrolment) -> Subject:
    return Subject(
        enrolment.learner,
        _label(
            _("Attestation de fin de formation — %(learner)s — %(cohort)s")
            % {"learner": enrolment.learner, "cohort": enrolment.cohort}
        ),
    )


# ---------------------------------------------------------------------------------------
# Attestation d'assiduité: subject, a learner; parameters, the period's first and last day.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseHours:
    course: Course
    hours: Hours


def attendance_context(
    learner: Learner, *, start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    if end < start:
        raise ValidationError(_("La fin de la période précède son début."))
    report = hours_report(learner=learner, start=start, end=end)
    courses = Course.objects.filter(pk__in=list(report.by_course)).order_by("code", "title")
    enrolments = (
        learner.enrolments.filter(start_date__lte=end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        .select_related("cohort__programme")
        .order_by("start_date")
    )
    return {
        "learner": learner,
        "enrolments": list(enrolments),
        "first_day": start,
        "last_day": end,
        "hours": report.total,
        "by_course": [CourseHours(course, report.by_course[course.pk]) for course in courses],
        "place": signing_place(),
    }


def attendance_subject(learner: Learner, *, start: datetime.date, end: datetime.date) -> Subject:
    return Subject(
        learner,
        _label(
            _("Attestation d'assiduité — %(learner)s — du %(start)s au %(end)s")
            % {"learner": learner, "start": f"{start:%d/%m/%Y}", "end": f"{end:%d/%m/%Y}"}
        ),
    )


# ---------------------------------------------------------------------------------------
# Feuille d'émargement: subject, a cohort; parameter, any day of the week (Monday–Sunday).
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetLine:
    learner: Learner
    attendance: Attendance | None


@dataclass(frozen=True)
class SheetSession:
    session: Session
    lines: list[SheetLine]


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def sign_in_sheet_context(cohort: Cohort, *, week: datetime.date) -> dict[str, Any]:
    monday = _monday(week)
    sunday = monday + 6 * ONE_DAY
    sessions = list(
        _starting_between(Session.objects.active().filter(cohort=cohort), monday, sunday)
        .select_related("course", "trainer", "room", "attendance_validated_by")
        .order_by("start", "pk")
    )
    ids = [session.pk for session in sessions]
    lines = {
        (line.session_id, line.learner_id): line
        for line in Attendance.objects.filter(session_id__in=ids)
    }
    # Whoever was in the cohort or in one of the week's groups may be on the sheet; the
    # rule of schedules and hours (``attended_by``, with the enrolment's dates) then says
    # whose each session was, so that the sheet and the attestations agree even for a
    # learner who joined or left since.
    candidates = (
        Learner.objects.filter(Q(enrolments__cohort=cohort) | Q(group_sessions__in=ids))
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )
    taking_part: dict[int, list[Learner]] = {pk: [] for pk in ids}
    for learner in candidates if ids else []:
        taken = set(
            Session.objects.attended_by(learner).filter(pk__in=ids).values_list("pk", flat=True)
        )
        # A recorded line is printed whatever the dates say: the sheet is the roll call's proof.
        taken |= {session_id for session_id, learner_id in lines if learner_id == learner.pk}
        for pk in ids:
            if pk in taken:
                taking_part[pk].append(learner)
    sheet = [
        SheetSession(
            session,
            [
                SheetLine(learner, lines.get((session.pk, learner.pk)))
                for learner in taking_part[session.pk]
            ],
        )
        for session in sessions
    ]
    return {
        "cohort": cohort,
        "programme": cohort.programme,
        "monday": monday,
        "sunday": sunday,
        "sessions": sheet,
    }


def sign_in_sheet_subject(cohort: Cohort, *, week: datetime.date) -> Subject:
    # A cohort's sheet is no one learner's document: the register files it under none.
    return Subject(
        None,
        _label(
            _("Feuille d'émargement — %(cohort)s — semaine du %(monday)s")
            % {"cohort": cohort, "monday": f"{_monday(week):%d/%m/%Y}"}
        ),
    )


def sign_in_sheets_of(learner: Learner) -> list[IssuedDocument]:
    """The feuilles d'émargement issued for a week this learner may be printed on: a week
    of one of their sessions or of their enrolment in a cohort. Found by the label the
    register files them under (they belong to no one learner)."""
    weeks: set[tuple[int, datetime.date]] = set()
    cohorts: dict[int, Cohort] = {}
    for session in (
        Session.objects.filter(Q(attendances__learner=learner) | Q(learners=learner))
        .select_related("cohort")
        .distinct()
    ):
        cohorts[session.cohort_id] = session.cohort
        weeks.add((session.cohort_id, _monday(timezone.localdate(session.start))))
    for enrolment in Enrolment.objects.filter(learner=learner).select_related("cohort"):
        cohorts[enrolment.cohort_id] = enrolment.cohort
        monday, last = (
            _monday(enrolment.start_date),
            enrolment.end_date or enrolment.cohort.end_date,
        )
        while monday <= last:
            weeks.add((enrolment.cohort_id, monday))
            monday += datetime.timedelta(weeks=1)
    # Labelled as when they were issued: in the school's language.
    with translation.override(settings.LANGUAGE_CODE):
        labels = {
            sign_in_sheet_subject(cohorts[cohort], week=monday).label for cohort, monday in weeks
        }
    return list(
        IssuedDocument.objects.filter(
            kind="feuille_emargement", learner__isnull=True, subject__in=labels
        )
    )


def anonymise_sign_in_sheets(erasure: Anonymisation) -> None:
    """The stored sheets a learner who left may be printed on go: they print the name."""
    for sheet in sign_in_sheets_of(erasure.learner):
        erasure.delete_file(sheet.file)


# ---------------------------------------------------------------------------------------
# Rapport de contrôle: subject, an order's inspection, once countersigned.
# ---------------------------------------------------------------------------------------


def inspection_context(inspection: Inspection) -> dict[str, Any]:
    order = inspection.order
    report = inspection.report()
    return {
        "order": order,
        "company": order.company,
        "inspection": inspection,
        "report": report,
        "parts": report.parts,
        "place": signing_place(),
    }


def inspection_subject(inspection: Inspection) -> Subject:
    order = inspection.order
    return Subject(
        None,
        _label(
            _("Rapport de contrôle — %(reference)s × %(quantity)s — %(company)s")
            % {"reference": order.reference, "quantity": order.quantity, "company": order.company}
        ),
    )


# ---------------------------------------------------------------------------------------
# Livret de compétences: subject, a learner; from their portfolio.
# ---------------------------------------------------------------------------------------


def competency_booklet_context(learner: Learner) -> dict[str, Any]:
    book = portfolio_of(learner)
    if book.programme is None:
        raise ValidationError(
            _("%(learner)s n'est inscrit dans aucune formation.") % {"learner": learner}
        )
    return {"learner": learner, "portfolio": book, "place": signing_place()}


def competency_booklet_subject(learner: Learner) -> Subject:
    return Subject(learner, _label(_("Livret de compétences — %(learner)s") % {"learner": learner}))


def register_kinds() -> None:
    # Titles are translated once, here, in the default language (French): the title a
    # document prints and the register keeps never follows the language of its issuer.
    register_kind(
        DocumentKind(
            code="attestation_fin_formation",
            title=_("Attestation de fin de formation"),
            template="documents/attestation_fin_formation.html",
            build_context=completion_context,
            build_contexts=completion_contexts,
            describe=completion_subject,
            subject_model=Enrolment,
        )
    )
    register_kind(
        DocumentKind(
            code="attestation_assiduite",
            title=_("Attestation d'assiduité"),
            template="documents/attestation_assiduite.html",
            build_context=attendance_context,
            describe=attendance_subject,
            subject_model=Learner,
        )
    )
    register_kind(
        DocumentKind(
            code="feuille_emargement",
            title=_("Feuille d'émargement"),
            template="documents/feuille_emargement.html",
            build_context=sign_in_sheet_context,
            describe=sign_in_sheet_subject,
            subject_model=Cohort,
        )
    )
    register_kind(
        DocumentKind(
            code="rapport_controle",
            title=_("Rapport de contrôle"),
            template="documents/rapport_controle.html",
            build_context=inspection_context,
            describe=inspection_subject,
            subject_model=Inspection,
            on_request=False,
        )
    )
    register_kind(
        DocumentKind(
            code="livret_competences",
            title=_("Livret de compétences"),
            template="documents/livret_competences.html",
            build_context=competency_booklet_context,
            describe=competency_booklet_subject,
            subject_model=Learner,
        )
    )
