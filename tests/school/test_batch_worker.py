"""A batch survives a real ``db_worker`` killed mid-batch: after ``resume_batches`` and a
second worker, every learner holds one valid document and the year's numbers run
without gap or duplicate (PostgreSQL only: the worker is another process, which must
share the test database)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import override_settings

from school.batches import batch_create
from school.models import DocumentBatch, DocumentBatchItem, DocumentStatus, IssuedDocument
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory

pytestmark = [pytest.mark.postgres]

LEARNERS = 12
WORKER = ["db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1"]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the worker process must share the test database")


@pytest.fixture
def worker_env(transactional_db: None, settings: Any, tmp_path: Path) -> dict[str, str]:
    """The environment of a deployment's worker, pointed at this test's database and media."""
    settings.MEDIA_ROOT = tmp_path
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TASKS_BACKEND": "database",
        "DEBUG": "1",
        "MEDIA_ROOT": str(tmp_path),
    }


def manage(*args: str) -> list[str]:
    return [sys.executable, str(Path(django_settings.BASE_DIR) / "manage.py"), *args]


@pytest.fixture
def worker(worker_env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(manage(*WORKER), env=worker_env)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def issued_count(batch: DocumentBatch) -> int:
    return DocumentBatchItem.objects.filter(
        batch=batch, document__status=DocumentStatus.VALID
    ).count()


def reserved_count(batch: DocumentBatch) -> int:
    return DocumentBatchItem.objects.filter(
        batch=batch, document__status=DocumentStatus.PENDING
    ).count()


def test_a_batch_completes_through_a_killed_and_restarted_worker(
    worker_env: dict[str, str], worker: subprocess.Popen[bytes], settings: Any
) -> None:
    settings.DOCUMENT_BATCH_SIZE = 4  # three tasks of four learners
    cohort = CohortFactory()
    for _ in range(LEARNERS):
        EnrolmentFactory(cohort=cohort)
    # Settings were read at import: only this block sends the tasks to the database queue.
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        batch = batch_create(
            kind="attestation_fin_formation", cohort=cohort, by=UserFactory(role="staff")
        )

    # Killed once the first task is done and the second has reserved its numbers: in
    # the middle of rendering them.
    deadline = time.monotonic() + 60
    while not (issued_count(batch) >= 4 and reserved_count(batch)):
        assert time.monotonic() < deadline, "the worker reached no second task in 60 s"
        assert worker.poll() is None, "the worker stopped on its own"
        time.sleep(0.02)
    worker.kill()  # SIGKILL: no clean shutdown, the task in hand is cut short
    worker.wait()
    assert issued_count(batch) < LEARNERS, "the worker finished before it could be killed"

    subprocess.run(manage("resume_batches"), env=worker_env, check=True, timeout=30)
    subprocess.run(manage(*WORKER, "--batch"), env=worker_env, check=True, timeout=60)

    issued = IssuedDocument.objects.filter(batch_item__batch=batch)
    assert issued_count(batch) == LEARNERS
    assert sorted(issued.values_list("learner", flat=True)) == sorted(
        cohort.enrolments.values_list("learner", flat=True)
    )
    assert set(issued.values_list("status", flat=True)) == {DocumentStatus.VALID}
    assert all(document.file and document.sha256 for document in issued)
    year = issued.first().year  # type: ignore[union-attr]
    assert sorted(
        IssuedDocument.objects.filter(year=year).values_list("sequence", flat=True)
    ) == list(range(1, LEARNERS + 1))
