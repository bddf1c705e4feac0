"""Assessment on the site: the trainer's list and grid (a class typed from the keyboard,
saved in one go), the conseil de classe of a term, the jury's proposed CCF marks, and
the learner's and family's results with their progress."""

from __future__ import annotations

import csv
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from courses.models import CompetencyLevel, Course
from school import batches
from school.http import AuthenticatedRequest, attempt
from school.models import Cohort, IssuedDocument, Learner, Role
from school.pagination import page_of
from school.services import document_issue

from . import services
from .documents import jury_learners
from .forms import PlacementGridForm, SituationForm
from .marks import mark_on_20, proposed_marks, term_reports
from .models import (
    PlacementGrid,
    Result,
    ResultLevel,
    ResultStatus,
    Situation,
    SituationCompetency,
    Term,
    TermComment,
    shown,
    to_hundredth,
)
from .services import Entry

ASSESSORS = (Role.STAFF, Role.TRAINER)


def _assessor(request: AuthenticatedRequest) -> None:
    if request.user.role not in ASSESSORS:
        raise Http404


@login_required
def situation_list(request: AuthenticatedRequest) -> HttpResponse:
    _assessor(request)
    situations = (
        Situation.objects.visible_to(request.user)
        .select_related("cohort", "course", "ccf_unit")
        .order_by("-date", "pk")
    )
    terms = Term.objects.filter(cohort__in=Cohort.objects.visible_to(request.user)).select_related(
        "cohort"
    )
    return render(
        request,
        "assessments/situation_list.html",
        {**page_of(request, situations), "terms": terms.order_by("-start_date", "cohort__name")},
    )


@login_required
def situation_edit(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    """Write a situation: for a new one, the cohort first (« ?promotion= »), whose
    programme gives the courses, units and competencies to choose from."""
    _assessor(request)
    situation = None
    if pk is not None:
        situation = get_object_or_404(
            Situation.objects.visible_to(request.user).select_related("cohort"), pk=pk
        )
        if not situation.can_be_changed_by(request.user):
            raise PermissionDenied
        cohort = situation.cohort
    else:
        cohorts = Cohort.objects.visible_to(request.user).select_related("programme")
        chosen = request.GET.get("promotion", "")
        if not chosen.isdigit():
            return render(
                request,
                "assessments/situation_form.html",
                {"cohorts": cohorts.order_by("-start_date", "name")},
            )
        cohort = get_object_or_404(cohorts, pk=int(chosen))
    form = SituationForm(request.POST or None, instance=situation, cohort=cohort)
    if request.method == "POST" and form.is_valid():
        saved: list[Situation] = []
        if attempt(
            request,
            lambda: saved.append(
                services.situation_save(
                    by=request.user,
                    situation=situation,
                    cohort=cohort,
                    weights=form.weights(),
                    assessors=list(form.cleaned_data["assessors"]),
                    **form.situation_fields(),
                )
            ),
            _("Situation enregistrée."),
        ):
            return redirect("situation-grid", pk=saved[0].pk)
    return render(
        request,
        "assessments/situation_form.html",
        {"form": form, "cohort": cohort, "situation": situation},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def situation_grid(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The grid: a row per learner of the cohort, a mark, a status and a level per
    competency; typed with the keyboard alone (Tab from cell to cell, digits and the
    first letter of a level) and saved in one go."""
    _assessor(request)
    situation = get_object_or_404(
        Situation.objects.visible_to(request.user)
        .select_related("cohort", "course", "ccf_unit")
        .prefetch_related("weights"),  # each line's mark out of 20 reads them
        pk=pk,
    )
    weights = list(
        SituationCompetency.objects.filter(situation=situation)
        .select_related("competency")
        .order_by("competency__code")
    )
    learners = list(
        Learner.objects.filter(services.in_cohort(situation)).order_by("last_name", "first_name")
    )
    editable = situation.can_be_changed_by(request.user) and not situation.is_locked()
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        entries = [_entry(request.POST, learner, weights, situation) for learner in learners]

        @transaction.atomic  # saved and published together, or neither
        def save() -> None:
            services.results_record(
                situation=situation, entries=[e for e in entries if e], by=request.user
            )
            if "publish" in request.POST and situation.published_at is None:
                services.situation_publish(situation=situation, by=request.user)

        if not attempt(request, save, _("Résultats enregistrés.")):
            return _grid(request, situation, weights, learners, editable, typed=request.POST)
        return redirect("situation-grid", pk=situation.pk)
    return _grid(request, situation, weights, learners, editable)


def _entry(
    data: Any, learner: Learner, weights: list[SituationCompetency], situation: Situation
) -> Entry | None:
    status = data.get(f"status-{learner.pk}", ResultStatus.ASSESSED)
    mark = data.get(f"mark-{learner.pk}", "").strip()
    levels = {
        weight.competency_id: data.get(f"level-{learner.pk}-{weight.competency_id}", "")
        for weight in weights
    }
    levels = {competency: level for competency, level in levels.items() if level}
    comment = data.get(f"comment-{learner.pk}", "")
    if status == ResultStatus.ASSESSED and not mark and not levels:
        return None  # a line left empty is not typed yet
    return Entry(
        learner=learner.pk, status=status, mark=mark or None, levels=levels, comment=comment
    )


def _grid(
    request: AuthenticatedRequest,
    situation: Situation,
    weights: list[SituationCompetency],
    learners: list[Learner],
    editable: bool,
    typed: Any = None,
) -> HttpResponse:
    results = {
        result.learner_id: result
        for result in Result.objects.filter(situation=situation).prefetch_related("levels")
    }
    rows = []
    for learner in learners:
        result = results.get(learner.pk)
        levels = {line.competency_id: line.level for line in result.levels.all()} if result else {}
        if typed is not None:
            row = {
                "status": typed.get(f"status-{learner.pk}", ResultStatus.ASSESSED),
                "mark": typed.get(f"mark-{learner.pk}", ""),
                "comment": typed.get(f"comment-{learner.pk}", ""),
                "levels": {
                    w.competency_id: typed.get(f"level-{learner.pk}-{w.competency_id}", "")
                    for w in weights
                },
            }
        else:
            row = {
                "status": result.status if result else ResultStatus.ASSESSED,
                "mark": shown(result.mark) if result and result.mark is not None else "",
                "comment": result.comment if result else "",
                "levels": levels,
            }
        row["learner"] = learner
        row["cells"] = [(w.competency_id, row["levels"].get(w.competency_id, "")) for w in weights]
        row["on_20"] = mark_on_20(situation, result) if result else None
        rows.append(row)
    return render(
        request,
        "assessments/grid.html",
        {
            "situation": situation,
            "tutor_grids": _tutor_grids(situation) if situation.in_placement else None,
            "weights": weights,
            "rows": rows,
            "editable": editable,
            "statuses": ResultStatus.choices,
            "level_choices": CompetencyLevel.choices,
            "may_lock": request.user.role == Role.STAFF and situation.locked_at is None,
        },
        status=400 if typed is not None else 200,
    )


@login_required
@require_POST
def situation_lock(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _assessor(request)
    situation = get_object_or_404(Situation.objects.visible_to(request.user), pk=pk)
    if request.user.role != Role.STAFF:
        raise PermissionDenied
    attempt(
        request,
        lambda: services.situation_lock(situation=situation, by=request.user),
        _("Situation verrouillée."),
    )
    return redirect("situation-grid", pk=situation.pk)


# ---------------------------------------------------------------------------------------
# CCF in PFMP: the tutors' grids
# ---------------------------------------------------------------------------------------


def _tutor_grids(situation: Situation) -> list[dict[str, Any]]:
    """Each placement the situation is held in, and where its tutor's grid stands."""
    grids = {
        grid.placement_id: grid
        for grid in PlacementGrid.objects.filter(situation=situation).select_related("result")
    }
    placements = (
        services.grid_placements(situation)
        .select_related("learner", "company", "tutor__user")
        .order_by("learner__last_name", "learner__first_name", "pk")
    )
    return [{"placement": placement, "grid": grids.get(placement.pk)} for placement in placements]


@login_required
@require_POST
def placement_grids_send(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Send the grid to one tutor (``placement``), or to every tutor not yet asked."""
    _assessor(request)
    situation = get_object_or_404(Situation.objects.visible_to(request.user), pk=pk)
    if not situation.can_be_changed_by(request.user):
        raise PermissionDenied
    one = request.POST.get("placement", "")
    if one:
        placement = get_object_or_404(
            services.grid_placements(situation), pk=int(one) if one.isdigit() else 0
        )
        attempt(
            request,
            lambda: services.placement_grid_send(
                situation=situation, placement=placement, by=request.user
            ),
            _("Grille envoyée au tuteur de %(learner)s.") % {"learner": placement.learner},
        )
        return redirect("situation-grid", pk=situation.pk)
    sent, refusals = services.placement_grids_send(situation=situation, by=request.user)
    messages.success(request, _("Grilles envoyées : %(count)d.") % {"count": sent})
    for refusal in refusals:
        messages.warning(request, refusal)
    return redirect("situation-grid", pk=situation.pk)


@never_cache
def placement_grid_link(request: HttpRequest, token: str) -> HttpResponse:
    """The tutor's grid by the e-mailed link: no account, phone first, 404 once used."""
    grid = services.placement_grid_for_link(token)
    if grid is None:
        raise Http404
    return _grid_form(request, grid, by=None)


@login_required
def placement_grid_list(request: AuthenticatedRequest) -> HttpResponse:
    """The CCF grids in PFMP: the school's follow-up; a partner's, their tutors'."""
    if request.user.role not in (*ASSESSORS, Role.PARTNER):
        raise Http404
    grids = (
        PlacementGrid.objects.visible_to(request.user)
        .select_related("situation", "placement__learner", "placement__company", "result")
        .order_by("-sent_at", "pk")
    )
    return render(request, "assessments/placement_grid_list.html", page_of(request, grids))


@login_required
def placement_grid_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A grid: filled, as the tutor filled it; open, the tutor with an account fills it
    here as from the link; to the others, where it stands."""
    grid = get_object_or_404(
        PlacementGrid.objects.visible_to(request.user).select_related(
            "situation__cohort", "placement__learner", "placement__company", "placement__tutor"
        ),
        pk=pk,
    )
    tutor = grid.placement.tutor
    if grid.is_open and tutor is not None and tutor.user_id == request.user.pk:
        return _grid_form(request, grid, by=request.user)
    levels = (
        ResultLevel.objects.filter(result=grid.result_id)
        .select_related("competency")
        .order_by("competency__code")
        if grid.result_id
        else []
    )
    return render(
        request,
        "assessments/placement_grid.html",
        {"grid": grid, "situation": grid.situation, "placement": grid.placement, "levels": levels},
    )


def _grid_form(request: HttpRequest, grid: PlacementGrid, *, by: Any) -> HttpResponse:
    situation, placement = grid.situation, grid.placement
    weights = list(
        SituationCompetency.objects.filter(situation=situation)
        .select_related("competency")
        .order_by("competency__code")
    )
    tutor = placement.tutor
    form = PlacementGridForm(
        request.POST or None,
        situation=situation,
        weights=weights,
        initial={"tutor_name": f"{tutor.first_name} {tutor.last_name}" if tutor else ""},
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and attempt(
            request,
            lambda: services.placement_grid_record(
                grid=grid,
                entry=form.entry(placement.learner_id),
                tutor_name=form.cleaned_data["tutor_name"],
                by=by,
            ),
            _("Grille enregistrée. Merci pour votre accompagnement."),
        )
    ):
        return render(
            request,
            "assessments/placement_grid.html",
            {"done": True, "situation": situation, "placement": placement},
        )
    return render(
        request,
        "assessments/placement_grid.html",
        {"form": form, "situation": situation, "placement": placement},
        status=400 if request.method == "POST" else 200,
    )


# ---------------------------------------------------------------------------------------
# Conseil de classe
# ---------------------------------------------------------------------------------------


@login_required
def council(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A term's class on one page: each learner's averages per course and the class's,
    attendance, and the comments each trainer may write; the bulletins issued from here."""
    _assessor(request)
    term = get_object_or_404(
        Term.objects.filter(cohort__in=Cohort.objects.visible_to(request.user)).select_related(
            "cohort__programme", "cohort__head_trainer"
        ),
        pk=pk,
    )
    learners = list(
        Learner.objects.filter(enrolments__cohort=term.cohort, enrolments__status="active")
        .distinct()
        .order_by("last_name", "first_name")
    )
    if request.method == "POST":
        changes = _comment_changes(request, term, learners)

        @transaction.atomic  # the whole page, or nothing of it
        def save() -> None:
            for learner, course, text in changes:
                services.comment_save(
                    term=term, learner=learner, course=course, text=text, by=request.user
                )

        attempt(request, save, _("Appréciations enregistrées."))
        return redirect("council", pk=term.pk)
    reports = term_reports(term, learners)
    courses = reports[learners[0].pk].courses if learners else []
    editable = {
        course.course.pk
        for course in courses
        if services.may_comment(request.user, term, course.course)
    }
    return render(
        request,
        "assessments/council.html",
        {
            "term": term,
            "reports": [reports[learner.pk] for learner in learners],
            "courses": courses,
            "editable": editable,
            "may_overall": services.may_comment(request.user, term, None),
            "is_staff": request.user.role == Role.STAFF,
        },
    )


def _comment_changes(
    request: AuthenticatedRequest, term: Term, learners: list[Learner]
) -> list[tuple[Learner, Course | None, str]]:
    """The comments the page changed (« comment-<learner>-<course or all> »), read
    against the current ones in one query; a field naming another cohort's learner or
    programme's course is 404."""
    courses = {
        str(course.pk): course
        for course in Course.objects.filter(programme=term.cohort.programme_id)
    }
    by_pk = {str(learner.pk): learner for learner in learners}
    current = {
        (comment.learner_id, comment.course_id): comment.text
        for comment in TermComment.objects.filter(term=term)
    }
    changes = []
    for name in request.POST:
        if not name.startswith("comment-"):
            continue
        text = request.POST.get(name, "")
        _prefix, learner_id, course_id = ([*name.split("-"), "", ""])[:3]
        learner = by_pk.get(learner_id)
        course = courses.get(course_id) if course_id != "all" else None
        if learner is None or (course_id != "all" and course is None):
            raise Http404
        if current.get((learner.pk, course.pk if course else None), "") != text.strip():
            changes.append((learner, course, text))
    return changes


@login_required
@require_POST
def council_bulletins(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Issue the term's bulletins for the cohort, in the background, like attestations."""
    if request.user.role != Role.STAFF:
        raise Http404
    term = get_object_or_404(Term.objects.select_related("cohort"), pk=pk)
    made: list[Any] = []
    if not attempt(
        request,
        lambda: made.append(
            batches.batch_create(
                kind="bulletin",
                cohort=term.cohort,
                by=request.user,
                start=term.start_date,
                end=term.end_date,
            )
        ),
        _("Bulletins en cours d'émission."),
    ):
        return redirect("council", pk=term.pk)
    return redirect("batch-detail", pk=made[0].pk)


# ---------------------------------------------------------------------------------------
# The jury's proposed CCF marks
# ---------------------------------------------------------------------------------------


@login_required
def jury(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _assessor(request)
    cohort = get_object_or_404(
        Cohort.objects.visible_to(request.user).select_related("programme"), pk=pk
    )
    units, rows = proposed_marks(cohort, jury_learners(cohort))
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="propositions-ccf-{cohort.pk}.csv"'
        response.write("\ufeff")  # the spreadsheet the jury opens it in reads UTF-8 then
        writer = csv.writer(response, delimiter=";")
        writer.writerow(
            [
                _("Nom"),
                _("Prénom"),
                *[f"{unit.code} (coef. {shown(unit.coefficient)})" for unit in units],
            ]
        )
        for row in rows:
            writer.writerow(
                [
                    row.learner.last_name,
                    row.learner.first_name,
                    *[
                        shown(mark.mark) if mark.mark is not None else mark.state_label
                        for mark in row.units
                    ],
                ]
            )
        return response
    return render(
        request,
        "assessments/jury.html",
        {
            "cohort": cohort,
            "units": units,
            "rows": rows,
            "is_staff": request.user.role == Role.STAFF,
        },
    )


@login_required
@require_POST
def jury_issue(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The numbered list of proposed marks the jury signs."""
    if request.user.role != Role.STAFF:
        raise Http404
    cohort = get_object_or_404(Cohort, pk=pk)
    document = document_issue(kind="propositions_ccf", subject=cohort, by=request.user)
    return redirect("api:document-pdf", pk=document.pk)


# ---------------------------------------------------------------------------------------
# The learner's and the family's view
# ---------------------------------------------------------------------------------------


@login_required
def my_results(request: AuthenticatedRequest) -> HttpResponse:
    """Published results course by course with a progress chart, and the bulletins."""
    if request.user.role not in (Role.LEARNER, Role.GUARDIAN):
        raise Http404
    learners = list(Learner.objects.visible_to(request.user).order_by("last_name", "first_name"))
    results = (
        Result.objects.visible_to(request.user)
        .select_related("situation__course", "learner")
        .prefetch_related(
            "situation__weights",
            Prefetch(
                "levels",
                ResultLevel.objects.select_related("competency").order_by("competency__code"),
            ),
        )
        .order_by("situation__date", "pk")
    )
    by_learner: dict[int, dict[Any, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        mark = mark_on_20(result.situation, result)
        by_learner[result.learner_id][result.situation.course].append(
            {"result": result, "on_20": to_hundredth(mark) if mark is not None else None}
        )
    bulletins = (
        IssuedDocument.objects.visible_to(request.user)
        .filter(kind="bulletin")
        .order_by("-issued_at")
    )
    children = [
        {
            "learner": learner,
            "courses": [
                {"course": course, "lines": lines, "chart": _chart(lines)}
                for course, lines in by_learner.get(learner.pk, {}).items()
            ],
        }
        for learner in learners
    ]
    return render(
        request, "assessments/my_results.html", {"children": children, "bulletins": bulletins}
    )


def _chart(lines: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """The polyline of a course's marks over time, in a 300 × 80 box (20 at the top)."""
    marks = [line["on_20"] for line in lines if line["on_20"] is not None]
    if not marks:
        return []
    step = 300 // max(len(marks) - 1, 1)
    return [(index * step, int(80 - mark * 4)) for index, mark in enumerate(marks)]
