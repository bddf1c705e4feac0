"""Saving under the database's rules."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction


def save_checked(instance: models.Model, **save_kwargs: Any) -> None:
    """Save ``instance``; when a constraint refuses it, say why in the constraint's words.

    ``full_clean()`` ran before, but a second request may have written the conflicting
    row since: the database is the last word, and its refusal becomes the same French
    ``ValidationError`` the check would have raised, not a 500.
    """
    try:
        with transaction.atomic():
            instance.save(**save_kwargs)
    except IntegrityError:
        instance.validate_unique()
        instance.validate_constraints()
        raise
