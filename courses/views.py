"""Placeholder until the pages land (attendance, week views, cover list)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def _not_yet(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


my_week = week = roll_call = mark_attendance = validate_attendance = _not_yet
sign_presence = cover_expiring = _not_yet
