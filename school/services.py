"""Writes that span several models of the school."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from . import documents
from .db import save_checked
from .models import (
    Cohort,
    DocumentBatchItem,
    DocumentCounter,
    DocumentStatus,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    IssuedDocument,
    Learner,
    User,
)
from .registry import Registry

# What the apps built on the school must add to a learner joining a cohort (the
# timetable: a minor's machine cover for the sessions to come). Each check returns the
# French refusals; they register in their AppConfig.ready(), as with admin.site.
EnrolmentCheck = Callable[[Enrolment], list[str]]
_enrolment_checks: Registry[EnrolmentCheck] = Registry()
register_enrolment_check = _enrolment_checks.register


def _refuse_unless_allowed(enrolment: Enrolment) -> None:
    if problems := [problem for check in _enrolment_checks for problem in check(enrolment)]:
        raise ValidationError(problems)


@transaction.atomic
def enrolment_create(
    *,
    learner: Learner,
    cohort: Cohort,
    start_date: datetime.date | None = None,
    by: User | None = None,
) -> Enrolment:
    enrolment = Enrolment(
        learner=learner, cohort=cohort, start_date=start_date or max(cohort.start_date, _today())
    )
    enrolment.full_clean()
    _refuse_unless_allowed(enrolment)
    save_checked(enrolment)
    EnrolmentStatusChange.objects.create(
        enrolment=enrolment,
        status=enrolment.status,
        effective_on=enrolment.start_date,
        changed_by=by,
    )
    return enrolment


@transaction.atomic
def enrolment_change_status(
    *,
    enrolment: Enrolment,
    status: str,
    effective_on: datetime.date | None = None,
    reason: str = "",
    by: User | None = None,
) -> Enrolment:
    # Lock the row: two office workers changing one enrolment must not both pass the check.
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    effective_on = effective_on or _today()
    enrolment.check_status_change(status, effective_on, reason)
    if status == EnrolmentStatus.ACTIVE:
        _refuse_unless_allowed(enrolment)
    enrolment.status = status
    enrolment.end_date = effective_on if status in Enrolment.FINAL else None
    enrolment.full_clean()
    save_checked(enrolment, update_fields=["status", "end_date"])
    EnrolmentStatusChange.objects.create(
        enrolment=enrolment, status=status, effective_on=effective_on, reason=reason, changed_by=by
    )
    return enrolment


def _today() -> datetime.date:
    return timezone.localdate()


@dataclass(frozen=True)
class Prepared:
    """What issuing needs from a kind before a number is given: read, then checked."""

    kind: documents.DocumentKind
    subject: documents.Subject
    context: dict[str, Any]


def document_prepare(kind: str, subject: Any, **parameters: Any) -> Prepared:
    """The kind's context for this subject, and its register entry checked: refusals
    (ValidationError) come here, before any number is reserved."""
    return documents_prepare(kind, [subject], **parameters)[0]


def documents_prepare(kind: str, subjects: Sequence[Any], **parameters: Any) -> list[Prepared]:
    """``document_prepare`` for several subjects of one kind, their data read together
    (a batch's chunk); the first refusal stops them all."""
    document_kind = documents.get_kind(kind)
    # An official document speaks the school's language, whoever clicked « émettre ».
    with translation.override(settings.LANGUAGE_CODE):
        contexts = document_kind.contexts(subjects, **parameters)
        prepared = [
            Prepared(document_kind, document_kind.describe(subject, **parameters), context)
            for subject, context in zip(subjects, contexts, strict=True)
        ]
    for one in prepared:
        # What the number, the code and the PDF will fill is checked when they are given.
        # (The learner comes from the database: no query to check it exists.)
        _entry(one).clean_fields(
            exclude=["number", "year", "sequence", "verification_code", "learner"]
        )
    return prepared


def _entry(prepared: Prepared, **fields: Any) -> IssuedDocument:
    return IssuedDocument(
        kind=prepared.kind.code,
        title=prepared.kind.title,
        learner=prepared.subject.learner,
        subject=prepared.subject.label,
        **fields,
    )


@transaction.atomic
def documents_reserve(
    prepared: Sequence[Prepared], *, by: User | None = None
) -> list[IssuedDocument]:
    """The next numbers of the year, one per document, each held by a register entry
    « en cours d'émission ».

    The year's counter row is locked until the caller's transaction ends: numbers
    follow each other without gap or duplicate whatever the number of workers, and a
    reservation rolled back gives its numbers back.
    """
    issued_at = timezone.now()
    year = timezone.localtime(issued_at).year
    [kind] = {one.kind for one in prepared}  # one series per reservation
    DocumentCounter.objects.get_or_create(series=kind.series, year=year)
    counter = DocumentCounter.objects.select_for_update().get(series=kind.series, year=year)
    first = counter.last + 1
    counter.last += len(prepared)
    counter.save(update_fields=["last"])
    entries = [
        _entry(
            one,
            number=f"{kind.series}-{year}-{sequence:0{kind.digits}d}",
            series=kind.series,
            year=year,
            sequence=sequence,
            issued_at=issued_at,
            issued_by=by,
            status=DocumentStatus.PENDING,
            verification_code=secrets.token_urlsafe(24),
        )
        for sequence, one in enumerate(prepared, start=first)
    ]
    # Each entry's fields were checked by document_prepare; uniqueness is the counter's
    # lock and the database's.
    return bulk_create_with_history(entries, IssuedDocument, default_user=by)


def document_draft(document: IssuedDocument, prepared: Prepared) -> documents.Draft:
    return documents.Draft(
        prepared.context, document.number, document.issued_at, document.verification_code
    )


@transaction.atomic
def documents_complete(
    rendered: Sequence[tuple[IssuedDocument, documents.Rendered]],
) -> list[IssuedDocument]:
    """Store the PDFs of reserved numbers and make them valid; the entries completed.

    An entry already valid is left as it is: two workers rendered the same reservation
    (one was thought dead), and the first one's PDF is the one handed out.
    """
    pending = {
        document.pk: document
        for document in IssuedDocument.objects.select_for_update().filter(
            pk__in=[document.pk for document, _pdf in rendered], status=DocumentStatus.PENDING
        )
    }
    completed = []
    for entry, pdf in rendered:
        if (document := pending.get(entry.pk)) is None:
            continue
        # The number is ours alone under the lock: a file already at its path can only
        # be left by an attempt killed before its commit, so it gives way.
        path = document.file.field.generate_filename(document, f"{document.number}.pdf")
        if document.file.storage.exists(path):
            document.file.storage.delete(path)
        document.file.save(f"{document.number}.pdf", ContentFile(pdf.pdf), save=False)
        document.sha256 = pdf.sha256
        document.status = DocumentStatus.VALID
        completed.append(document)
    bulk_update_with_history(completed, IssuedDocument, ["file", "sha256", "status"])
    return completed


@transaction.atomic
def document_issue(
    *, kind: str, subject: Any, by: User | None = None, **parameters: Any
) -> IssuedDocument:
    """Number, render and store one document; the register gets its entry.

    All in one transaction: the counter row stays locked while the PDF is rendered, and
    a failed rendering rolls the number back. Batches reserve first and render outside
    the lock (``school.batches``), so that several workers render at once.
    """
    prepared = document_prepare(kind, subject, **parameters)
    [document] = documents_reserve([prepared], by=by)
    with translation.override(settings.LANGUAGE_CODE):
        [pdf] = documents.render_many(prepared.kind, [document_draft(document, prepared)])
    [document] = documents_complete([(document, pdf)])
    return document


@transaction.atomic
def document_reissue(
    *, document: IssuedDocument, subject: Any, by: User | None = None, **parameters: Any
) -> IssuedDocument:
    """A new number for the same kind and subject; the old entry is superseded, not
    regenerated (its stored PDF stays what was handed out)."""
    old = IssuedDocument.objects.select_for_update().get(pk=document.pk)
    with translation.override(settings.LANGUAGE_CODE):
        described = documents.get_kind(old.kind).describe(subject, **parameters)
    # A reissue corrects a document (a misspelt name…); it never hands one learner's
    # document to another, nor one cohort's sheet to another.
    if described.learner != old.learner or (old.learner is None and described.label != old.subject):
        raise ValidationError(
            _("Un document réémis porte sur le même objet : « %(subject)s ».")
            % {"subject": old.subject}
        )
    if old.status != DocumentStatus.VALID:
        raise ValidationError(
            _("Seul un document valide peut être réémis (celui-ci est « %(status)s »).")
            % {"status": old.get_status_display()}
        )
    new = document_issue(kind=old.kind, subject=subject, by=by, **parameters)
    old.status = DocumentStatus.SUPERSEDED
    old.superseded_by = new
    old.save(update_fields=["status", "superseded_by"])
    return new


@transaction.atomic
def document_revoke(
    *, document: IssuedDocument, reason: str, by: User | None = None
) -> IssuedDocument:
    """Revoke an issued document; a number still being rendered is cancelled instead
    (« annulé avant émission »): its PDF will never be stored, and the register keeps
    the number with its reason, so the year's numbers still run without a gap."""
    document = IssuedDocument.objects.select_for_update().get(pk=document.pk)
    return _revoke_locked(document, reason, by)


@transaction.atomic
def documents_revoke(
    *, documents: QuerySet[IssuedDocument], reason: str, by: User | None = None
) -> tuple[int, dict[str, list[str]]]:
    """Revoke several documents at once (the back office's action): every row locked in
    one query, then each revoked or refused on its own — one refusal (already revoked)
    does not undo the others. Returns how many were revoked, and the refusals by number."""
    chosen = list(documents.values_list("pk", flat=True))
    revoked, refused = 0, {}
    for document in IssuedDocument.objects.select_for_update().filter(pk__in=chosen).order_by("pk"):
        try:
            with transaction.atomic():
                _revoke_locked(document, reason, by)
        except ValidationError as error:
            refused[document.number] = error.messages
        else:
            revoked += 1
    return revoked, refused


def _revoke_locked(document: IssuedDocument, reason: str, by: User | None) -> IssuedDocument:
    if not reason.strip():
        raise ValidationError({"revocation_reason": _("Indiquez le motif de la révocation.")})
    if document.status == DocumentStatus.REVOKED:
        raise ValidationError(_("Ce document est déjà révoqué."))
    if document.status == DocumentStatus.VOID:
        raise ValidationError(_("Ce numéro est déjà annulé."))
    if document.status == DocumentStatus.PENDING:
        document.status = DocumentStatus.VOID
        # The batch that reserved it counts its learner as failed, with the reason.
        DocumentBatchItem.objects.filter(document=document).update(
            error=_("Numéro annulé avant émission : %(reason)s") % {"reason": reason.strip()}
        )
    else:
        document.status = DocumentStatus.REVOKED
    document.revocation_reason = reason.strip()
    document.revoked_at = timezone.now()
    document.revoked_by = by
    document.save(update_fields=["status", "revocation_reason", "revoked_at", "revoked_by"])
    return document
