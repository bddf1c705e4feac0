from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from school.uploads import validate_upload

SCAN_KINDS = ("PDF", "PNG", "JPEG")


def validate_scan(scan: UploadedFile) -> None:
    """A scanned signed copy: a PDF or a picture, by its content."""
    validate_upload(scan, kinds=SCAN_KINDS, max_bytes=settings.SCAN_MAX_BYTES, field="scan")
