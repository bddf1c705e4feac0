"""Pagination of the API's lists and of the pages' lists."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


LIST_PAGE_SIZE = 25


def page_of(request: HttpRequest, rows: Any, **filters: str) -> dict[str, Any]:
    """A page of ``rows`` and the query string of the filters, so that every link of the
    pagination keeps them: a filtered list's URL can be shared as it is."""
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({name: value for name, value in filters.items() if value})
    return {"page": page, "query": query, **filters}


def status_page_of(
    request: HttpRequest, rows: models.QuerySet[Any], statuses: type[models.Choices]
) -> dict[str, Any]:
    """``page_of`` for a list filtered by its ``?statut=``: one of ``statuses`` (any
    other value lists them all), kept in the pagination's links, and the choices for the
    filter's menu."""
    status = request.GET.get("statut", "")
    if status not in statuses.values:
        status = ""
    if status:
        rows = rows.filter(status=status)
    return {**page_of(request, rows, statut=status), "status": status, "statuses": statuses.choices}
