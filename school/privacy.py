"""Personal data (RGPD): a learner's right of access — everything the system holds
about them, as JSON, with the PDFs issued to them, in one ZIP.

Each app adds what it holds about a learner through ``register_export`` (as with
``admin.site.register``): school the identity, guardians, enrolments and documents;
courses the émargement, competencies and workshop hours; internships the applications,
placements and signatures. Nothing about anyone else goes in.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from .models import Guardian, IssuedDocument, Learner
from .registry import Registry


@dataclass
class Export:
    """One app's part: JSON-able data by section, and files (name in the ZIP → bytes)."""

    sections: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


ExportPart = Callable[[Learner], Export]
_parts: Registry[ExportPart] = Registry()
register_export = _parts.register


def rows(queryset: models.QuerySet[Any], *fields: str) -> list[dict[str, Any]]:
    """The chosen fields of each row, as plain values (dates as ISO text)."""
    return [
        {name: _plain(value) for name, value in row.items()} for row in queryset.values(*fields)
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def school_part(learner: Learner) -> Export:
    documents = IssuedDocument.objects.issued().filter(learner=learner).order_by("issued_at")
    return Export(
        sections={
            "learner": rows(
                Learner.objects.filter(pk=learner.pk),
                "id",
                "first_name",
                "last_name",
                "birth_date",
                "email",
                "phone",
                "address",
                "postal_code",
                "city",
                "ine",
                "created_at",
                "user__email",
            ),
            "guardians": rows(
                Guardian.objects.filter(learner=learner),
                "rank",
                "relationship",
                "first_name",
                "last_name",
                "email",
                "phone",
                "address",
                "user__email",
            ),
            "enrolments": rows(
                learner.enrolments.all(),
                "cohort__name",
                "cohort__programme__title",
                "status",
                "start_date",
                "end_date",
            ),
            "documents": rows(
                documents, "number", "kind", "title", "subject", "status", "issued_at", "sha256"
            ),
        },
        files={f"documents/{document.number}.pdf": _read(document.file) for document in documents},
    )


def _read(stored: Any) -> bytes:
    with stored.open("rb") as handle:
        return bytes(handle.read())


def learner_export(learner: Learner) -> bytes:
    """The ZIP of the right of access: ``donnees.json`` and the learner's documents."""
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "learner_id": learner.pk,
    }
    files: dict[str, bytes] = {}
    for part in [school_part, *_parts]:
        export = part(learner)
        data.update(export.sections)
        files.update(export.files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "donnees.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
        )
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    return buffer.getvalue()
