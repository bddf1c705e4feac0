"""The request type of pages that only signed-in people reach."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from .models import User


class AuthenticatedRequest(HttpRequest):
    """A request behind ``login_required``: its user is signed in, never anonymous.

    Only an annotation for the type checker; Django still builds a plain ``HttpRequest``.
    """

    user: User


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the login throttle sees it: behind ``PROXY_COUNT`` proxies,
    from X-Forwarded-For; else the connection's. Recorded with each e-signature."""
    from axes.helpers import get_client_ip_address  # needs settings: imported when called

    return get_client_ip_address(request)
