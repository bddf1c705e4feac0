"""The documents of assessment: the term bulletin (one per learner, issued in bulk for a
cohort by the worker like the attestations) and the jury's list of proposed CCF marks.
Both are numbered in the register and verifiable by their QR code."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from school.documents import DocumentKind, Subject, register_kind, signing_place
from school.models import Cohort, Enrolment, EnrolmentStatus, IssuedDocument, Learner

from .marks import proposed_marks, term_reports
from .models import Term

SUBJECT_LENGTH = IssuedDocument._meta.get_field("subject").max_length or 255


def term_of(cohort_id: int, start: datetime.date, end: datetime.date) -> Term:
    term = Term.objects.filter(cohort=cohort_id, start_date=start, end_date=end).first()
    if term is None:
        raise ValidationError(
            _("La promotion n'a pas de période du %(start)s au %(end)s.")
            % {"start": f"{start:%d/%m/%Y}", "end": f"{end:%d/%m/%Y}"}
        )
    return term


# ---------------------------------------------------------------------------------------
# Bulletin: subject, an enrolment; parameters, the term's first and last days.
# ---------------------------------------------------------------------------------------


def bulletin_context(
    enrolment: Enrolment, *, start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    return bulletin_contexts([enrolment], start=start, end=end)[0]


def bulletin_contexts(
    enrolments: Sequence[Enrolment], *, start: datetime.date, end: datetime.date
) -> list[dict[str, Any]]:
    """A class's bulletins read together: one term report of the cohort per chunk."""
    by_cohort: dict[int, list[Enrolment]] = defaultdict(list)
    for enrolment in enrolments:
        by_cohort[enrolment.cohort_id].append(enrolment)
    reports = {}
    for cohort_id, members in by_cohort.items():
        term = term_of(cohort_id, start, end)
        reports.update(term_reports(term, [enrolment.learner for enrolment in members]))
    return [
        {
            "report": reports[enrolment.learner_id],
            "enrolment": enrolment,
            "cohort": enrolment.cohort,
            "place": signing_place(),
        }
        for enrolment in enrolments
    ]


def bulletin_subject(enrolment: Enrolment, *, start: datetime.date, end: datetime.date) -> Subject:
    term = term_of(enrolment.cohort_id, start, end)
    return Subject(
        enrolment.learner,
        Truncator(
            _("Bulletin — %(learner)s — %(term)s")
            % {"learner": enrolment.learner, "term": term.name}
        ).chars(SUBJECT_LENGTH),
    )


# ---------------------------------------------------------------------------------------
# Propositions de notes de CCF: subject, a cohort.
# ---------------------------------------------------------------------------------------


def jury_learners(cohort: Cohort) -> list[Learner]:
    """Those the jury decides for: the cohort's learners, save those who left it."""
    staying = Enrolment.objects.filter(cohort=cohort).exclude(status=EnrolmentStatus.WITHDRAWN)
    return list(
        Learner.objects.filter(pk__in=staying.values("learner")).order_by("last_name", "first_name")
    )


def jury_context(cohort: Cohort) -> dict[str, Any]:
    units, rows = proposed_marks(cohort, jury_learners(cohort))
    return {"cohort": cohort, "units": units, "rows": rows, "place": signing_place()}


def jury_subject(cohort: Cohort) -> Subject:
    return Subject(
        None,
        Truncator(_("Propositions de notes de CCF — %(cohort)s") % {"cohort": cohort}).chars(
            SUBJECT_LENGTH
        ),
    )


def register_kinds() -> None:
    register_kind(
        DocumentKind(
            code="bulletin",
            title=_("Bulletin de période"),
            template="documents/bulletin.html",
            build_context=bulletin_context,
            build_contexts=bulletin_contexts,
            describe=bulletin_subject,
            subject_model=Enrolment,
        )
    )
    register_kind(
        DocumentKind(
            code="propositions_ccf",
            title=_("Propositions de notes de CCF"),
            template="documents/propositions_ccf.html",
            build_context=jury_context,
            describe=jury_subject,
            subject_model=Cohort,
        )
    )
