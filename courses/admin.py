from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from school.models import Cohort, Learner, Role, User

from . import services
from .models import (
    Attendance,
    Characteristic,
    ClosurePeriod,
    Competency,
    CompetencyBlock,
    CompetencyEvidence,
    Course,
    Derogation,
    ExcuseNote,
    Inspection,
    Machine,
    MedicalFitness,
    OrderEvent,
    Room,
    SafetyTraining,
    Session,
    SessionSeries,
    SessionStatus,
    TimeLog,
    WorkshopOrder,
)


class CompetencyInline(admin.TabularInline):
    model = Competency
    extra = 0


@admin.register(CompetencyBlock)
class CompetencyBlockAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "programme"]
    list_filter = ["programme"]
    search_fields = ["code", "title"]
    inlines = [CompetencyInline]


@admin.register(Competency)
class CompetencyAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "block"]
    list_filter = ["block__programme"]
    search_fields = ["code", "title"]
    list_select_related = ["block"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "programme", "kind", "planned_hours"]
    list_filter = ["programme", "kind"]
    search_fields = ["code", "title"]
    filter_horizontal = ["competencies"]
    list_select_related = ["programme"]


class MachineInline(admin.TabularInline):
    model = Machine
    extra = 0


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "capacity"]
    list_filter = ["kind"]
    search_fields = ["name"]
    inlines = [MachineInline]


@admin.register(Machine)
class MachineAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "room", "is_active"]
    list_filter = ["kind", "room", "is_active"]
    search_fields = ["name"]
    list_select_related = ["room"]


@admin.register(ClosurePeriod)
class ClosurePeriodAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "start_date", "end_date"]
    list_filter = ["kind"]
    date_hierarchy = "start_date"


class ReadOnlySessionInline(admin.TabularInline):
    model = Session
    fields = ("start", "end", "trainer", "room", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # sessions of a series are created by the series builder

    def get_queryset(self, request: HttpRequest) -> QuerySet[Session]:
        # Each row prints its session (course) and its trainer and room.
        return super().get_queryset(request).select_related("course", "trainer", "room")


WEEKDAYS = [_("lundi"), _("mardi"), _("mercredi"), _("jeudi"), _("vendredi"), _("samedi")]


class SeriesBuilderForm(forms.Form):
    """A weekly series, as staff describe it; the series service checks all of it."""

    course = forms.ModelChoiceField(Course.objects.select_related("programme"), label=_("module"))
    cohort = forms.ModelChoiceField(Cohort.objects.all(), label=_("promotion"))
    learners = forms.ModelMultipleChoiceField(
        Learner.objects.all(),
        required=False,
        label=_("groupe"),
        help_text=_("Vide : toute la promotion."),
        # Searched as typed (the session admin's autocomplete), not a list of every
        # learner of the network written into the page.
        widget=AutocompleteSelectMultiple(Session._meta.get_field("learners"), admin.site),
    )
    trainer = forms.ModelChoiceField(User.objects.filter(role=Role.TRAINER), label=_("formateur"))
    room = forms.ModelChoiceField(Room.objects.all(), label=_("salle"))
    machines = forms.ModelMultipleChoiceField(
        Machine.objects.filter(is_active=True), required=False, label=_("machines")
    )
    weekday = forms.TypedChoiceField(
        choices=list(enumerate(WEEKDAYS)), coerce=int, label=_("jour de la semaine")
    )
    start_time = forms.TimeField(label=_("début"), widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label=_("fin"), widget=forms.TimeInput(attrs={"type": "time"}))
    first_date = forms.DateField(label=_("du"), widget=forms.DateInput(attrs={"type": "date"}))
    last_date = forms.DateField(label=_("au"), widget=forms.DateInput(attrs={"type": "date"}))


@admin.register(SessionSeries)
class SessionSeriesAdmin(admin.ModelAdmin):
    list_display = ["course", "cohort", "weekday", "start_time", "first_date", "last_date"]
    list_filter = ["cohort"]
    list_select_related = ["course", "cohort"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [ReadOnlySessionInline]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The series builder: every session of the pattern, or none, with every conflict."""
        form = SeriesBuilderForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                series = services.series_create(by=_staff(request), **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    _("%(count)d séances créées.") % {"count": series.sessions.count()},
                    messages.SUCCESS,
                )
                return redirect("admin:courses_sessionseries_change", series.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Créer une série de séances"),
            "form": form,
        }
        return TemplateResponse(request, "admin/courses/series_builder.html", context)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a series is a record of what was built; sessions are edited one by one


class AttendanceInline(admin.TabularInline):
    model = Attendance
    fields = ("learner", "status", "reason", "signed_at", "recorded_by", "recorded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the roll call is taken on the session's émargement page

    def get_queryset(self, request: HttpRequest) -> QuerySet[Attendance]:
        return (
            super()
            .get_queryset(request)
            .select_related("learner", "recorded_by", "session__course")
        )


class SessionAdminForm(forms.ModelForm):
    """The back office plans through the services, as the API and the series do: the
    form checks the session (its errors shown on the form), ``save_model`` writes it.
    The admin validates and saves in one transaction, which keeps the check's locks."""

    by: User | None = None  # who plans: set per request by ``SessionAdmin.get_form``
    planned: services.Planned

    class Meta:
        model = Session
        fields = ["course", "cohort", "learners", "trainer", "room", "machines", "start", "end"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        fields = {name: cleaned[name] for name in services.CHANGEABLE}
        if self.instance.pk:
            self.planned = services.session_plan_update(session=self.instance, by=self.by, **fields)
        else:
            self.planned = services.session_plan_create(
                cohort=cleaned["cohort"], by=self.by, **fields
            )
        return cleaned


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    form = SessionAdminForm
    list_display = ["course", "cohort", "trainer", "room", "start", "end", "status"]
    list_filter = ["status", "cohort", "trainer", "room"]
    search_fields = ["course__title", "cohort__name"]
    date_hierarchy = "start"
    list_select_related = ["course", "cohort", "trainer", "room"]
    autocomplete_fields = ["learners"]
    filter_horizontal = ["machines"]
    readonly_fields = [
        "status",
        "sequence",
        "series",
        "attendance_validated_at",
        "attendance_validated_by",
    ]
    inlines = [AttendanceInline]
    actions = ["cancel_sessions"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A session never moves to another cohort: cancel it and plan another.
        return [*self.readonly_fields, "cohort"] if obj else list(self.readonly_fields)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A cancelled session, or one whose roll call is validated, is a record now.
        if obj is not None and (
            obj.status == SessionStatus.CANCELLED or obj.is_attendance_validated
        ):
            return False
        return super().has_change_permission(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        assert issubclass(form, SessionAdminForm)  # noqa: S101
        form.by = _staff(request)  # a class made for this request (modelform_factory)
        return form

    def save_model(self, request: HttpRequest, obj: Session, form: Any, change: bool) -> None:
        obj.pk = form.planned.write().pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The service has written the group and the machines already.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description=_("Annuler les séances sélectionnées"))
    def cancel_sessions(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        cancelled = 0
        for session in queryset.exclude(status=SessionStatus.CANCELLED):
            try:
                services.session_cancel(session=session, by=_staff(request))
                cancelled += 1
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
        self.message_user(request, _("%(count)d séance(s) annulée(s).") % {"count": cancelled})


def _staff(request: HttpRequest) -> User:
    # Only signed-in staff reach the back office.
    return cast(User, request.user)


@admin.register(Derogation)
class DerogationAdmin(admin.ModelAdmin):
    list_display = ["declared_on", "valid_until", "reference", "kinds"]

    @admin.display(description=_("types couverts"))
    def kinds(self, derogation: Derogation) -> str:
        labels = dict(Machine._meta.get_field("kind").choices or [])
        return ", ".join(str(labels.get(kind, kind)) for kind in derogation.machine_kinds)


@admin.register(MedicalFitness)
class MedicalFitnessAdmin(admin.ModelAdmin):
    list_display = ["learner", "issued_on", "valid_until"]
    search_fields = ["learner__last_name", "learner__first_name"]
    autocomplete_fields = ["learner"]
    list_select_related = ["learner"]
    date_hierarchy = "valid_until"


@admin.register(SafetyTraining)
class SafetyTrainingAdmin(admin.ModelAdmin):
    list_display = ["learner", "machine_kind", "trained_on", "trainer"]
    list_filter = ["machine_kind"]
    search_fields = ["learner__last_name", "learner__first_name"]
    autocomplete_fields = ["learner"]
    list_select_related = ["learner", "trainer"]


@admin.register(Attendance)
class AttendanceAdmin(SimpleHistoryAdmin):
    list_display = ["session", "learner", "status", "signed_at", "recorded_by"]
    list_filter = ["status"]
    search_fields = ["learner__last_name", "session__course__title"]
    list_select_related = ["session__course", "learner", "recorded_by"]
    readonly_fields = ["session", "learner", "signed_at", "recorded_by", "recorded_at"]

    # The roll call page is where attendance changes, under its rules; here, the record
    # and its history.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CompetencyEvidence)
class CompetencyEvidenceAdmin(SimpleHistoryAdmin):
    list_display = ["learner", "competency", "level", "source", "assessor_name", "date"]
    list_filter = ["source", "level", "competency__block__programme"]
    search_fields = ["learner__last_name", "learner__first_name", "competency__code"]
    list_select_related = ["learner", "competency"]
    autocomplete_fields = ["learner", "assessor"]
    raw_id_fields = ["competency"]
    date_hierarchy = "date"


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "from_status", "to_status", "by", "note")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Each row prints itself, and its __str__ names these.
        return super().get_queryset(request).select_related("order__company", "by")


class TimeLogInline(admin.TabularInline):
    model = TimeLog
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "session",
        "learner",
        "hours",
        "operation",
        "machine",
        "parts_made",
        "parts_scrapped",
        "logged_by",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Each row prints itself, and its __str__ names these.
        return (
            super()
            .get_queryset(request)
            .select_related("learner", "order", "session__course", "machine", "logged_by")
        )


@admin.register(WorkshopOrder)
class WorkshopOrderAdmin(SimpleHistoryAdmin):
    """Orders are shown here; each move (with who and when) is made on the order's page
    or through the API, by the services that check the role and the rules."""

    list_display = ["reference", "company", "quantity", "requested_date", "status", "supervisor"]
    list_filter = ["status", "company__sector"]
    search_fields = ["reference", "description", "company__legal_name"]
    list_select_related = ["company", "supervisor"]
    date_hierarchy = "requested_date"
    inlines = [OrderEventInline, TimeLogInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The material's cost is the office's figure (the margin of the workshop's sales):
        # the one field typed here.
        fields = [f.name for f in WorkshopOrder._meta.fields if f.name != "material_cost"]
        return [*fields, "sessions", "learners"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class CharacteristicInline(admin.TabularInline):
    model = Characteristic
    extra = 0
    can_delete = False
    fields = readonly_fields = ("name", "nominal", "lower_tolerance", "upper_tolerance", "unit")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Inspection)
class InspectionAdmin(SimpleHistoryAdmin):
    list_display = ["order", "inspected_on", "inspected_by", "countersigned_at", "document"]
    list_select_related = ["order__company", "inspected_by", "document"]
    inlines = [CharacteristicInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Inspection._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ExcuseNote)
class ExcuseNoteAdmin(SimpleHistoryAdmin):
    """Read here; answered on the « Absences » page, where accepting excuses the days'
    absences in the émargement (one place for that rule)."""

    list_display = ["learner", "first_day", "last_day", "status", "sent_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["learner__last_name", "reason"]
    list_select_related = ["learner"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
