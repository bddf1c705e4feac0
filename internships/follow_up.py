"""The staff's follow-up of placements, read in a constant number of queries: who has
not signed yet, who has no placement to come, who is short of the programme's weeks."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from school.http import AuthenticatedRequest
from school.models import Enrolment, Learner, Role
from school.portal import Section
from school.privacy import Export, rows

from .models import (
    SIGNED_STATUSES,
    Absence,
    AgreementVersion,
    Application,
    EvaluationLine,
    Placement,
    Signature,
    SignerRole,
    VersionStatus,
    Visit,
    working_weeks,
)


@dataclass(frozen=True)
class Waiting:
    version: AgreementVersion
    missing: list[Signature]


@dataclass(frozen=True)
class Progress:
    learner: Learner
    enrolment: Enrolment
    weeks: Decimal
    required: int
    upcoming: list[Placement] = field(default_factory=list)

    @property
    def short(self) -> Decimal:
        return max(Decimal(self.required) - self.weeks, Decimal(0))


@dataclass(frozen=True)
class FollowUp:
    waiting: list[Waiting]
    without_placement: list[Progress]
    short_of_weeks: list[Progress]


def progress_of(enrolments: QuerySet[Enrolment], today: datetime.date) -> list[Progress]:
    """Each enrolment's placement weeks against its programme's, in two queries."""
    rows = list(
        enrolments.select_related("learner", "cohort__programme").order_by(
            "cohort__name", "learner__last_name", "learner__first_name"
        )
    )
    placements: dict[int, list[Placement]] = defaultdict(list)
    for placement in (
        Placement.objects.current()
        .filter(learner__in=[enrolment.learner_id for enrolment in rows])
        .select_related("company")
        .order_by("start_date")
    ):
        placements[placement.learner_id].append(placement)
    return [
        Progress(
            learner=enrolment.learner,
            enrolment=enrolment,
            weeks=sum(
                (working_weeks(p.start_date, p.end_date) for p in placements[enrolment.learner_id]),
                Decimal(0),
            ),
            required=enrolment.cohort.programme.placement_weeks_min,
            upcoming=[p for p in placements[enrolment.learner_id] if p.end_date >= today],
        )
        for enrolment in rows
    ]


def cohort_section(request: AuthenticatedRequest, cohort: Any) -> Section | None:
    """On the cohort's page, for the teaching team: where each learner stands with their
    placement weeks (a pupil looking at their cohort does not see their classmates')."""
    if request.user.role not in (Role.STAFF, Role.TRAINER):
        return None
    rows = progress_of(Enrolment.objects.active().filter(cohort=cohort), timezone.localdate())
    return Section(
        "internships/cohort_section.html",
        {
            "rows": rows,
            "reached": sum(1 for row in rows if not row.short),
            "with_placement": sum(1 for row in rows if row.upcoming),
        },
    )


def follow_up(today: datetime.date) -> FollowUp:
    versions = (
        AgreementVersion.objects.filter(status=VersionStatus.TO_SIGN)
        .select_related("placement__learner", "placement__company")
        .prefetch_related(Prefetch("signatures", Signature.objects.order_by("order")))
        .order_by("created_at")
    )
    waiting = [
        Waiting(version, [s for s in version.signatures.all() if not s.is_signed])
        for version in versions
    ]
    progress = progress_of(Enrolment.objects.active(), today)
    return FollowUp(
        waiting=waiting,
        without_placement=[row for row in progress if not row.upcoming],
        short_of_weeks=[row for row in progress if row.short],
    )


def placement_hours(learners: QuerySet[Learner]) -> Decimal:
    """Hours the learners spent in placements up to today: the signed schedule's days
    gone by, less the absences recorded (the attestation's count, so far)."""
    today = timezone.localdate()
    placements = Placement.objects.filter(
        learner__in=learners, status__in=SIGNED_STATUSES, start_date__lte=today
    ).prefetch_related("slots", "absences")
    total = Decimal(0)
    for placement in placements:
        planned = placement.planned_presence(list(placement.slots.all()), until=today)
        missed = sum((a.hours for a in placement.absences.all() if a.date <= today), Decimal(0))
        total += max(Decimal(planned.total_seconds()) / 3600 - missed, Decimal(0))
    return total


def learner_section(request: AuthenticatedRequest, learner: Learner) -> Section | None:
    """On the learner's page: their placements and their weeks against the programme's."""
    placements = list(
        Placement.objects.visible_to(request.user)
        .filter(learner=learner)
        .current()
        .select_related("company")
        .order_by("start_date")
    )
    enrolment = (
        Enrolment.objects.active()
        .filter(learner=learner)
        .select_related("cohort__programme")
        .first()
    )
    return Section(
        "internships/learner_section.html",
        {
            "placements": placements,
            "weeks": sum((p.weeks for p in placements), Decimal(0)),
            "required": enrolment.cohort.programme.placement_weeks_min if enrolment else None,
        },
    )


def personal_data(learner: Learner) -> Export:
    """What the placement path holds about a learner (right of access): their
    applications, placements, their own signatures, absences, visits and evaluations."""
    placements = Placement.objects.filter(learner=learner)
    return Export(
        sections={
            "applications": rows(
                Application.objects.filter(learner=learner).order_by("created_at"),
                "offer__title",
                "offer__company__legal_name",
                "message",
                "status",
                "rejection_reason",
                "created_at",
                "decided_at",
            ),
            "placements": rows(
                placements.order_by("start_date"),
                "id",
                "company__legal_name",
                "start_date",
                "end_date",
                "status",
                "activities",
                "gratification_hourly",
                "cancellation_reason",
            ),
            "signatures": rows(
                Signature.objects.filter(version__placement__in=placements)
                .filter(role=SignerRole.LEARNER)
                .order_by("signed_at"),
                "version__placement_id",
                "version__number",
                "method",
                "signed_at",
                "ip_address",
                "user_agent",
                "pdf_sha256",
            ),
            "placement_absences": rows(
                Absence.objects.filter(placement__in=placements),
                "placement_id",
                "date",
                "hours",
                "justified",
                "reason",
            ),
            "placement_visits": rows(
                Visit.objects.filter(placement__in=placements),
                "placement_id",
                "kind",
                "date",
                "notes",
            ),
            "tutor_evaluations": rows(
                EvaluationLine.objects.filter(evaluation__placement__in=placements),
                "evaluation__placement_id",
                "competency__code",
                "level",
                "evaluation__comments",
                "evaluation__submitted_at",
            ),
        }
    )
