"""The school's pages: a home per role, cohorts and learners, scoped like the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from .http import AuthenticatedRequest
from .models import Cohort, Enrolment, EnrolmentStatus, Guardian, Learner, Role
from .portal import sections_for

ACTIVE_LEARNERS = Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.ACTIVE))


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    cohorts = (
        Cohort.objects.visible_to(user)
        .select_related("programme", "head_trainer")
        .annotate(active_learners=ACTIVE_LEARNERS)
        .order_by("-start_date", "name")
    )
    context: dict[str, object] = {"cohorts": cohorts}
    if user.role in (Role.LEARNER, Role.GUARDIAN):
        context["learners"] = Learner.objects.visible_to(user).prefetch_related(
            Prefetch("enrolments", queryset=Enrolment.objects.select_related("cohort__programme"))
        )
    context["sections"] = sections_for(request)
    if user.role == Role.STAFF:
        context["counts"] = {
            "learners": Enrolment.objects.active().count(),
            "cohorts": cohorts.count(),
        }
    return render(request, "school/home.html", context)


@login_required
def cohort_list(request: AuthenticatedRequest) -> HttpResponse:
    cohorts = (
        Cohort.objects.visible_to(request.user)
        .select_related("programme", "head_trainer")
        .annotate(active_learners=ACTIVE_LEARNERS)
        .order_by("-start_date", "name")
    )
    return render(request, "school/cohort_list.html", {"cohorts": cohorts})


@login_required
def cohort_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(
        Cohort.objects.visible_to(request.user).select_related("programme", "head_trainer"), pk=pk
    )
    enrolments = (
        cohort.enrolments.filter(learner__in=Learner.objects.visible_to(request.user))
        .select_related("learner")
        .order_by("learner__last_name", "learner__first_name")
    )
    return render(
        request,
        "school/cohort_detail.html",
        {"cohort": cohort, "enrolments": enrolments, "trainers": cohort.trainers.all()},
    )


@login_required
def learner_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    user = request.user
    # The learner's related rows are scoped too: a trainer does not see the cohorts they
    # do not teach, a parent does not see the other parent's contact details.
    learner = get_object_or_404(
        Learner.objects.visible_to(user).prefetch_related(
            Prefetch("guardians", queryset=Guardian.objects.visible_to(user)),
            Prefetch(
                "enrolments",
                queryset=Enrolment.objects.visible_to(user).select_related("cohort__programme"),
            ),
        ),
        pk=pk,
    )
    return render(request, "school/learner_detail.html", {"learner": learner})


def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Placeholder until the public verification page lands."""
    raise Http404
