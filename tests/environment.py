"""Loaded by pytest before Django (``-p tests.environment``): the suite runs under the
production settings, with only the values a deployment would provide set here.

Under pytest-xdist each worker is a process of its own that loads this module again,
with ``PYTEST_XDIST_WORKER`` set (``gw0``, ``gw1``…) and the environment the
controller had when it started them. pytest-django gives each worker its own test
database; what lives outside the database is split here: media folders, and the Redis
database the cache uses (each test empties the cache, which must not empty another
worker's counters in the middle of its test).
"""

from __future__ import annotations

import os
import re
import tempfile

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")

os.environ.setdefault("SECRET_KEY", "test-only-" + "k3y-" * 12)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("EMAIL_URL", "memorymail://")
# Issued documents and uploads go to a throwaway folder, never into the checkout: one
# per run, and one inside it per worker (document numbers restart in each worker's
# database, so two workers would otherwise store files under the same names).
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="metaltech-test-media-"))
if WORKER:
    os.environ["MEDIA_ROOT"] = os.path.join(os.environ["MEDIA_ROOT"], f"worker-{WORKER}")
    os.makedirs(os.environ["MEDIA_ROOT"], exist_ok=True)
# The test client speaks plain HTTP; the redirect itself is covered by check --deploy.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# Every test runs inside django-zeal's N+1 detector (tests/conftest.py).
os.environ.setdefault("NPLUSONE_CHECKS", "true")


def _redis_database_of_worker(url: str, worker: str) -> str:
    """``redis://host:6379/15`` for worker gw1 → ``redis://host:6379/14``: workers count
    down from the database given, round Redis's 16 (0–15)."""
    match = re.fullmatch(r"(redis(?:s)?://[^/]+)(?:/(\d+))?(/?)", url)
    if match is None:
        raise RuntimeError(f"REDIS_URL {url!r}: expected redis://host:port/<database>")
    database = (int(match.group(2) or 0) - int(worker.removeprefix("gw"))) % 16
    return f"{match.group(1)}/{database}"


if WORKER and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = _redis_database_of_worker(os.environ["REDIS_URL"], WORKER)
