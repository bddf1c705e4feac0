"""The staff's follow-up of placements, read in a constant number of queries: who has
not signed yet, who has no placement to come, who is short of the programme's weeks."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from school.http import AuthenticatedRequest
from school.models import Enrolment, EnrolmentStatusChange, Learner, Role
from school.portal import Section
from school.privacy import ERASED, Anonymisation, Export, Hold, Purge, erase, rows

from .models import (
    SIGNED_STATUSES,
    Absence,
    AgreementVersion,
    Application,
    ApplicationStatus,
    EvaluationLine,
    Placement,
    PlacementStatus,
    Signature,
    SignerRole,
    TutorEvaluation,
    VersionStatus,
    Visit,
    working_weeks,
)


@dataclass(frozen=True)
class Missing:
    role: str  # the signer's role, as SignerRole labels it
    name: str


@dataclass(frozen=True)
class Waiting:
    """An agreement version out for signature, and who has not signed it yet."""

    placement_id: int
    number: int
    learner: str
    company_name: str
    missing: list[Missing]


@dataclass(frozen=True)
class Upcoming:
    """A placement under way or to come, as the follow-up names it."""

    pk: int
    company_name: str
    start_date: datetime.date


@dataclass(frozen=True)
class Progress:
    learner: Learner
    enrolment: Enrolment
    weeks: Decimal
    required: int
    upcoming: list[Upcoming] = field(default_factory=list)

    @property
    def short(self) -> Decimal:
        return max(Decimal(self.required) - self.weeks, Decimal(0))


@dataclass(frozen=True)
class FollowUp:
    waiting: list[Waiting]
    without_placement: list[Progress]
    short_of_weeks: list[Progress]
    # How many rows each list has in all: the dashboard keeps only the first ones.
    waiting_count: int
    without_placement_count: int
    short_of_weeks_count: int

    @classmethod
    def of(
        cls, waiting: list[Waiting], without_placement: list[Progress], short: list[Progress]
    ) -> FollowUp:
        return cls(
            waiting, without_placement, short, len(waiting), len(without_placement), len(short)
        )

    def head(self, rows: int) -> FollowUp:
        """The first rows of each list, with the full counts."""
        return dataclasses.replace(
            self,
            waiting=self.waiting[:rows],
            without_placement=self.without_placement[:rows],
            short_of_weeks=self.short_of_weeks[:rows],
        )


def progress_of(enrolments: QuerySet[Enrolment], today: datetime.date) -> list[Progress]:
    """Each enrolment's placement weeks against its programme's, in four queries.

    On a network it reads thousands of rows: cohorts and programmes are read once each
    (prefetched, not joined to every row), and placements as plain values."""
    rows = list(
        enrolments.select_related("learner")
        .prefetch_related("cohort__programme")
        .order_by("cohort__name", "learner__last_name", "learner__first_name")
    )
    periods: dict[int, list[tuple[datetime.date, datetime.date]]] = defaultdict(list)
    upcoming: dict[int, list[Upcoming]] = defaultdict(list)
    for learner_id, pk, company_name, start_date, end_date in (
        Placement.objects.current()
        .filter(learner__in=[enrolment.learner_id for enrolment in rows])
        .order_by("start_date")
        .values_list("learner_id", "pk", "company__legal_name", "start_date", "end_date")
    ):
        periods[learner_id].append((start_date, end_date))
        if end_date >= today:
            upcoming[learner_id].append(Upcoming(pk, company_name, start_date))
    return [
        Progress(
            learner=enrolment.learner,
            enrolment=enrolment,
            weeks=sum(
                (working_weeks(*period) for period in periods[enrolment.learner_id]), Decimal(0)
            ),
            required=enrolment.cohort.programme.placement_weeks_min,
            upcoming=upcoming[enrolment.learner_id],
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


# The network-wide follow-up reads every learner in training and every placement: on a
# network of schools it costs ~0.4 s of Python. It is kept in the cache (Redis, shared
# by every web node) under a key that changes whenever a placement, an agreement, a
# signature or an enrolment does; a learner's renaming shows within five minutes. The
# dashboard's first rows are kept apart: reading thousands of rows back from the cache
# on every visit of the home page would cost a good part of that second again.
FOLLOW_UP_CACHE_SECONDS = 300


def follow_up(today: datetime.date, *, rows: int | None = None) -> FollowUp:
    """The whole follow-up, or with ``rows`` the first rows of each list and the counts."""
    state = _follow_up_state(today)
    key = f"placement-follow-up:{state}:{rows or 'all'}"
    found = cache.get(key)
    if found is None:
        whole = cache.get(f"placement-follow-up:{state}:all") or _follow_up(today)
        found = whole if rows is None else whole.head(rows)
        cache.set_many(
            {f"placement-follow-up:{state}:all": whole, key: found}, FOLLOW_UP_CACHE_SECONDS
        )
    return found


def _follow_up_state(today: datetime.date) -> str:
    """What the follow-up is computed from, summed up in one query per table."""
    parts = [
        today,
        Placement.objects.aggregate(Max("updated_at"), Count("pk"), Sum("pk")),
        AgreementVersion.objects.aggregate(
            Max("pk"), Max("signed_at"), to_sign=Count("pk", filter=Q(status=VersionStatus.TO_SIGN))
        ),
        Signature.objects.aggregate(Max("signed_at"), Count("signed_at")),
        Enrolment.objects.active().aggregate(Count("pk"), Sum("pk")),
        EnrolmentStatusChange.objects.aggregate(Max("pk")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _follow_up(today: datetime.date) -> FollowUp:
    # On a network, thousands of versions wait: read as plain values, not model instances.
    out_for_signature = AgreementVersion.objects.filter(status=VersionStatus.TO_SIGN)
    missing: dict[int, list[Missing]] = defaultdict(list)
    roles = dict(SignerRole.choices)
    for version_id, role, name in (
        Signature.objects.filter(version__in=out_for_signature, signed_at__isnull=True)
        .order_by("order")
        .values_list("version_id", "role", "name")
    ):
        missing[version_id].append(Missing(str(roles[role]), name))
    waiting = [
        Waiting(
            placement_id,
            number,
            str(Learner(first_name=first_name, last_name=last_name)),
            company_name,
            missing[version_id],
        )
        for version_id, number, placement_id, first_name, last_name, company_name in (
            out_for_signature.order_by("created_at").values_list(
                "pk",
                "number",
                "placement_id",
                "placement__learner__first_name",
                "placement__learner__last_name",
                "placement__company__legal_name",
            )
        )
    ]
    progress = progress_of(Enrolment.objects.active(), today)
    return FollowUp.of(
        waiting,
        [row for row in progress if not row.upcoming],
        [row for row in progress if row.short],
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


# ---------------------------------------------------------------------------------------
# Retention (school.privacy): what the placement path erases of a learner, what it keeps
# them for, and what it purges on its own delays (settings.RETENTION_DAYS).
# ---------------------------------------------------------------------------------------


def anonymise(erasure: Anonymisation) -> None:
    """Erase what the placement path says of a learner beyond the figures: applications,
    placements with their dates and schedules, absences' hours and evaluations' grids
    stay (placement weeks and hours counted as before); messages, reasons, notes and
    comments go, the learner's and guardians' signature blocks lose their names, e-mail
    addresses and evidence, and the scanned paper copies (signed by hand) are deleted."""
    learner = erasure.learner
    placements = Q(placement__learner=learner)
    erase(Application, Q(learner=learner), message="")
    rejected = Q(learner=learner, status=ApplicationStatus.REJECTED)
    # A refusal keeps a reason (the database requires one), not what it said.
    erase(Application, rejected, rejection_reason=ERASED)
    erase(Application, Q(learner=learner) & ~rejected, rejection_reason="")
    cancelled = Q(learner=learner, status=PlacementStatus.CANCELLED)
    erase(Placement, cancelled, cancellation_reason=ERASED)
    erase(Placement, Q(learner=learner) & ~cancelled, cancellation_reason="")
    erasure.redact_fields(
        Placement,
        Q(learner=learner),
        "activities",
        "supervision",
        "meals",
        "transport",
        "lodging",
        "address",
    )
    erase(Absence, placements, reason="")
    Visit.objects.filter(placements).update(notes=ERASED)
    erase(TutorEvaluation, placements, comments="", attendance="", token_hash="")

    signatures = Q(version__placement__learner=learner)
    erasure.redact_journal(Signature, signatures)
    erase(Signature, signatures, ip_address=None, user_agent="", token_hash="")
    erase(
        Signature,
        signatures & Q(role=SignerRole.LEARNER),
        name=erasure.pseudonym,
        email="",
        user=None,
    )
    erase(
        Signature,
        signatures & Q(role=SignerRole.GUARDIAN),
        name=f"Responsable légal — {erasure.pseudonym}",
        email="",
        user=None,
    )
    for signature in Signature.objects.filter(signatures).exclude(scan=""):
        erasure.delete_file(signature.scan)
        # The database requires a paper signature's scan: its name stays, made neutral
        # (an uploaded file's name may be the learner's).
        erase(
            Signature,
            Q(id=signature.pk),
            scan=f"signatures/{signature.version.placement_id}/{signature.version_id}/"
            f"anonymise-{signature.pk}",
        )


def _evidence_delay() -> datetime.timedelta:
    return datetime.timedelta(days=settings.RETENTION_DAYS["signature_evidence"])


def _links_delay() -> datetime.timedelta:
    return datetime.timedelta(days=settings.RETENTION_DAYS["expired_links"])


# A learner is kept while one of their signed agreements may still be disputed: its
# evidence (and the PDF that bears their name) must outlive the claims.
AGREEMENT_HOLD = Hold(
    _("convention de stage encore dans son délai de conservation"),
    lambda day: Placement.objects.filter(
        versions__signatures__signed_at__isnull=False, end_date__gt=day - _evidence_delay()
    ).values("learner"),
)

PURGES = [
    Purge(
        _("liens de signature expirés"),
        Signature,
        lambda now: ~Q(token_hash="") & Q(link_expires_at__lt=now - _links_delay()),
        {"token_hash": ""},
    ),
    Purge(
        _("liens d'évaluation expirés"),
        TutorEvaluation,
        lambda now: ~Q(token_hash="") & Q(expires_at__lt=now - _links_delay()),
        {"token_hash": ""},
    ),
    Purge(
        _("adresses IP et navigateurs des signatures électroniques"),
        Signature,
        lambda now: (
            (Q(ip_address__isnull=False) | ~Q(user_agent=""))
            & Q(version__placement__end_date__lt=timezone.localdate(now) - _evidence_delay())
        ),
        {"ip_address": None, "user_agent": ""},
    ),
]
