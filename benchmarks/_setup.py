"""What the SQLite benchmarks share: Django set up on a database of their own, and the
programme their cohorts follow.

A benchmark run as ``.venv/bin/python benchmarks/x.py`` finds this module beside it
(the script's folder comes first on ``sys.path``), calls ``django_on_sqlite`` before it
imports anything of Django's or the project's, then migrates in its ``main``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from school.models import Programme

ROOT = Path(__file__).resolve().parent.parent


def django_on_sqlite(name: str) -> Path:
    """Sets Django up on a new, empty SQLite file ``name`` in the temporary directory
    (the working database is untouched) and answers its path, to delete at the end."""
    sys.path.insert(0, str(ROOT))  # the project's apps, imported from the project root
    database = Path(tempfile.gettempdir()) / name
    database.unlink(missing_ok=True)  # a previous run's rows would skew the figures
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "school.settings")

    import django

    django.setup()
    return database


def cap_programme() -> Programme:
    """The CAP the benchmarks' cohorts follow."""
    # Imported here: the models load only once django_on_sqlite has set Django up.
    from school.models import Programme

    return Programme.objects.create(
        title="CAP Conducteur d'installations de production",
        code="cap-cip",
        level="3",
        total_hours=2100,
        placement_weeks_min=12,
        placement_weeks_max=16,
    )
