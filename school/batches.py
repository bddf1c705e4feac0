"""Issuing one document per learner of a cohort in the background.

A batch is a row per learner (DocumentBatchItem); each item is one task, issued in one
transaction with its item row locked: a worker killed mid-item rolls back the number
with the rest, and a second run of the same item finds its document and does nothing.
So re-enqueueing (``manage.py resume_batches``) is always safe.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django_tasks import task

from . import documents, services
from .models import (
    Cohort,
    DocumentBatch,
    DocumentBatchItem,
    Enrolment,
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
    """The batch and one item per learner in training in the cohort; then each item's
    task is enqueued, once the items are committed for the workers to see."""
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
    for item in items:
        issue_batch_item.enqueue(item.pk)
    return batch


def resume_unfinished() -> int:
    """Enqueue again every item still without its document; the number enqueued."""
    pending = DocumentBatchItem.objects.filter(
        batch__in=DocumentBatch.objects.unfinished(), document__isnull=True
    ).values_list("pk", flat=True)
    count = 0
    for item_id in pending.iterator():
        issue_batch_item.enqueue(item_id)
        count += 1
    return count


def _subject(item: DocumentBatchItem) -> Any:
    kind = documents.get_kind(item.batch.kind)
    if kind.subject_model is Enrolment:
        # The enrolment the batch was made for: the learner's latest in that cohort.
        return (
            Enrolment.objects.filter(cohort_id=item.batch.cohort_id, learner_id=item.learner_id)
            .select_related("learner", "cohort__programme")
            .latest("start_date", "pk")
        )
    return item.learner


def _parameters(batch: DocumentBatch) -> dict[str, datetime.date]:
    # Every parameter a kind takes (start, end, week) is a day.
    return {name: datetime.date.fromisoformat(day) for name, day in batch.parameters.items()}


@task()
def issue_batch_item(item_id: int) -> None:
    try:
        with transaction.atomic():
            # Another worker holding the row is issuing this very item: leave it to it.
            # SQLite ignores the lock; it serialises writes anyway.
            item = (
                DocumentBatchItem.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("batch", "learner")
                .filter(pk=item_id)
                .first()
            )
            if item is None or item.document_id is not None:
                return
            item.document = services.document_issue(
                kind=item.batch.kind,
                subject=_subject(item),
                by=item.batch.created_by,
                **_parameters(item.batch),
            )
            item.error = ""
            item.attempts += 1
            item.save(update_fields=["document", "error", "attempts"])
    except ValidationError as error:
        _record_failure(item_id, " ".join(error.messages))
    except Exception as error:
        # One learner's broken document must not stop the others; the operator gets
        # the traceback in the logs, the batch page the short reason.
        logger.exception("Batch item %s failed", item_id)
        _record_failure(item_id, _("Erreur lors de l'émission : %(error)s") % {"error": error})


def _record_failure(item_id: int, reason: str) -> None:
    # Its own small write, after the issuing transaction rolled back; an item another
    # worker has issued meanwhile keeps its document and no error.
    DocumentBatchItem.objects.filter(pk=item_id, document__isnull=True).update(
        error=reason, attempts=F("attempts") + 1
    )
