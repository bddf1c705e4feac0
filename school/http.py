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
