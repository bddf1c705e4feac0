from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from .models import Role, role_of


class RolePermission(BasePermission):
    """Reading is scoped by each view's ``get_queryset()``; writing needs a role the
    view grants for that action in ``write_roles`` (staff alone by default).

    Together they give DESIGN.md's matrix: what a user may not see answers 404,
    what they see but may not change answers 403.
    """

    message = _("Votre rôle ne permet pas cette modification.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        write_roles: dict[str, set[str]] = getattr(view, "write_roles", {})
        allowed = write_roles.get(getattr(view, "action", None) or "", {Role.STAFF})
        return role_of(request.user) in allowed
