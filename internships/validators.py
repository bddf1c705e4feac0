from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

# What a scanned signed copy may be, recognised by its first bytes, not its name.
SCAN_SIGNATURES = {
    b"%PDF-": "PDF",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
}


def validate_scan(scan: UploadedFile) -> None:
    if scan.size is not None and scan.size > settings.SCAN_MAX_BYTES:
        raise ValidationError(
            {
                "scan": _("La copie numérisée dépasse %(size)s Mo.")
                % {"size": settings.SCAN_MAX_BYTES // (1024 * 1024)}
            }
        )
    scan.seek(0)
    head = scan.read(8)
    scan.seek(0)
    if not any(head.startswith(magic) for magic in SCAN_SIGNATURES):
        raise ValidationError(
            {"scan": _("La copie numérisée doit être un PDF, un PNG ou un JPEG.")}
        )
