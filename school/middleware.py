from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy header of ``settings.CONTENT_SECURITY_POLICY``.

    Django 5.2 has no CSP support of its own (it arrives in 6.0); one header is all
    we need, so a dependency would add nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


NO_STORE = "private, no-store"
# Answers that are personal whoever asked: documents, exports, feeds, API data.
_PRIVATE_TYPES = ("application/pdf", "application/zip", "text/calendar", "application/json")


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every answer to a signed-in user, and on every PDF,
    ZIP, calendar or JSON answer whoever asked (feeds and the API authenticate by token,
    which this middleware cannot see): a shared computer's browser cache or a proxy must
    not keep a minor's schedule or attestation. Public static files never come here
    (WhiteNoise answers them earlier)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        content_type = response.get("Content-Type", "")
        if (user is not None and user.is_authenticated) or content_type.startswith(_PRIVATE_TYPES):
            response["Cache-Control"] = NO_STORE
        return response
