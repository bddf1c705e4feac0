from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters


class ScopedFilterSet(filters.FilterSet):
    """Choice filters offer only the objects the requesting user may see.

    Without it, ``?company=<id>`` of another company would answer an empty list while
    an unknown id answers 400: a way to probe which ids exist. Now both answer 400.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        for choice_filter in self.filters.values():
            queryset = getattr(choice_filter, "queryset", None)
            if isinstance(queryset, QuerySet) and hasattr(queryset, "visible_to"):
                choice_filter.queryset = queryset.visible_to(user)


class ScopedFilterBackend(filters.DjangoFilterBackend):
    filterset_base = ScopedFilterSet
