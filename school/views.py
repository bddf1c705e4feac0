"""The school's pages: a home per role, cohorts and learners, scoped like the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .http import AuthenticatedRequest
from .models import Cohort, Enrolment, EnrolmentStatus, Learner, Role
from .portal import sections_for

ACTIVE_LEARNERS = Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.ACTIVE))


def lockout(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """What django-axes answers to a locked-out login: JSON for the API, a page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("Trop d'échecs de connexion : compte verrouillé pendant 15 minutes.")},
            status=429,
        )
    return render(request, "registration/lockout.html", status=429)


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
    learner = get_object_or_404(
        Learner.objects.visible_to(request.user).prefetch_related(
            "guardians",
            Prefetch("enrolments", queryset=Enrolment.objects.select_related("cohort__programme")),
        ),
        pk=pk,
    )
    return render(request, "school/learner_detail.html", {"learner": learner})
