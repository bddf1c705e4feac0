"""Back office of placements.

Offers and visits are edited here. A placement's dates, schedule and people, its
versions and signatures change only through the services (the pages and the API),
which check the working-time rules, the overlaps and void signatures: here they are
shown, and the admin actions call the same services.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from school.models import User

from . import services
from .models import (
    Absence,
    AgreementVersion,
    Application,
    EvaluationLine,
    Placement,
    PlacementOffer,
    ScheduleSlot,
    Signature,
    TutorEvaluation,
    Visit,
)


@admin.register(PlacementOffer)
class PlacementOfferAdmin(admin.ModelAdmin):
    list_display = ["title", "company", "start_date", "end_date", "places", "status"]
    list_filter = ["status", "company__sector", "city"]
    search_fields = ["title", "company__legal_name", "city"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]
    filter_horizontal = ["competencies"]
    readonly_fields = ["status", "published_at", "created_by", "created_at"]
    actions = ["publish"]

    @admin.action(description=_("Publier les offres sélectionnées"))
    def publish(self, request: HttpRequest, queryset: QuerySet[PlacementOffer]) -> None:
        _run(request, queryset, services.offer_publish)


@admin.register(Application)
class ApplicationAdmin(SimpleHistoryAdmin):
    list_display = ["learner", "offer", "status", "created_at", "decided_at"]
    list_filter = ["status", "offer__company"]
    search_fields = ["learner__last_name", "learner__first_name", "offer__title"]
    list_select_related = ["learner", "offer__company"]
    readonly_fields = [
        "offer",
        "learner",
        "message",
        "status",
        "rejection_reason",
        "created_at",
        "decided_by",
        "decided_at",
    ]
    actions = ["accept"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(
        description=_("Accepter les candidatures sélectionnées (dans la limite des places)")
    )
    def accept(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        _run(
            request,
            queryset,
            lambda application: services.application_accept(application, by=_user(request)),
        )


class ScheduleSlotInline(admin.TabularInline):
    model = ScheduleSlot
    extra = 0
    can_delete = False
    readonly_fields = ["weekday", "start_time", "end_time"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


VERSION_FIELDS = ("number", "is_amendment", "status", "document", "created_at", "signed_at")
SIGNATURE_FIELDS = (
    "order",
    "role",
    "name",
    "email",
    "method",
    "signed_at",
    "ip_address",
    "pdf_sha256",
    "scan",
)


class VersionInline(admin.TabularInline):
    model = AgreementVersion
    extra = 0
    can_delete = False
    fields = VERSION_FIELDS
    readonly_fields = VERSION_FIELDS
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Each row prints itself, and its __str__ names these.
        return (
            super().get_queryset(request).select_related("placement__learner", "placement__company")
        )


class AbsenceInline(admin.TabularInline):
    """Absences are recorded here: they shorten the duration the attestation states."""

    model = Absence
    extra = 0
    fields = ["date", "hours", "justified", "reason"]


class VisitInline(admin.TabularInline):
    model = Visit
    extra = 0
    fields = ["kind", "date", "notes", "by"]
    autocomplete_fields = ["by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Each row prints itself, and its __str__ names these.
        return (
            super()
            .get_queryset(request)
            .select_related("placement__learner", "placement__company", "by")
        )


@admin.register(Placement)
class PlacementAdmin(SimpleHistoryAdmin):
    list_display = ["learner", "company", "start_date", "end_date", "status", "referent"]
    list_filter = ["status", "company__sector"]
    search_fields = ["learner__last_name", "learner__first_name", "company__legal_name"]
    list_select_related = ["learner", "company", "referent"]
    date_hierarchy = "start_date"
    inlines = [ScheduleSlotInline, VersionInline, AbsenceInline, VisitInline]
    actions = ["freeze", "request_evaluation"]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for instance in formset.save(commit=False):
            if isinstance(instance, Absence | Visit) and not instance.pk:
                setattr(
                    instance,
                    "recorded_by" if isinstance(instance, Absence) else "by",
                    _user(request),
                )
        super().save_formset(request, form, formset, change)

    @admin.action(description=_("Demander l'évaluation au tuteur (nouveau lien)"))
    def request_evaluation(self, request: HttpRequest, queryset: QuerySet[Placement]) -> None:
        _run(request, queryset, services.evaluation_request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Placement._meta.fields] + ["competencies"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A placement comes from an accepted application, or from the placement page.
        return False

    @admin.action(description=_("Rendre prêtes à signer (figer une version)"))
    def freeze(self, request: HttpRequest, queryset: QuerySet[Placement]) -> None:
        _run(
            request,
            queryset,
            lambda placement: services.placement_freeze(placement, by=_user(request)),
        )


class SignatureInline(admin.TabularInline):
    model = Signature
    extra = 0
    can_delete = False
    fields = SIGNATURE_FIELDS
    readonly_fields = SIGNATURE_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Signature)
class SignatureAdmin(SimpleHistoryAdmin):
    """Read only: a block changes by signing (page, link, paper scan), never by hand;
    here the staff read each block's history — who signed, when, from where."""

    list_display = ["version", "role", "name", "method", "signed_at"]
    list_filter = ["role", "method"]
    search_fields = ["name", "email", "version__placement__learner__last_name"]
    list_select_related = ["version__placement__learner", "version__placement__company"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Signature._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AgreementVersion)
class AgreementVersionAdmin(SimpleHistoryAdmin):
    list_display = ["placement", "number", "is_amendment", "status", "created_at", "signed_at"]
    list_filter = ["status", "is_amendment"]
    search_fields = ["placement__learner__last_name", "placement__company__legal_name"]
    list_select_related = ["placement__learner", "placement__company"]
    inlines = [SignatureInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AgreementVersion._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class EvaluationLineInline(admin.TabularInline):
    model = EvaluationLine
    extra = 0
    can_delete = False
    fields = readonly_fields = ("competency", "level")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Each row prints itself, and its __str__ names these.
        return super().get_queryset(request).select_related("competency")


@admin.register(TutorEvaluation)
class TutorEvaluationAdmin(SimpleHistoryAdmin):
    list_display = ["placement", "sent_to", "sent_at", "reminders_sent", "submitted_at"]
    list_select_related = ["placement__learner", "placement__company"]
    search_fields = ["placement__learner__last_name", "sent_to"]
    inlines = [EvaluationLineInline]
    exclude = ["token_hash"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in TutorEvaluation._meta.fields if f.name != "token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Révoquer le lien d'évaluation"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[TutorEvaluation]) -> None:
        _run(request, queryset, services.evaluation_revoke)


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["placement", "kind", "date", "by"]
    list_filter = ["kind"]
    list_select_related = ["placement__learner", "placement__company", "by"]
    autocomplete_fields = ["by"]
    raw_id_fields = ["placement"]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # the admin lets staff alone in


def _run(request: HttpRequest, queryset: QuerySet[Any], service: Any) -> None:
    done = 0
    for obj in queryset:
        try:
            service(obj)
        except ValidationError as error:
            messages.error(request, f"{obj} : {' '.join(error.messages)}")
        else:
            done += 1
    if done:
        messages.success(request, _("%(count)s élément(s) traité(s).") % {"count": done})
