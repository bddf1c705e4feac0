"""The school's pages: a home per role, cohorts and learners, scoped like the API, and
the public verification page of issued documents."""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from typing import Any, cast

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_htmx.middleware import HtmxDetails
from rest_framework import serializers
from rest_framework.authtoken.models import Token

from . import batches, documents
from .api import download_name
from .http import AuthenticatedRequest
from .models import (
    BatchStatus,
    Cohort,
    DocumentBatch,
    Enrolment,
    EnrolmentStatus,
    Guardian,
    IssuedDocument,
    Learner,
    Role,
)
from .pagination import page_of
from .portal import cohort_sections_for, learner_sections_for, sections_for
from .serializers import _check_parameters
from .throttle import limited


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset page; a new password also ends the account's API token, which the
    old password may have been used to obtain."""

    template_name = "school/password/confirm.html"

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        Token.objects.filter(user=form.user).delete()
        return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """An address that matches no route: under /api/ in the API's error shape (a client
    parses JSON), elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(_("Non trouvé."))}, status=404)
    return defaults.page_not_found(request, exception)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


HOME_COHORTS = 12


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    cohorts = (
        Cohort.objects.visible_to(user)
        .select_related("programme", "head_trainer")
        .with_active_learners()
        .order_by("-start_date", "name")
    )
    # The home page stays one screen whatever the network's size: the latest cohorts,
    # and a link to all of them when there are more.
    latest = list(cohorts[: HOME_COHORTS + 1])
    context: dict[str, object] = {
        "cohorts": latest[:HOME_COHORTS],
        "more_cohorts": len(latest) > HOME_COHORTS,
    }
    if user.role in (Role.LEARNER, Role.GUARDIAN):
        context["learners"] = Learner.objects.visible_to(user).prefetch_related(
            Prefetch("enrolments", queryset=Enrolment.objects.select_related("cohort__programme"))
        )
    context["sections"] = sections_for(request)
    if user.role == Role.STAFF:
        context["batches"] = [
            batch
            for batch in DocumentBatch.objects.with_progress()
            .select_related("cohort")
            .order_by("-created_at")[:5]
            if batch.status != BatchStatus.DONE
        ]
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
        .with_active_learners()
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
        {
            "cohort": cohort,
            "enrolments": enrolments,
            "trainers": cohort.trainers.all(),
            "sections": cohort_sections_for(request, cohort),
        },
    )


@login_required
def learner_list(request: AuthenticatedRequest) -> HttpResponse:
    """Learners the user may see, searched by name, e-mail or INE, by cohort and status."""
    if request.user.role not in (Role.STAFF, Role.TRAINER):
        raise Http404
    learners = Learner.objects.visible_to(request.user).prefetch_related(
        Prefetch(
            "enrolments",
            queryset=Enrolment.objects.select_related("cohort").order_by("-start_date"),
        )
    )
    q = request.GET.get("q", "").strip()
    cohort = request.GET.get("promotion", "")
    status = request.GET.get("statut", "")
    if q:
        learners = learners.filter(
            Q(last_name__icontains=q)
            | Q(first_name__icontains=q)
            | Q(email__icontains=q)
            | Q(ine__iexact=q)
        )
    if cohort.isdigit():
        learners = learners.filter(enrolments__cohort=int(cohort))
    if status in EnrolmentStatus.values:
        learners = learners.filter(enrolments__status=status)
    return render(
        request,
        "school/learner_list.html",
        {
            **page_of(
                request,
                learners.distinct().order_by("last_name", "first_name", "pk"),
                q=q,
                promotion=cohort,
                statut=status,
            ),
            "cohorts": Cohort.objects.visible_to(request.user).order_by("-start_date", "name"),
            "statuses": EnrolmentStatus.choices,
        },
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
    return render(
        request,
        "school/learner_detail.html",
        {"learner": learner, "sections": learner_sections_for(request, learner)},
    )


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
@limited("verify_upload")
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
        IssuedDocument.objects.issued().select_related("learner", "superseded_by"),
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


class DocumentBatchForm(forms.Form):
    cohort = forms.ModelChoiceField(
        label=_("Promotion"), queryset=Cohort.objects.order_by("-start_date", "name")
    )
    kind = forms.ChoiceField(label=_("Document"))
    start = forms.DateField(
        label=_("Début de la période"),
        required=False,
        help_text=_("Attestation d'assiduité seulement."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=_("Fin de la période"),
        required=False,
        help_text=_("Attestation d'assiduité seulement."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [
            (kind.code, kind.title) for kind in batches.batchable_kinds()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "kind" in cleaned:
            # The API's rule of which kind takes which dates, word for word.
            given = {name: day for name in ("start", "end") if (day := cleaned.get(name))}
            try:
                _check_parameters(cleaned["kind"], given)
            except serializers.ValidationError as error:
                detail = cast(dict[str, list[str]], error.detail)
                for name, messages in detail.items():
                    for message in messages:
                        self.add_error(name, str(message))
            cleaned["parameters"] = given
        return cleaned


class HtmxRequest(AuthenticatedRequest):
    """A signed-in request, with what ``HtmxMiddleware`` read from its htmx headers."""

    htmx: HtmxDetails


def _staff_only(request: AuthenticatedRequest) -> None:
    # Batches name every learner of a cohort: to anyone else they do not exist.
    if request.user.role != Role.STAFF:
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
@limited("batches")
def batch_create(request: AuthenticatedRequest) -> HttpResponse:
    _staff_only(request)
    # The cohort admin's action arrives with ?cohort=<id>: start from it.
    form = DocumentBatchForm(request.POST or None, initial={"cohort": request.GET.get("cohort")})
    if request.method == "POST" and form.is_valid():
        try:
            batch = batches.batch_create(
                kind=form.cleaned_data["kind"],
                cohort=form.cleaned_data["cohort"],
                by=request.user,
                **form.cleaned_data["parameters"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("batch-detail", pk=batch.pk)
    return render(request, "school/batch_form.html", {"form": form})


@login_required
def batch_detail(request: HtmxRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    batch = get_object_or_404(
        DocumentBatch.objects.with_progress().select_related("cohort", "created_by"), pk=pk
    )
    items = batch.items.select_related("learner", "document").order_by(
        "learner__last_name", "learner__first_name", "pk"
    )
    context = {
        "batch": batch,
        "kind_title": _kind_title(batch.kind),
        "failures": [item for item in items if item.has_failed],
        "issued": [item for item in items if item.is_issued],
        "finished": batch.status == BatchStatus.DONE,
    }
    # htmx polls the progress alone; it stops once the fragment comes without its trigger.
    template = "school/batch_progress.html" if request.htmx else "school/batch_detail.html"
    return render(request, template, context)


def _kind_title(code: str) -> str:
    try:
        return str(documents.get_kind(code).title)
    except KeyError:
        return code


@login_required
def batch_zip(request: AuthenticatedRequest, pk: int) -> FileResponse:
    _staff_only(request)
    batch = get_object_or_404(DocumentBatch, pk=pk)
    valid = IssuedDocument.objects.valid().filter(batch_item__batch=batch).order_by("sequence")
    # Spooled: a class's PDFs stay in memory, a whole school's spill to a temporary file.
    archive = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 — FileResponse closes it
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for document in valid:
            if document.file_erased():
                continue
            with document.file.open("rb") as pdf:
                bundle.writestr(download_name(document), pdf.read())
    archive.seek(0)
    return FileResponse(
        archive,
        as_attachment=True,
        filename=f"lot-{batch.pk}-{batch.kind.replace('_', '-')}.zip",
        content_type="application/zip",
    )
