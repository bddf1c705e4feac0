"""Reading assessments: a result's mark out of 20, the proposed CCF marks per unit, and
the term's report of a whole cohort (what the bulletin prints), each in a constant
number of queries whatever the class size.

Averages weigh each mark by its situation's coefficient; a course's average is the
mean of its marks, the overall average the mean of the courses' (each course counts
once, as on the bulletins families know).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Sum
from django.utils.translation import gettext as _

from courses.attendance import Hours, hours_reports, local_midnight
from courses.models import Competency, CompetencyLevel, Course, TimeLog
from school.models import Cohort, Learner

from .models import (
    LEVEL_POINTS,
    TWENTY,
    CCFUnit,
    Result,
    ResultLevel,
    ResultStatus,
    Situation,
    SituationKind,
    Term,
    TermComment,
    to_hundredth,
)

ONE_DAY = datetime.timedelta(days=1)


def situations_read(situations: Iterable[Situation]) -> list[Situation]:
    """The situations with their grid and results, read in three queries."""
    return list(
        Situation.objects.filter(pk__in=[situation.pk for situation in situations])
        .select_related("course", "ccf_unit")
        .prefetch_related(
            "weights__competency",
            Prefetch(
                "results",
                Result.objects.prefetch_related(
                    Prefetch("levels", ResultLevel.objects.select_related("competency"))
                ),
            ),
        )
        .order_by("date", "pk")
    )


def mark_on_20(situation: Situation, result: Result) -> Decimal | None:
    """The result as a mark out of 20: the typed mark brought to 20, or, for a situation
    assessed by levels alone, what its grid gives (each competency's weight × what the
    level is worth). None when the learner was not assessed."""
    if result.status != ResultStatus.ASSESSED:
        return None
    if situation.has_mark:
        if result.mark is None:
            return None
        return result.mark * TWENTY / situation.max_mark
    weights = {line.competency_id: line.weight for line in situation.weights.all()}
    levels = {line.competency_id: line.level for line in result.levels.all()}
    if not levels:
        return None
    points = sum(
        (
            Decimal(weight) * LEVEL_POINTS[levels[competency]]
            for competency, weight in weights.items()
            if competency in levels
        ),
        Decimal(0),
    )
    return points * TWENTY / 100


def weighted_mean(marks: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Σ mark × coefficient / Σ coefficients, rounded to the hundredth; None if empty."""
    pairs = list(marks)
    weight = sum((coefficient for _mark, coefficient in pairs), Decimal(0))
    if not weight:
        return None
    return to_hundredth(
        sum((mark * coefficient for mark, coefficient in pairs), Decimal(0)) / weight
    )


@dataclass(frozen=True)
class Spread:
    average: Decimal | None
    lowest: Decimal | None
    highest: Decimal | None


def spread(values: Iterable[Decimal | None]) -> Spread:
    present = [value for value in values if value is not None]
    if not present:
        return Spread(None, None, None)
    return Spread(to_hundredth(sum(present, Decimal(0)) / len(present)), min(present), max(present))


# ---------------------------------------------------------------------------------------
# CCF: the proposed mark per learner per unit
# ---------------------------------------------------------------------------------------


@dataclass
class UnitMark:
    unit: CCFUnit
    mark: Decimal | None
    state: str  # "complete", "incomplete", "exempt"
    detail: list[str] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return {
            "complete": _("complète"),
            "incomplete": _("incomplète"),
            "exempt": _("dispensé"),
        }[self.state]


@dataclass
class JuryRow:
    learner: Learner
    units: list[UnitMark]


def proposed_marks(
    cohort: Cohort, learners: Sequence[Learner]
) -> tuple[list[CCFUnit], list[JuryRow]]:
    """Each learner's proposed mark per CCF unit of the programme: the coefficient-
    weighted mean of the unit's situations. The exam's rules: an unexcused absence
    counts 0; an excused one leaves the unit incomplete (to reschedule), as does a
    situation not yet assessed; an exemption leaves the situation out."""
    units = list(CCFUnit.objects.filter(programme=cohort.programme_id).order_by("code"))
    situations = situations_read(
        Situation.objects.filter(cohort=cohort, kind=SituationKind.CCF).only("pk")
    )
    by_unit: dict[int, list[Situation]] = defaultdict(list)
    for situation in situations:
        by_unit[situation.ccf_unit_id or 0].append(situation)
    rows = []
    for learner in learners:
        marks = []
        for unit in units:
            marks.append(_unit_mark(unit, by_unit.get(unit.pk, []), learner))
        rows.append(JuryRow(learner=learner, units=marks))
    return units, rows


def _unit_mark(unit: CCFUnit, situations: list[Situation], learner: Learner) -> UnitMark:
    counted: list[tuple[Decimal, Decimal]] = []
    detail: list[str] = []
    incomplete = not situations
    if not situations:
        detail.append(_("aucune situation"))
    for situation in situations:
        result = next((r for r in situation.results.all() if r.learner_id == learner.pk), None)
        if result is None:
            incomplete = True
            detail.append(_("%(title)s : non évaluée") % {"title": situation.title})
        elif result.status == ResultStatus.EXEMPT:
            detail.append(_("%(title)s : dispensé") % {"title": situation.title})
        elif result.status == ResultStatus.EXCUSED:
            incomplete = True
            detail.append(
                _("%(title)s : absence excusée, à reprogrammer") % {"title": situation.title}
            )
        elif result.status == ResultStatus.ABSENT:
            counted.append((Decimal(0), situation.coefficient))
            detail.append(_("%(title)s : absence injustifiée (0)") % {"title": situation.title})
        else:
            mark = mark_on_20(situation, result)
            if mark is None:
                incomplete = True
                detail.append(_("%(title)s : non évaluée") % {"title": situation.title})
            else:
                counted.append((mark, situation.coefficient))
    if incomplete:
        return UnitMark(unit, None, "incomplete", detail)
    if not counted:
        return UnitMark(unit, None, "exempt", detail)
    return UnitMark(unit, weighted_mean(counted), "complete", detail)


# ---------------------------------------------------------------------------------------
# The term's report: what the bulletin prints
# ---------------------------------------------------------------------------------------


@dataclass
class Line:
    situation: Situation
    result: Result | None
    mark: Decimal | None  # out of 20

    @property
    def shown(self) -> str:
        """The mark as typed (« 14,5/20 »), or the status."""
        if self.result is None:
            return "—"
        if self.result.status != ResultStatus.ASSESSED:
            return self.result.get_status_display()
        if self.result.mark is not None:
            return (
                f"{self.result.mark.normalize():f}/{self.situation.max_mark.normalize():f}".replace(
                    ".", ","
                )
            )
        return f"{self.mark:.2f}/20".replace(".", ",") if self.mark is not None else "—"


@dataclass
class CourseReport:
    course: Course
    lines: list[Line]
    average: Decimal | None
    levels: list[tuple[Competency, str]]  # latest level shown in the term
    comment: str = ""
    class_: Spread = Spread(None, None, None)

    @property
    def levels_shown(self) -> list[tuple[Competency, str]]:
        return [
            (competency, str(CompetencyLevel(level).label)) for competency, level in self.levels
        ]


@dataclass
class TermReport:
    learner: Learner
    term: Term
    courses: list[CourseReport]
    average: Decimal | None
    hours: Hours
    workshop_hours: Decimal
    orders: list[str]
    overall_comment: str = ""
    class_: Spread = Spread(None, None, None)


def term_reports(term: Term, learners: Sequence[Learner]) -> dict[int, TermReport]:
    """Every learner's report for the term, with the class's figures (average, lowest,
    highest) over the whole cohort, in a constant number of queries."""
    cohort_learners = list(
        Learner.objects.filter(enrolments__cohort=term.cohort_id).distinct().order_by("pk")
    )
    ids = sorted({learner.pk for learner in [*cohort_learners, *learners]})
    situations = situations_read(
        Situation.objects.filter(
            cohort=term.cohort_id,
            course__isnull=False,
            date__gte=term.start_date,
            date__lte=term.end_date,
        ).only("pk")
    )
    by_course: dict[int, list[Situation]] = defaultdict(list)
    for situation in situations:
        by_course[situation.course_id or 0].append(situation)
    courses = sorted({s.course for s in situations if s.course}, key=lambda c: (c.code, c.title))
    comments: dict[tuple[int, int | None], str] = {
        (comment.learner_id, comment.course_id): comment.text
        for comment in TermComment.objects.filter(term=term, learner__in=ids)
    }
    attendance = hours_reports(ids, start=term.start_date, end=term.end_date)
    logs = TimeLog.objects.filter(
        learner__in=ids,
        session__start__gte=local_midnight(term.start_date),
        session__start__lt=local_midnight(term.end_date + ONE_DAY),
    )
    workshop = dict(
        logs.values("learner").annotate(total=Sum("hours")).values_list("learner", "total")
    )
    orders: dict[int, list[str]] = defaultdict(list)
    for learner_id, reference, part in (
        logs.values_list("learner", "order__reference", "order__company__legal_name")
        .distinct()
        .order_by("order__reference")
    ):
        orders[learner_id].append(f"{reference} — {part}")

    people = {learner.pk: learner for learner in [*cohort_learners, *learners]}
    reports = {}
    for learner_id in ids:
        course_reports = []
        for course in courses:
            lines = []
            latest: dict[int, tuple[Competency, str]] = {}
            for situation in by_course[course.pk]:
                result = next(
                    (r for r in situation.results.all() if r.learner_id == learner_id), None
                )
                mark = mark_on_20(situation, result) if result is not None else None
                lines.append(Line(situation, result, mark))
                if result is not None:
                    for level in result.levels.all():
                        latest[level.competency_id] = (level.competency, level.level)
            average = weighted_mean(
                (line.mark, line.situation.coefficient) for line in lines if line.mark is not None
            )
            course_reports.append(
                CourseReport(
                    course=course,
                    lines=lines,
                    average=average,
                    levels=sorted(latest.values(), key=lambda pair: pair[0].code),
                    comment=comments.get((learner_id, course.pk), ""),
                )
            )
        averages = [report.average for report in course_reports if report.average is not None]
        reports[learner_id] = TermReport(
            learner=people[learner_id],
            term=term,
            courses=course_reports,
            average=to_hundredth(sum(averages, Decimal(0)) / len(averages)) if averages else None,
            hours=attendance[learner_id].total,
            workshop_hours=workshop.get(learner_id) or Decimal(0),
            orders=orders.get(learner_id, []),
            overall_comment=comments.get((learner_id, None), ""),
        )
    cohort_ids = [learner.pk for learner in cohort_learners]
    for index in range(len(courses)):
        class_spread = spread(reports[pk].courses[index].average for pk in cohort_ids)
        for report in reports.values():
            report.courses[index].class_ = class_spread
    overall = spread(reports[pk].average for pk in cohort_ids)
    for report in reports.values():
        report.class_ = overall
    return {learner.pk: reports[learner.pk] for learner in learners}
