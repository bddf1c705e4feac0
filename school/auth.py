"""django-axes hooks: how a login attempt is counted, and what a locked-out login gets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account an attempt is counted against, spelled as the login matches it.

    Logging in ignores case (``UserManager.get_by_natural_key``); counting by the exact
    spelling would give ``Eleve@…``, ``eLeve@…`` five fresh tries each.
    """
    source = credentials if credentials else request.POST
    username = source.get("username")
    return username.strip().lower() if isinstance(username, str) else None


def lockout(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """What django-axes answers to a locked-out login: JSON for the API, a page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("Trop d'échecs de connexion : compte verrouillé pendant 15 minutes.")},
            status=429,
        )
    return render(request, "registration/lockout.html", status=429)
