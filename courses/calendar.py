"""Placeholder until the calendar feed lands."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def _not_yet(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


feed = rotate = _not_yet
