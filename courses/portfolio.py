"""A learner's portfolio: each competency of their programme with its current level, the
evidence behind it and its dates, and the gaps — read in a constant number of queries.

The current level is the latest evidence's (by date, then by entry): a competency shown
« en cours » in September and « acquis » in March is acquired.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F, Q

from school.models import Enrolment, Learner, Programme
from school.privacy import ERASED, Anonymisation, Export, erase, rows

from .models import (
    Attendance,
    AttendanceStatus,
    Competency,
    CompetencyEvidence,
    CompetencyLevel,
    MedicalFitness,
    SafetyTraining,
    TimeLog,
)

SECURED = (CompetencyLevel.ACQUIRED, CompetencyLevel.MASTERED)


@dataclass(frozen=True)
class PortfolioRow:
    competency: Competency
    evidence: list[CompetencyEvidence]  # latest first

    @property
    def level(self) -> str | None:
        return self.evidence[0].level if self.evidence else None

    @property
    def level_label(self) -> str:
        return str(CompetencyLevel(self.level).label) if self.level else ""

    @property
    def last_date(self) -> datetime.date | None:
        return self.evidence[0].date if self.evidence else None

    @property
    def is_gap(self) -> bool:
        return self.level not in SECURED


@dataclass(frozen=True)
class Portfolio:
    learner: Learner
    programme: Programme | None
    rows: list[PortfolioRow]

    @property
    def gaps(self) -> list[Competency]:
        return [row.competency for row in self.rows if row.is_gap]

    @property
    def secured(self) -> int:
        return sum(1 for row in self.rows if not row.is_gap)


def programme_of(learner: Learner) -> Programme | None:
    """The programme of the learner's current (else latest) enrolment."""
    enrolment = (
        Enrolment.objects.filter(learner=learner)
        .select_related("cohort__programme")
        # An open enrolment (no end) first, then the one that ended last.
        .order_by(F("end_date").desc(nulls_first=True), "-start_date")
        .first()
    )
    return enrolment.cohort.programme if enrolment else None


def portfolio_of(learner: Learner) -> Portfolio:
    programme = programme_of(learner)
    competencies = (
        list(
            Competency.objects.filter(block__programme=programme)
            .select_related("block")
            .order_by("block__code", "code")
        )
        if programme
        else []
    )
    by_competency: dict[int, list[CompetencyEvidence]] = defaultdict(list)
    for evidence in CompetencyEvidence.objects.filter(learner=learner).order_by("-date", "-pk"):
        by_competency[evidence.competency_id].append(evidence)
    return Portfolio(
        learner,
        programme,
        [PortfolioRow(competency, by_competency[competency.pk]) for competency in competencies],
    )


def personal_data(learner: Learner) -> Export:
    """What the timetable and the workshop hold about a learner (right of access)."""
    return Export(
        sections={
            "attendance": rows(
                Attendance.objects.filter(learner=learner).order_by("session__start"),
                "session__start",
                "session__course__title",
                "status",
                "reason",
                "signed_at",
                "recorded_at",
            ),
            "competency_evidence": rows(
                CompetencyEvidence.objects.filter(learner=learner).order_by("date", "pk"),
                "date",
                "competency__code",
                "competency__title",
                "level",
                "source",
                "reference",
                "assessor_name",
                "note",
            ),
            "workshop_time_logs": rows(
                TimeLog.objects.filter(learner=learner).order_by("session__start"),
                "session__start",
                "order__reference",
                "operation",
                "hours",
                "parts_made",
                "parts_scrapped",
            ),
            "machine_authorisations": rows(
                MedicalFitness.objects.filter(learner=learner), "issued_on", "valid_until"
            )
            + rows(SafetyTraining.objects.filter(learner=learner), "machine_kind", "trained_on"),
        }
    )


def anonymise(erasure: Anonymisation) -> None:
    """Erase what the timetable and the workshop say of a learner beyond the figures:
    the émargement's lines, the evidence and the time logs stay (hours, rates and
    competencies counted as before); their free texts, the medical fitness (health
    data) go; the sign-in sheets that print the name go with the documents
    (``documents.anonymise_sign_in_sheets``)."""
    learner = erasure.learner
    mine = Q(learner=learner)
    excused = Q(status=AttendanceStatus.EXCUSED)
    # An excused absence keeps a reason (the database requires one), not what it said.
    erase(Attendance, mine & excused, reason=ERASED)
    erase(Attendance, mine & ~excused, reason="")
    erase(CompetencyEvidence, mine, note="")
    erasure.redact_fields(CompetencyEvidence, mine, "reference")
    MedicalFitness.objects.filter(learner=learner).delete()
