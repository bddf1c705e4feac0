"""The learning rhythm of « faire pour apprendre »: hours in production (orders), in
other workshop sessions, in technology and in general teaching, in placements — against
the programme's planned hours. For a learner, or a cohort (per learner, on average).

Hours at school are those of sessions the learner attended (a present or late line of
the émargement, the same figure as ``attendance.hours_report``'s « attended »), grouped
by course kind; production hours are the time logged on orders, and come out of the
workshop's. Placement hours come from the apps that register a source (internships).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from school.models import Cohort, Learner, Programme
from school.registry import Registry

from .attendance import ATTENDED, local_midnight
from .models import (
    Attendance,
    Competency,
    CompetencyEvidence,
    CourseKind,
    SessionStatus,
    TimeLog,
)
from .portfolio import SECURED

# (learners) → hours they spent in placements so far
HoursSource = Callable[[QuerySet[Learner]], Decimal]
_placement_sources: Registry[HoursSource] = Registry()
register_placement_hours = _placement_sources.register

ZERO = Decimal(0)


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    hours: Decimal
    colour: str


@dataclass(frozen=True)
class Rhythm:
    parts: list[Part]
    planned: Decimal  # the programme's total hours
    per: int  # learners the hours are averaged over (1 for a learner)

    @property
    def total(self) -> Decimal:
        return sum((part.hours for part in self.parts), ZERO)

    @property
    def scale(self) -> Decimal:
        """The chart's full width, in hours: the larger of planned and done."""
        return max(self.planned, self.total, Decimal(1))

    def bars(self) -> list[tuple[Part, Decimal, Decimal]]:
        """Each part with its x offset and width, in percent of the chart."""
        offset, out = ZERO, []
        for part in self.parts:
            width = part.hours * 100 / self.scale
            out.append((part, offset, width))
            offset += width
        return out

    @property
    def planned_at(self) -> Decimal:
        return self.planned * 100 / self.scale


def _hours(value: object) -> Decimal:
    seconds = Decimal(value.total_seconds()) if value else ZERO  # type: ignore[attr-defined]
    return (seconds / 3600).quantize(Decimal("0.1"))


def rhythm_of(learners: QuerySet[Learner], programme: Programme | None) -> Rhythm:
    """The learners' hours, averaged per learner, in five queries at most."""
    count = learners.count() or 1
    duration = ExpressionWrapper(
        F("session__end") - F("session__start"), output_field=DurationField()
    )
    by_kind = {
        row["session__course__kind"]: _hours(row["hours"])
        for row in Attendance.objects.filter(learner__in=learners, status__in=ATTENDED)
        .exclude(session__status=SessionStatus.CANCELLED)
        .values("session__course__kind")
        .annotate(hours=Sum(duration))
        .order_by()
    }
    production = (
        TimeLog.objects.filter(learner__in=learners).aggregate(total=Sum("hours"))["total"] or ZERO
    )
    placements = sum((source(learners) for source in _placement_sources), ZERO)
    workshop = max(by_kind.get(CourseKind.WORKSHOP, ZERO) - production, ZERO)

    def each(hours: Decimal) -> Decimal:
        return (hours / count).quantize(Decimal("0.1"))

    return Rhythm(
        parts=[
            Part("production", str(_("production (commandes)")), each(production), "#b8622d"),
            Part("workshop", str(_("autres séances d'atelier")), each(workshop), "#e0a36f"),
            Part(
                "technology",
                str(_("technologie")),
                each(by_kind.get(CourseKind.TECHNOLOGY, ZERO)),
                "#4f7a94",
            ),
            Part(
                "general",
                str(_("enseignement général")),
                each(by_kind.get(CourseKind.GENERAL, ZERO)),
                "#8aa8ba",
            ),
            Part("placement", str(_("stages en entreprise")), each(placements), "#6b8f4e"),
        ],
        planned=Decimal(programme.total_hours) if programme else ZERO,
        per=count,
    )


# ---------------------------------------------------------------------------------------
# The cohort's page: attendance rate week by week, and how widely each competency is held.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekRate:
    monday: datetime.date
    recorded: int
    attended: int

    @property
    def rate(self) -> Decimal:
        return (Decimal(self.attended * 100) / self.recorded).quantize(Decimal("1"))

    # The chart's geometry (a 50-unit-high bar for 100 %, in a 60-unit box).
    @property
    def height(self) -> Decimal:
        return self.rate / 2

    @property
    def top(self) -> Decimal:
        return 55 - self.height


def attendance_by_week(cohort: Cohort, *, weeks: int = 8) -> list[WeekRate]:
    """The share of recorded lines that are present or late, for the cohort's last
    ``weeks`` weeks that had a roll call, in one query."""
    zone = timezone.get_default_timezone()
    since = local_midnight(timezone.localdate() - datetime.timedelta(weeks=weeks))
    rows = (
        Attendance.objects.filter(session__cohort=cohort, session__start__gte=since)
        .exclude(status="")
        .exclude(session__status=SessionStatus.CANCELLED)
        .annotate(week=TruncWeek("session__start", tzinfo=zone))
        .values("week")
        .annotate(recorded=Count("pk"), attended=Count("pk", filter=Q(status__in=ATTENDED)))
        .order_by("week")
    )
    return [
        WeekRate(row["week"].date() if hasattr(row["week"], "date") else row["week"],
                 row["recorded"], row["attended"])
        for row in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class Coverage:
    competency: Competency
    secured: int  # learners whose latest evidence is acquired or mastered
    learners: int

    @property
    def percent(self) -> Decimal:
        if not self.learners:
            return ZERO
        return (Decimal(self.secured * 100) / self.learners).quantize(Decimal("1"))


def competency_coverage(cohort: Cohort, learners: QuerySet[Learner]) -> list[Coverage]:
    """For each competency of the cohort's programme, how many of its learners hold it,
    by their latest evidence (the portfolio's rule), in two queries."""
    competencies = list(
        Competency.objects.filter(block__programme=cohort.programme).order_by("block__code", "code")
    )
    count = learners.count()
    latest: dict[tuple[int, int], str] = {}
    for learner_id, competency_id, level in (
        CompetencyEvidence.objects.filter(learner__in=learners, competency__in=competencies)
        .order_by("date", "pk")
        .values_list("learner_id", "competency_id", "level")
    ):
        latest[(learner_id, competency_id)] = level  # later rows overwrite earlier ones
    secured: dict[int, int] = defaultdict(int)
    for (_learner, competency_id), level in latest.items():
        if level in SECURED:
            secured[competency_id] += 1
    return [Coverage(c, secured[c.pk], count) for c in competencies]
