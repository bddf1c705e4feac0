"""The school's pages: a home per role, cohorts and learners, scoped like the API, and
the public verification page of issued documents."""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .http import AuthenticatedRequest
from .models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Guardian,
    IssuedDocument,
    Learner,
    Role,
)
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


# Our documents weigh a few hundred kilobytes; a bigger file cannot be one of them.
MAX_PDF_CHECK_SIZE = 10 * 1024 * 1024


class PdfCheckForm(forms.Form):
    pdf = forms.FileField(
        label=_("Fichier PDF à comparer"),
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_pdf(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["pdf"]
        if (upload.size or 0) > MAX_PDF_CHECK_SIZE:
            raise forms.ValidationError(_("Le fichier dépasse la taille maximale de 10 Mo."))
        return upload


def _masked_name(learner: Learner) -> str:
    """« Léa M. »: enough to match the paper in hand, not enough to learn who studies here."""
    return f"{learner.first_name} {learner.last_name[:1]}."


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """The public page of a document's QR code: what the register says, and whether a
    given file is byte for byte the one issued. No sign-in: the code is the credential."""
    # PostgreSQL refuses a NUL character in a query: no code holds one, and typing it
    # must give the same 404 as any unknown code, not a server error.
    if "\x00" in code:
        raise Http404
    # One indexed lookup of the exact code, whatever it looks like, and the site's
    # ordinary 404 otherwise: an unknown code reads and costs like any missing page.
    document = get_object_or_404(
        IssuedDocument.objects.select_related("learner", "superseded_by"),
        verification_code=code,
    )
    form = PdfCheckForm()
    identical: bool | None = None
    if request.method == "POST":
        form = PdfCheckForm(request.POST, request.FILES)
        if form.is_valid():
            digest = hashlib.sha256()
            for chunk in form.cleaned_data["pdf"].chunks():
                digest.update(chunk)
            identical = digest.hexdigest() == document.sha256
    response = render(
        request,
        "school/verify.html",
        {
            "document": document,
            "learner_name": _masked_name(document.learner) if document.learner else "",
            "form": form,
            "identical": identical,
        },
    )
    # The page names a pupil, however masked: not for search engines; and its URL holds
    # the code, which must not travel on in a Referer header.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
