"""The family's side of attendance: a guardian, told of their minor child's unexcused
absence (``attendance.absence_noticed``), sends an excuse note that the staff accept or
refuse.

An accepted note turns the days' unexcused absences into excused ones through
``attendance_mark``: the émargement keeps its history, and the attestation
d'assiduité's figures follow.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from school.db import save_checked
from school.models import Learner, Role, User, role_of
from school.notifications import notify
from school.uploads import validate_upload

from .attendance import attendance_excuse, local_midnight
from .models import Attendance, AttendanceStatus, ExcuseNote, ExcuseStatus

SCAN_KINDS = ("PDF", "JPEG", "PNG")


# ---------------------------------------------------------------------------------------
# Excuse notes
# ---------------------------------------------------------------------------------------


def may_excuse(user: User, learner: Learner) -> bool:
    """A guardian excuses their child; an adult learner themselves; the staff anyone."""
    role = role_of(user)
    if role == Role.STAFF:
        return True
    if role == Role.GUARDIAN:
        return learner.guardians.filter(user=user).exists()
    if role == Role.LEARNER:
        return learner.user_id == user.pk and not learner.is_minor_on(timezone.localdate())
    return False


@transaction.atomic
def excuse_send(
    *,
    learner: Learner,
    first_day: datetime.date,
    last_day: datetime.date,
    reason: str,
    by: User,
    scan: UploadedFile | None = None,
) -> ExcuseNote:
    if not may_excuse(by, learner):
        raise PermissionDenied(_("Seuls ses responsables légaux excusent un apprenant mineur."))
    if last_day < first_day:
        raise ValidationError({"last_day": _("Le dernier jour précède le premier.")})
    if first_day > timezone.localdate() + datetime.timedelta(days=31):
        raise ValidationError({"first_day": _("Une absence s'excuse au plus un mois à l'avance.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif de l'absence.")})
    if scan is not None:
        validate_upload(scan, kinds=SCAN_KINDS, max_bytes=settings.SCAN_MAX_BYTES, field="scan")
    note = ExcuseNote(
        learner=learner,
        first_day=first_day,
        last_day=last_day,
        reason=reason.strip(),
        sent_by=by,
        sent_at=timezone.now(),
    )
    note.full_clean(exclude=["scan", "sent_by"])
    if scan is not None:
        note.scan.save(scan.name or "justificatif", scan, save=False)
    save_checked(note)
    return note


@transaction.atomic
def excuse_decide(
    *, note: ExcuseNote, accept: bool, by: User, decision_note: str = ""
) -> ExcuseNote:
    """The staff's answer. Accepting excuses every unexcused absence of those days."""
    if role_of(by) != Role.STAFF:
        raise PermissionDenied(_("Seule l'équipe de l'école répond à un justificatif."))
    note = (
        ExcuseNote.objects.select_for_update(of=("self",))
        .select_related("learner", "sent_by")
        .get(pk=note.pk)
    )
    if note.status != ExcuseStatus.PENDING:
        raise ValidationError(_("Ce justificatif a déjà reçu une réponse."))
    if not accept and not decision_note.strip():
        raise ValidationError({"decision_note": _("Dites à la famille pourquoi il est refusé.")})
    note.status = ExcuseStatus.ACCEPTED if accept else ExcuseStatus.REFUSED
    note.decided_by = by
    note.decided_at = timezone.now()
    note.decision_note = decision_note.strip()
    save_checked(note)
    if accept:
        for line in absences_covered(note):
            attendance_excuse(line, reason=note.reason, by=by)
    if note.sent_by is not None:
        notify([note.sent_by.email], *_decision_message(note))
    return note


def absences_covered(note: ExcuseNote) -> list[Attendance]:
    """The unexcused absences of the note's learner on its days."""
    return list(
        Attendance.objects.filter(
            learner=note.learner,
            status=AttendanceStatus.ABSENT,
            session__start__gte=local_midnight(note.first_day),
            session__start__lt=local_midnight(note.last_day + datetime.timedelta(days=1)),
        )
        .select_related("session")
        .order_by("session__start")
    )


def _decision_message(note: ExcuseNote) -> tuple[str, str]:
    values: dict[str, Any] = {"note": note, "answer": note.decision_note}
    if note.status == ExcuseStatus.ACCEPTED:
        return (
            _("Justificatif accepté"),
            _("Bonjour,\n\nLe justificatif d'absence de %(note)s est accepté.\n") % values,
        )
    return (
        _("Justificatif refusé"),
        _("Bonjour,\n\nLe justificatif d'absence de %(note)s est refusé : %(answer)s\n") % values,
    )
