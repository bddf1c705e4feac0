"""Demo placements for ``manage.py seed_demo`` (filled in below)."""

from __future__ import annotations

from django.core.management.base import OutputWrapper


def seed_internships(stdout: OutputWrapper) -> None:
    pass
