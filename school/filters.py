from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters

# What a primary key may be: a 64-bit integer. Beyond, the database itself refuses the
# query (SQLite: OverflowError) and the client would get a 500 instead of a 400.
PK_RANGE = range(-(2**63), 2**63)


def _check_pk_range(field: forms.Field, values: Any) -> None:
    for value in values:
        try:
            number = int(str(value))
        except ValueError:
            continue  # not a number: Django's own check says so
        if number not in PK_RANGE:
            raise ValidationError(
                field.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )


class ModelChoiceField(filter_fields.ModelChoiceField):
    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values:
            _check_pk_range(self, [value])
        return super().to_python(value)


class ModelMultipleChoiceField(filter_fields.ModelMultipleChoiceField):
    def _check_values(self, value: Any) -> Any:
        _check_pk_range(self, value)
        return super()._check_values(value)


class ScopedFilterSet(filters.FilterSet):
    """Choice filters offer only the objects the requesting user may see.

    Without it, ``?company=<id>`` of another company would answer an empty list while
    an unknown id answers 400: a way to probe which ids exist. Now both answer 400 — and
    so does an id too large for the database.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        for choice_filter in self.filters.values():
            queryset = getattr(choice_filter, "queryset", None)
            if isinstance(queryset, QuerySet) and hasattr(queryset, "visible_to"):
                choice_filter.queryset = queryset.visible_to(user)
            if isinstance(choice_filter, filters.ModelMultipleChoiceFilter):
                choice_filter.field_class = ModelMultipleChoiceField
            elif isinstance(choice_filter, filters.ModelChoiceFilter):
                choice_filter.field_class = ModelChoiceField
            elif isinstance(choice_filter, filters.NumberFilter):
                # A number compared in SQL (?cohort=<id>) stays within what the database
                # holds, or the client gets a 500 instead of a 400.
                choice_filter.extra.setdefault("min_value", PK_RANGE.start)
                choice_filter.extra.setdefault("max_value", PK_RANGE.stop - 1)


class ScopedFilterBackend(filters.DjangoFilterBackend):
    filterset_base = ScopedFilterSet
