"""The documents of a placement: the convention (each version frozen for signature).

Registered with the school's document engine from ``InternshipsConfig.ready``. The
convention is issued by freezing a version (``services.placement_freeze``), never on
request from the register: its number and SHA-256 are what the signers sign.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from school.documents import DocumentKind, Subject, register_kind, signing_place
from school.models import Enrolment, IssuedDocument, Learner

from .models import Placement, PlacementStatus, ScheduleSlot, format_hours, hours_by_weekday

ATTESTABLE = (PlacementStatus.COMPLETED, PlacementStatus.EVALUATED)

SUBJECT_LENGTH = IssuedDocument._meta.get_field("subject").max_length or 255


def _enrolment_on(placement: Placement) -> Enrolment | None:
    """The training the placement belongs to: the learner's enrolment on its first day
    (or, failing that, their latest)."""
    enrolments = placement.learner.enrolments.select_related("cohort__programme").order_by(
        "-start_date"
    )
    return enrolments.filter(start_date__lte=placement.start_date).first() or enrolments.first()


def convention_context(
    placement: Placement, *, version: int = 1, amendment: bool = False
) -> dict[str, Any]:
    slots = list(placement.slots.all())
    by_day = hours_by_weekday(slots)
    presence = placement.planned_presence(slots)
    hours = Decimal(presence.total_seconds()) / 3600
    enrolment = _enrolment_on(placement)
    return {
        "placement": placement,
        "version": version,
        "amendment": amendment,
        "learner": placement.learner,
        "minor": placement.learner_is_minor,
        "guardians": list(placement.learner.guardians.order_by("rank")),
        "company": placement.company,
        "tutor": placement.tutor,
        "signatory": placement.signatory,
        "referent": placement.referent,
        "cohort": enrolment.cohort if enrolment else None,
        "programme": enrolment.cohort.programme if enrolment else None,
        "competencies": list(
            placement.competencies.select_related("block").order_by("block__code", "code")
        ),
        "days": [
            (
                ScheduleSlot.Weekday(weekday).label,
                [s for s in slots if s.weekday == weekday],
                format_hours(total),
            )
            for weekday, total in by_day.items()
        ],
        "week_hours": format_hours(sum(by_day.values(), datetime.timedelta())),
        "presence_days": len(placement.presence_days(slots)),
        "presence_hours": format_hours(presence),
        "night": any(
            slot.start_time < datetime.time(6) or slot.end_time > datetime.time(22)
            for slot in slots
        ),
        "sunday": ScheduleSlot.Weekday.SUNDAY in by_day,
        "gratification_total": (hours * placement.gratification_hourly).quantize(Decimal("0.01")),
        "signers": placement.signers(),
    }


def convention_subject(
    placement: Placement, *, version: int = 1, amendment: bool = False
) -> Subject:
    label = _("Avenant") if amendment else _("Convention de stage")
    return Subject(
        placement.learner,
        Truncator(
            _("%(label)s v%(version)s — %(learner)s — %(company)s")
            % {
                "label": label,
                "version": version,
                "learner": placement.learner,
                "company": placement.company,
            }
        ).chars(SUBJECT_LENGTH),
    )


# ---------------------------------------------------------------------------------------
# Attestation de stage (Code de l'éducation, D.124-9): subject, a learner; parameters, the
# period in which the placements ended. One document for one placement, or a cohort's
# through a batch at the end of a PFMP period.
# ---------------------------------------------------------------------------------------

HOURS_PER_DAY = Decimal(7)  # 7 hours of presence make a day,
DAYS_PER_MONTH = 22  # and 22 days a month (D.124-6)


@dataclass(frozen=True)
class Duration:
    hours: Decimal

    @property
    def days(self) -> Decimal:
        return (self.hours / HOURS_PER_DAY).quantize(Decimal("0.1"))

    @property
    def months_and_days(self) -> tuple[int, Decimal]:
        whole = int(self.days // DAYS_PER_MONTH)
        return whole, self.days - whole * DAYS_PER_MONTH


@dataclass(frozen=True)
class Attested:
    placement: Placement
    presence: Duration
    absences: Decimal
    gratification: Decimal


def _attested(placement: Placement) -> Attested:
    slots = list(placement.slots.all())
    planned = Decimal(placement.planned_presence(slots).total_seconds()) / 3600
    absences = sum((absence.hours for absence in placement.absences.all()), Decimal(0))
    effective = max(planned - absences, Decimal(0))
    return Attested(
        placement,
        Duration(effective.quantize(Decimal("0.01"))),
        absences,
        (effective * placement.gratification_hourly).quantize(Decimal("0.01")),
    )


def placement_attestation_context(
    learner: Learner, *, start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    if end < start:
        raise ValidationError(_("La fin de la période précède son début."))
    placements = list(
        Placement.objects.filter(
            learner=learner, status__in=ATTESTABLE, end_date__gte=start, end_date__lte=end
        )
        .select_related("company", "tutor")
        .prefetch_related("slots", "absences")
        .order_by("start_date")
    )
    if not placements:
        raise ValidationError(
            _("%(learner)s n'a pas de stage terminé entre le %(start)s et le %(end)s.")
            % {"learner": learner, "start": f"{start:%d/%m/%Y}", "end": f"{end:%d/%m/%Y}"}
        )
    enrolment = _enrolment_on(placements[0])
    return {
        "learner": learner,
        "cohort": enrolment.cohort if enrolment else None,
        "programme": enrolment.cohort.programme if enrolment else None,
        "placements": [_attested(placement) for placement in placements],
        "place": signing_place(),
    }


def placement_attestation_subject(
    learner: Learner, *, start: datetime.date, end: datetime.date
) -> Subject:
    return Subject(
        learner,
        Truncator(
            _("Attestation de stage — %(learner)s — du %(start)s au %(end)s")
            % {"learner": learner, "start": f"{start:%d/%m/%Y}", "end": f"{end:%d/%m/%Y}"}
        ).chars(SUBJECT_LENGTH),
    )


def register_kinds() -> None:
    register_kind(
        DocumentKind(
            code="convention_stage",
            title=_("Convention de stage (PFMP)"),
            template="documents/convention_stage.html",
            build_context=convention_context,
            describe=convention_subject,
            subject_model=Placement,
            on_request=False,
        )
    )
    register_kind(
        DocumentKind(
            code="attestation_stage",
            title=_("Attestation de stage (PFMP)"),
            template="documents/attestation_stage.html",
            build_context=placement_attestation_context,
            describe=placement_attestation_subject,
            subject_model=Learner,
        )
    )
