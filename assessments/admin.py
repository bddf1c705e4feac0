"""The back office: terms and the CCF grid are typed here; a situation too, with its
weighted competencies (the same check as the service's). Results are read here, with
their history, and written from the grid or the API only (one place for their rules)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import (
    CCFUnit,
    PlacementGrid,
    Result,
    ResultLevel,
    Situation,
    SituationCompetency,
    Term,
    TermComment,
)


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["name", "cohort", "start_date", "end_date", "council_date"]
    list_filter = ["cohort"]
    list_select_related = ["cohort"]


@admin.register(CCFUnit)
class CCFUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "programme", "coefficient"]
    list_filter = ["programme"]
    list_select_related = ["programme"]


class WeightsFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        weights = {
            form.cleaned_data["competency"].pk: form.cleaned_data["weight"]
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("competency")
        }
        if weights:
            try:
                services.check_weights(weights)
            except ValidationError as error:
                raise ValidationError(error.messages) from error


class WeightInline(admin.TabularInline):
    model = SituationCompetency
    formset = WeightsFormSet
    extra = 2
    autocomplete_fields = ["competency"]


@admin.register(Situation)
class SituationAdmin(SimpleHistoryAdmin):
    list_display = ["title", "cohort", "course", "kind", "date", "published_at", "locked_at"]
    list_filter = ["kind", "cohort"]
    search_fields = ["title"]
    list_select_related = ["cohort", "course"]
    filter_horizontal = ["assessors"]
    readonly_fields = ["published_at", "locked_at"]
    inlines = [WeightInline]


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LevelInline(ReadOnly, admin.TabularInline):
    model = ResultLevel
    fields = ["competency", "level", "evidence"]
    extra = 0


@admin.register(Result)
class ResultAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ["learner", "situation", "status", "mark", "assessor_name", "entered_at"]
    list_filter = ["status", "situation__kind"]
    search_fields = ["learner__last_name", "situation__title"]
    list_select_related = ["learner", "situation"]
    inlines = [LevelInline]


@admin.register(TermComment)
class TermCommentAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ["learner", "term", "course", "author", "updated_at"]
    list_select_related = ["learner", "term__cohort", "course", "author"]


@admin.register(PlacementGrid)
class PlacementGridAdmin(ReadOnly, admin.ModelAdmin):
    """Sent from the situation's grid page; the tutor's answer is the result's."""

    list_display = ["situation", "placement", "sent_to", "sent_at", "submitted_at", "tutor_name"]
    list_select_related = ["situation", "placement__learner", "placement__company"]
    search_fields = ["placement__learner__last_name", "situation__title", "sent_to"]
    exclude = ["token_hash"]
