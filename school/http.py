"""The request type of pages that only signed-in people reach."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

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


def attempt(request: HttpRequest, action: Callable[[], Any], done: str) -> bool:
    """Run a write from a page: its refusal (a rule, or a role) becomes error messages
    on the page in its own French words, its success the ``done`` message."""
    try:
        action()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return False
    except PermissionDenied as error:
        messages.error(request, str(error) or _("Votre rôle ne permet pas cette action."))
        return False
    messages.success(request, done)
    return True


def valid_or_told(request: HttpRequest, form: forms.BaseForm) -> bool:
    """Whether the posted form is valid; if not, its errors become messages (for the
    small forms of a detail page, which redirects rather than shows the form again)."""
    if form.is_valid():
        return True
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return False
