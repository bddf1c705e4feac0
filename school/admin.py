from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.tmp_storages import MediaStorage
from simple_history.admin import SimpleHistoryAdmin

from . import documents, privacy, services, throttle, views
from .http import AuthenticatedRequest
from .models import (
    Cohort,
    DocumentBatch,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Guardian,
    IssuedDocument,
    Learner,
    Programme,
    User,
)
from .resources import LearnerCSV, LearnerImportResult, LearnerResource, describe_read_error


def _staff_member(request: HttpRequest) -> User:
    # Only signed-in staff get past the admin's login, never an anonymous visitor.
    return cast(User, request.user)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["last_name", "first_name"]
    list_display = ["email", "first_name", "last_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Identité"), {"fields": ["first_name", "last_name"]}),
        (_("Accès"), {"fields": ["role", "is_active", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "first_name", "last_name", "role", "password1", "password2"],
            },
        )
    ]
    filter_horizontal = ["groups"]


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["title", "code", "level", "rncp_code", "total_hours", "placement_weeks"]
    list_filter = ["level"]
    search_fields = ["title", "code", "rncp_code"]
    prepopulated_fields = {"code": ["title"]}

    @admin.display(description=_("semaines de PFMP"))
    def placement_weeks(self, programme: Programme) -> str:
        return f"{programme.placement_weeks_min}–{programme.placement_weeks_max}"


class EnrolmentInlineForm(forms.ModelForm):
    class Meta:
        model = Enrolment
        fields = ["learner", "start_date"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        learner = self.cleaned_data.get("learner")
        start_date = self.cleaned_data.get("start_date")
        if self.instance.pk is None and learner is not None and start_date is not None:
            # The form leaves "status" out, so Django skips the constraints that involve
            # it (one active enrolment per learner); check the enrolment as it will be.
            Enrolment(
                learner=learner,
                cohort_id=self.instance.cohort_id,
                start_date=start_date,
            ).validate_constraints()
        return self.cleaned_data


class EnrolmentInline(admin.TabularInline):
    """New enrolments made here go through the same service as anywhere else."""

    model = Enrolment
    form = EnrolmentInlineForm
    fields = ["learner", "start_date", "status", "end_date"]
    readonly_fields = ["status", "end_date"]
    autocomplete_fields = ["learner"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "programme", "start_date", "end_date", "head_trainer", "active_count"]
    list_filter = ["programme", "head_trainer"]
    search_fields = ["name"]
    date_hierarchy = "start_date"
    filter_horizontal = ["trainers"]
    list_select_related = ["programme", "head_trainer"]
    inlines = [EnrolmentInline]
    actions = ["issue_documents"]

    @admin.action(description=_("Émettre des attestations pour la promotion"))
    def issue_documents(self, request: HttpRequest, queryset: QuerySet[Cohort]) -> Any:
        if queryset.count() != 1:
            self.message_user(request, _("Choisissez une seule promotion."), messages.WARNING)
            return None
        return HttpResponseRedirect(f"{reverse('batch-create')}?cohort={queryset.get().pk}")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cohort]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_count=Count(
                    "enrolments", filter=Q(enrolments__status=EnrolmentStatus.ACTIVE)
                )
            )
        )

    @admin.display(description=_("apprenants en formation"), ordering="active_count")
    def active_count(self, cohort: Cohort) -> int:
        return cohort.active_count  # type: ignore[attr-defined]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Enrolment:
            super().save_formset(request, form, formset, change)
            return
        for enrolment in formset.save(commit=False):
            if enrolment.pk is None:
                services.enrolment_create(
                    learner=enrolment.learner,
                    cohort=form.instance,
                    start_date=enrolment.start_date,
                    by=_staff_member(request),
                )


class GuardianInline(admin.StackedInline):
    model = Guardian
    extra = 0
    max_num = 2
    fields = [
        ("rank", "relationship"),
        ("first_name", "last_name"),
        ("email", "phone"),
        "address",
        "user",
    ]
    autocomplete_fields = ["user"]


class LearnerEnrolmentInline(EnrolmentInline):
    fields = ["cohort", "start_date", "status", "end_date"]
    autocomplete_fields = ["cohort"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a learner joins a cohort from the cohort's page


class LearnerImportForm(ImportForm):
    cohort = forms.ModelChoiceField(
        label=_("Promotion par défaut"),
        queryset=Cohort.objects.all(),
        required=False,
        help_text=_("Pour les lignes dont la colonne « promotion » est absente ou vide."),
    )


class LearnerConfirmImportForm(ConfirmImportForm):
    # Carries the chosen cohort from the preview to the confirmation.
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.all(), required=False, widget=forms.HiddenInput
    )


@admin.register(Learner)
class LearnerAdmin(ImportMixin, SimpleHistoryAdmin):
    list_display = ["last_name", "first_name", "birth_date", "is_minor", "email", "ine"]
    search_fields = ["last_name", "first_name", "email", "ine"]
    list_filter = ["enrolments__cohort", "enrolments__status"]
    autocomplete_fields = ["user"]
    inlines = [GuardianInline, LearnerEnrolmentInline]
    fieldsets = [
        (_("Identité"), {"fields": [("first_name", "last_name"), "birth_date", "ine"]}),
        (_("Coordonnées"), {"fields": [("email", "phone"), "address", ("postal_code", "city")]}),
        (_("Compte"), {"fields": ["user"]}),
    ]

    actions = ["export_personal_data"]

    @admin.action(description=_("Exporter ses données personnelles (RGPD, droit d'accès)"))
    def export_personal_data(self, request: HttpRequest, queryset: QuerySet[Learner]) -> Any:
        if queryset.count() != 1:
            self.message_user(request, _("Choisissez un seul apprenant."), messages.WARNING)
            return None
        allowed, _retry_after = throttle.allow("exports", throttle.client_key(request))
        if not allowed:
            self.message_user(
                request, _("Trop d'exports : réessayez dans quelques minutes."), messages.ERROR
            )
            return None
        learner = queryset.get()
        response = HttpResponse(privacy.learner_export(learner), content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="donnees-personnelles-{learner.pk}.zip"'
        )
        return response

    # The CSV import: same file, same rules and same messages as `manage.py import_learners`.
    resource_classes = [LearnerResource]
    import_formats = [LearnerCSV]
    import_form_class = LearnerImportForm
    confirm_form_class = LearnerConfirmImportForm
    # Preview and confirmation may reach different web nodes: keep the uploaded file in
    # the shared Django storage, not in one machine's /tmp.
    tmp_storage_class = MediaStorage

    @admin.display(description=_("mineur"), boolean=True)
    def is_minor(self, learner: Learner) -> bool:
        return learner.is_minor_on(timezone.localdate())

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form")
        return {"default_cohort": getattr(form, "cleaned_data", {}).get("cohort")}

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None and import_form.cleaned_data.get("cohort"):
            initial["cohort"] = import_form.cleaned_data["cohort"].pk
        return initial

    def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
        form.add_error("import_file", describe_read_error(e))

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        response = super().import_action(request, **kwargs)
        if isinstance(response, TemplateResponse) and response.context_data:
            context = response.context_data
            result = context.get("result")
            # The library tucks row errors in a hover box: list them where staff look first.
            if result is not None:
                for problem in result.error_messages():
                    messages.error(request, problem)
            if "confirm_form" not in context:
                self._forget_upload(context.get("form"))
        return response

    def _forget_upload(self, form: Any) -> None:
        """A refused file will never be confirmed: it holds minors' personal data, so it
        does not wait in the media storage."""
        upload = getattr(form, "cleaned_data", {}).get("import_file")
        name = getattr(upload, "tmp_storage_name", None)
        if name:
            self.get_tmp_storage_class()(name=name, **self.get_tmp_storage_class_kwargs()).remove()

    def process_result(self, result: LearnerImportResult, request: HttpRequest) -> HttpResponse:
        # The data may have changed since the preview (a learner added with the same
        # e-mail…): the import was rolled back, say why rather than report a success.
        problems = result.error_messages()
        if problems:
            for problem in problems:
                messages.error(request, problem)
            app_label, model_name = self.get_model_info()
            return HttpResponseRedirect(reverse(f"admin:{app_label}_{model_name}_import"))
        return super().process_result(result, request)

    def add_success_message(self, result: LearnerImportResult, request: HttpRequest) -> None:
        messages.success(request, result.summary())


@admin.register(Guardian)
class GuardianAdmin(SimpleHistoryAdmin):
    list_display = ["last_name", "first_name", "learner", "rank", "relationship", "email", "phone"]
    list_filter = ["relationship", "rank"]
    search_fields = ["last_name", "first_name", "email", "learner__last_name"]
    list_select_related = ["learner"]
    autocomplete_fields = ["learner", "user"]


class EnrolmentStatusChangeInline(admin.TabularInline):
    model = EnrolmentStatusChange
    fields = ("status", "effective_on", "reason", "changed_by", "changed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EnrolmentForm(forms.ModelForm):
    """The status is changed with a date and a reason, recorded by the service."""

    effective_on = forms.DateField(
        label=_("à compter du"), required=False, help_text=_("Aujourd'hui si vide.")
    )
    reason = forms.CharField(label=_("motif du changement"), required=False, max_length=255)

    class Meta:
        model = Enrolment
        fields = ["learner", "cohort", "start_date", "status"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.instance.pk and "status" in self.changed_data:
            original = Enrolment.objects.get(pk=self.instance.pk)
            original.check_status_change(
                cleaned["status"],
                cleaned.get("effective_on") or timezone.localdate(),
                cleaned.get("reason", ""),
            )
        return cleaned


@admin.register(Enrolment)
class EnrolmentAdmin(SimpleHistoryAdmin):
    form = EnrolmentForm
    list_display = ["learner", "cohort", "status", "start_date", "end_date"]
    list_filter = ["status", "cohort"]
    search_fields = ["learner__last_name", "learner__first_name", "cohort__name"]
    list_select_related = ["learner", "cohort"]
    autocomplete_fields = ["learner", "cohort"]
    readonly_fields = ["end_date"]
    inlines = [EnrolmentStatusChangeInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["end_date", "status"]
        return ["learner", "cohort", "start_date", "end_date"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["learner", "cohort", "start_date"]
        return ["learner", "cohort", "start_date", "end_date", "status", "effective_on", "reason"]

    def save_model(self, request: HttpRequest, obj: Enrolment, form: Any, change: bool) -> None:
        if not change:
            saved = services.enrolment_create(
                learner=obj.learner,
                cohort=obj.cohort,
                start_date=obj.start_date,
                by=_staff_member(request),
            )
            obj.pk = saved.pk
        elif "status" in form.changed_data:
            services.enrolment_change_status(
                enrolment=Enrolment.objects.get(pk=obj.pk),
                status=obj.status,
                effective_on=form.cleaned_data.get("effective_on"),
                reason=form.cleaned_data.get("reason", ""),
                by=_staff_member(request),
            )


class RevokeActionForm(ActionForm):
    # Next to the action menu: the reason travels with the chosen documents.
    reason = forms.CharField(
        label=_("Motif de révocation (affiché sur la page publique)"),
        required=False,
        max_length=255,
    )


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(SimpleHistoryAdmin):
    """The register, read-only: entries come from issuing and change only by
    reissuing (a new number) or by the « Révoquer » action, with its reason (which
    cancels a number still being rendered)."""

    list_display = ["number", "title", "learner", "issued_at", "status", "pdf_link"]
    list_filter = ["kind", "status", "year"]
    search_fields = ["number", "learner__last_name", "learner__first_name"]
    list_select_related = ["learner"]
    fields = [
        "number",
        "title",
        "kind",
        "learner",
        "subject",
        "issued_at",
        "issued_by",
        "sha256",
        "pdf_link",
        "verification_link",
        "status",
        "superseded_by",
        "revoked_at",
        "revoked_by",
        "revocation_reason",
    ]
    # The file field itself would link to the media URL, which no one should serve.
    readonly_fields = ["pdf_link", "verification_link"]
    action_form = RevokeActionForm
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a document is issued by the engine, never typed in

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a number handed out stays in the register

    @admin.display(description=_("PDF"))
    def pdf_link(self, document: IssuedDocument) -> str:
        if not document.is_issued:
            return "—"  # its PDF is still being rendered by a worker
        url = reverse("api:document-pdf", args=[document.pk])
        return format_html('<a href="{}">{}</a>', url, _("Télécharger"))

    @admin.display(description=_("page de vérification"))
    def verification_link(self, document: IssuedDocument) -> str:
        if not document.is_issued:
            return "—"  # the page answers once the PDF is stored
        url = documents.verification_url(document.verification_code)
        return format_html('<a href="{}" rel="noreferrer">{}</a>', url, url)

    @admin.action(
        description=_(
            "Révoquer les documents choisis, ou annuler les numéros en cours d'émission "
            "(motif ci-contre)"
        )
    )
    def revoke(self, request: HttpRequest, queryset: QuerySet[IssuedDocument]) -> None:
        revoked, refused = services.documents_revoke(
            documents=queryset, reason=request.POST.get("reason", ""), by=_staff_member(request)
        )
        for number, reasons in refused.items():
            messages.error(request, f"{number} : {' '.join(reasons)}")
        if revoked:
            messages.success(
                request,
                ngettext("%(count)d document révoqué.", "%(count)d documents révoqués.", revoked)
                % {"count": revoked},
            )


@admin.register(DocumentBatch)
class DocumentBatchAdmin(admin.ModelAdmin):
    """Batches, read-only; « Ajouter » is the staff page that launches one (cohort,
    kind, period), so the form and its checks exist once."""

    list_display = ["__str__", "created_by", "progress", "progress_link"]
    list_filter = ["kind"]
    list_select_related = ["cohort", "created_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DocumentBatch]:
        return super().get_queryset(request).with_progress()  # type: ignore[attr-defined]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # The admin site lets only signed-in staff this far.
        return views.batch_create(cast(AuthenticatedRequest, request))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("avancement"))
    def progress(self, batch: DocumentBatch) -> str:
        return f"{batch.done_count} / {batch.item_count} ({batch.get_status_display()})"

    @admin.display(description=_("suivi"))
    def progress_link(self, batch: DocumentBatch) -> str:
        url = reverse("batch-detail", args=[batch.pk])
        return format_html('<a href="{}">{}</a>', url, _("Voir le lot"))
