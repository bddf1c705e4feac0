"""Issuing one document per learner of a cohort in the background.

A batch is a row per learner (DocumentBatchItem). The items are cut into chunks, one
task each, so that every worker process (one per core) renders a chunk at a time as
one WeasyPrint bundle (``documents.render_many``): far cheaper per document than one
rendering each. A chunk goes in three steps:

1. in one short transaction, with its items locked, the learners' contexts are read
   (together, in a few queries, when the kind can) and a number reserved for each in
   the register (« en cours d'émission »);
2. the bundle is rendered, outside any transaction: the other workers go on numbering;
3. each PDF is stored and its entry made valid.

A worker killed in step 2 or 3 leaves reserved numbers: ``manage.py resume_batches``
enqueues their items again, and they are completed with the same number. So numbers
never skip, never repeat, and re-enqueueing is always safe.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from . import documents, services
from .models import (
    ISSUED_STATUSES,
    Cohort,
    DocumentBatch,
    DocumentBatchItem,
    Enrolment,
    IssuedDocument,
    Learner,
    User,
)

logger = logging.getLogger(__name__)

# A batch gives one document per learner: kinds about a learner or about their
# enrolment. A kind about the whole cohort (the feuille d'émargement) is one document.
BATCH_SUBJECTS: tuple[type[Any], ...] = (Enrolment, Learner)


def batchable_kinds() -> list[documents.DocumentKind]:
    return [kind for kind in documents.kinds() if kind.subject_model in BATCH_SUBJECTS]


def batch_create(
    *, kind: str, cohort: Cohort, by: User | None = None, **parameters: datetime.date
) -> DocumentBatch:
    """The batch and one item per learner in training in the cohort; then the items'
    tasks are enqueued, once the items are committed for the workers to see."""
    if kind not in {batchable.code for batchable in batchable_kinds()}:
        raise ValidationError(
            {"kind": _("Les documents « %(kind)s » ne s'émettent pas en lot.") % {"kind": kind}}
        )
    with transaction.atomic():
        learner_ids = list(
            Enrolment.objects.active()
            .filter(cohort=cohort)
            .order_by("learner__last_name", "learner__first_name")
            .values_list("learner_id", flat=True)
        )
        if not learner_ids:
            raise ValidationError(
                {
                    "cohort": _("Aucun apprenant en formation dans la promotion « %(cohort)s ».")
                    % {"cohort": cohort}
                }
            )
        batch = DocumentBatch.objects.create(
            kind=kind,
            cohort=cohort,
            created_by=by,
            parameters={name: day.isoformat() for name, day in parameters.items()},
        )
        items = DocumentBatchItem.objects.bulk_create(
            DocumentBatchItem(batch=batch, learner_id=learner_id) for learner_id in learner_ids
        )
    # A crash between two enqueues leaves items without a task: resume_batches finds them.
    _enqueue([item.pk for item in items])
    return batch


def resume_unfinished() -> int:
    """Enqueue again every item still to issue, batch by batch; the number enqueued."""
    pending = (
        DocumentBatchItem.objects.to_issue()
        .order_by("batch", "learner__last_name", "learner__first_name", "pk")
        .values_list("batch_id", "pk")
    )
    count = 0
    for _batch, items in groupby(pending, key=itemgetter(0)):
        ids = [item_id for _batch_id, item_id in items]
        _enqueue(ids)
        count += len(ids)
    return count


def _enqueue(item_ids: list[int]) -> None:
    """Tasks of DOCUMENT_BATCH_SIZE items, all of one batch: a task issues one kind."""
    size = settings.DOCUMENT_BATCH_SIZE
    for start in range(0, len(item_ids), size):
        issue_batch_chunk.enqueue(item_ids[start : start + size])


@dataclass
class _Job:
    item: DocumentBatchItem
    prepared: services.Prepared
    document: IssuedDocument | None


@task()
def issue_batch_chunk(item_ids: list[int]) -> None:
    jobs = _reserve(item_ids)
    if not jobs:
        return
    try:
        rendered = _render(jobs)
    except Exception:
        # One learner's document that cannot be laid out must not stop the others:
        # render them one by one, and the broken one fails alone.
        logger.exception("Bundle of batch items %s failed; rendering them one by one", item_ids)
        for job in jobs:
            try:
                _complete([job], _render([job]))
            except Exception as error:
                logger.exception("Batch item %s failed", job.item.pk)
                # The number stays reserved to the item: resume_batches tries it again.
                _record_failure(job.item.pk, _failure(error))
        return
    _complete(jobs, rendered)


def _reserve(item_ids: list[int]) -> list[_Job]:
    """Step 1: each item's context, and its number (a new one, or the one it holds)."""
    with transaction.atomic():
        # Another worker holding a row is issuing that item: leave it to it.
        # SQLite ignores the lock; it serialises writes anyway.
        items = list(
            DocumentBatchItem.objects.to_issue()
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("batch", "learner", "document")
            .filter(pk__in=item_ids)
            .order_by("learner__last_name", "learner__first_name", "pk")
        )
        if not items:
            return []
        batch = items[0].batch
        subjects = _subjects(batch, items)
        jobs = _prepare_together(batch, items, subjects) or _prepare_one_by_one(
            batch, items, subjects
        )
        # The numbers last, in one go and in the items' order: the year's counter stays
        # locked for the least time, and a class's documents follow each other.
        if new := [job for job in jobs if job.document is None]:
            reserved = services.documents_reserve(
                [job.prepared for job in new], by=batch.created_by
            )
            for job, document in zip(new, reserved, strict=True):
                job.document = job.item.document = document
            DocumentBatchItem.objects.bulk_update([job.item for job in new], ["document"])
    return jobs


def _prepare_together(
    batch: DocumentBatch, items: list[DocumentBatchItem], subjects: dict[int, Any]
) -> list[_Job]:
    """Every item's context read together (a few queries for the chunk); nothing if one
    of them fails, for ``_prepare_one_by_one`` to tell which."""
    try:
        # A savepoint: on PostgreSQL, a failed query must not abort the chunk's transaction.
        with transaction.atomic():
            prepared = services.documents_prepare(
                batch.kind, [subjects[item.pk] for item in items], **_parameters(batch)
            )
    except Exception:  # each item is tried again on its own
        return []
    return [_Job(item, one, item.document) for item, one in zip(items, prepared, strict=True)]


def _prepare_one_by_one(
    batch: DocumentBatch, items: list[DocumentBatchItem], subjects: dict[int, Any]
) -> list[_Job]:
    """Each item on its own: the one that cannot be issued records why, the others go on."""
    jobs = []
    for item in items:
        try:
            # A savepoint: on PostgreSQL, a failed query must not abort the chunk's
            # transaction, in which the failure itself is written.
            with transaction.atomic():
                prepared = services.document_prepare(
                    batch.kind, subjects[item.pk], **_parameters(batch)
                )
        except ValidationError as error:
            _record_failure(item.pk, " ".join(error.messages))
        except Exception as error:
            logger.exception("Batch item %s failed", item.pk)
            _record_failure(item.pk, _failure(error))
        else:
            jobs.append(_Job(item, prepared, item.document))
    return jobs


def _render(jobs: list[_Job]) -> list[documents.Rendered]:
    """Step 2: one bundle for the chunk, outside any transaction."""
    drafts = [services.document_draft(_reserved(job), job.prepared) for job in jobs]
    with translation.override(settings.LANGUAGE_CODE):
        return documents.render_many(jobs[0].prepared.kind, drafts)


def _complete(jobs: list[_Job], rendered: list[documents.Rendered]) -> None:
    """Step 3: the PDFs stored, the entries valid, the items settled."""
    with transaction.atomic():
        services.documents_complete(
            [(_reserved(job), pdf) for job, pdf in zip(jobs, rendered, strict=True)]
        )
        DocumentBatchItem.objects.filter(pk__in=[job.item.pk for job in jobs]).update(
            error="", attempts=F("attempts") + 1
        )


def _reserved(job: _Job) -> IssuedDocument:
    assert job.document is not None  # noqa: S101 — step 1 gave every job its number
    return job.document


def _subjects(batch: DocumentBatch, items: list[DocumentBatchItem]) -> dict[int, Any]:
    """Each item's subject, read in one query: the learner, or for kinds about an
    enrolment the one the batch was made for (the learner's latest in the cohort)."""
    if documents.get_kind(batch.kind).subject_model is not Enrolment:
        return {item.pk: item.learner for item in items}
    latest = {
        enrolment.learner_id: enrolment
        for enrolment in Enrolment.objects.filter(
            cohort_id=batch.cohort_id, learner__in=[item.learner_id for item in items]
        )
        .select_related("learner", "cohort__programme")
        .order_by("start_date", "pk")
    }
    return {item.pk: latest[item.learner_id] for item in items}


def _parameters(batch: DocumentBatch) -> dict[str, datetime.date]:
    # Every parameter a kind takes (start, end, week) is a day.
    return {name: datetime.date.fromisoformat(day) for name, day in batch.parameters.items()}


def _failure(error: Exception) -> str:
    # The operator gets the traceback in the logs, the batch page the short reason.
    return _("Erreur lors de l'émission : %(error)s") % {"error": error}


def _record_failure(item_id: int, reason: str) -> None:
    # Its own small write; an item issued meanwhile by another worker keeps no error.
    DocumentBatchItem.objects.filter(pk=item_id).exclude(
        document__status__in=ISSUED_STATUSES
    ).update(error=reason, attempts=F("attempts") + 1)
