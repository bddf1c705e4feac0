"""What an uploaded file really is, read from its first bytes, never from its name.

Every place that takes a file (scanned signed copies, drawings of ordered parts) checks
it here: its size, and that its content is one of the kinds allowed and agrees with its
extension, so that an executable renamed ``plan.pdf`` is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

_HEAD = 512
_DXF_ASCII = re.compile(rb"^\s*0\s*\r?\n\s*(SECTION|\$?[A-Z]+)", re.ASCII)
# kind → (its extensions, the test on its first bytes)
KINDS: dict[str, tuple[tuple[str, ...], Callable[[bytes], bool]]] = {
    "PDF": ((".pdf",), lambda head: head.startswith(b"%PDF-")),
    "PNG": ((".png",), lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    "JPEG": ((".jpg", ".jpeg"), lambda head: head.startswith(b"\xff\xd8\xff")),
    "DXF": (
        (".dxf",),
        lambda head: head.startswith(b"AutoCAD Binary DXF") or bool(_DXF_ASCII.match(head)),
    ),
    "STEP": ((".step", ".stp"), lambda head: head.lstrip().startswith(b"ISO-10303-21;")),
}


def sniff(upload: UploadedFile) -> str | None:
    """The kind the content is (among KINDS), or None."""
    upload.seek(0)
    head = upload.read(_HEAD)
    upload.seek(0)
    for kind, (_extensions, test) in KINDS.items():
        if test(head):
            return kind
    return None


def validate_upload(
    upload: UploadedFile, *, kinds: Collection[str], max_bytes: int, field: str
) -> str:
    """The upload's kind; else a ValidationError on ``field`` saying what is accepted."""
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationError(
            {
                field: _("Le fichier dépasse %(size)s Mo.")
                % {"size": round(max_bytes / (1024 * 1024))}
            }
        )
    kind = sniff(upload)
    extension = PurePath(upload.name or "").suffix.lower()
    if kind is None or kind not in kinds or extension not in KINDS[kind][0]:
        raise ValidationError(
            {
                field: _(
                    "Ce fichier n'est pas accepté : formats possibles %(kinds)s, reconnus à "
                    "leur contenu et à leur extension."
                )
                % {"kinds": ", ".join(sorted(kinds))}
            }
        )
    return kind
