"""Writes that span several models of the school."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import documents
from .db import save_checked
from .models import (
    Cohort,
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


@transaction.atomic
def document_issue(
    *, kind: str, subject: Any, by: User | None = None, **parameters: Any
) -> IssuedDocument:
    """Number, render and store one document; the register gets its entry.

    The year's counter row stays locked until the document is stored: a second worker
    waits, and a failed rendering rolls the number back, so numbers never skip.
    """
    document_kind = documents.get_kind(kind)
    # An official document speaks the school's language, whoever clicked « émettre ».
    with translation.override(settings.LANGUAGE_CODE):
        described = document_kind.describe(subject, **parameters)
        context = document_kind.build_context(subject, **parameters)
    issued_at = timezone.now()
    year = timezone.localtime(issued_at).year
    DocumentCounter.objects.get_or_create(year=year)
    counter = DocumentCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    number = f"MT-{year}-{counter.last:06d}"
    code = secrets.token_urlsafe(24)
    with translation.override(settings.LANGUAGE_CODE):
        rendered = documents.render(
            document_kind, context, number=number, issued_at=issued_at, verification_code=code
        )
    document = IssuedDocument(
        number=number,
        year=year,
        sequence=counter.last,
        kind=kind,
        title=document_kind.title,
        learner=described.learner,
        subject=described.label,
        issued_at=issued_at,
        issued_by=by,
        sha256=rendered.sha256,
        verification_code=code,
    )
    # The number is ours alone under the lock: a file already at its path can only be
    # left by an attempt that was killed before its commit, so it gives way.
    path = document.file.field.generate_filename(document, f"{number}.pdf")
    if document.file.storage.exists(path):
        document.file.storage.delete(path)
    document.file.save(f"{number}.pdf", ContentFile(rendered.pdf), save=False)
    document.full_clean()
    document.save()
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
    document = IssuedDocument.objects.select_for_update().get(pk=document.pk)
    if not reason.strip():
        raise ValidationError({"revocation_reason": _("Indiquez le motif de la révocation.")})
    if document.status == DocumentStatus.REVOKED:
        raise ValidationError(_("Ce document est déjà révoqué."))
    document.status = DocumentStatus.REVOKED
    document.revocation_reason = reason.strip()
    document.revoked_at = timezone.now()
    document.revoked_by = by
    document.save(update_fields=["status", "revocation_reason", "revoked_at", "revoked_by"])
    return document
