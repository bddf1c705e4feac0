"""Writes that span several models of the school."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .db import save_checked
from .models import Cohort, Enrolment, EnrolmentStatus, EnrolmentStatusChange, Learner, User

# What the apps built on the school must add to a learner joining a cohort (the
# timetable: a minor's machine cover for the sessions to come). Each check returns the
# French refusals; they register in their AppConfig.ready(), as with admin.site.
EnrolmentCheck = Callable[[Enrolment], list[str]]
_enrolment_checks: list[EnrolmentCheck] = []


def register_enrolment_check(check: EnrolmentCheck) -> EnrolmentCheck:
    if check not in _enrolment_checks:
        _enrolment_checks.append(check)
    return check


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
