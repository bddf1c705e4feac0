"""Loaded by pytest before Django (``-p tests.environment``): the suite runs under the
production settings, with only the values a deployment would provide set here."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-" + "k3y-" * 12)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("EMAIL_URL", "memorymail://")
# Issued documents and uploads go to a throwaway folder, never into the checkout.
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="metaltech-test-media-"))
# The test client speaks plain HTTP; the redirect itself is covered by check --deploy.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# Every test runs inside django-zeal's N+1 detector (tests/conftest.py).
os.environ.setdefault("NPLUSONE_CHECKS", "true")
