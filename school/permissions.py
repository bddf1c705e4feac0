from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from .models import Role, role_of


class RolePermission(BasePermission):
    """Reading is scoped by each view's ``get_queryset()``; writing needs a role the
    view grants for that action in ``write_roles`` (staff alone by default), and, where
    the object has one, its own ``can_be_changed_by(user)`` rule.

    A change to one object is decided after the scoped lookup, so DESIGN.md's matrix
    holds: what a user may not see answers 404, what they see but may not change 403.
    """

    message = _("Votre rôle ne permet pas cette modification.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "detail", False):
            return True
        return self._role_may(request, view)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if not self._role_may(request, view):
            return False
        rule = getattr(obj, "can_be_changed_by", None)
        if rule is not None and not rule(request.user):
            raise PermissionDenied(getattr(obj, "change_refusal", self.message))
        return True

    def _role_may(self, request: Request, view: Any) -> bool:
        write_roles: dict[str, set[str]] = getattr(view, "write_roles", {})
        allowed = write_roles.get(getattr(view, "action", None) or "", {Role.STAFF})
        return role_of(request.user) in allowed
