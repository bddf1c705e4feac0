"""« Faire pour apprendre »: a company's order through the workshop, from the drawing
to the delivered parts and their inspection report.

Every move of an order is one call here, checked against ``ORDER_MOVES`` (which role
makes it) and written with its event (who, when); the writes that span several rows
(planning with its machine cover, a time log and its evidence, the countersigned
inspection and its PDF) happen in one transaction each, the order's row locked.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company
from school import services as school_services
from school.models import AnyUser, Learner, Role, User, role_of
from school.notifications import notify
from school.uploads import validate_upload

from .attendance import participants
from .models import (
    ORDER_MOVES,
    Characteristic,
    Competency,
    CompetencyEvidence,
    CompetencyLevel,
    EvidenceSource,
    Inspection,
    Machine,
    Measurement,
    OrderEvent,
    OrderStatus,
    Session,
    TimeLog,
    WorkshopOrder,
)
from .scheduling import Candidate, local, missing_cover

DRAWING_KINDS = ("PDF", "DXF", "STEP", "PNG", "JPEG")
INSPECTION_REPORT = "rapport_controle"


def locked_order(order: WorkshopOrder) -> WorkshopOrder:
    """The order's row, locked until the transaction ends: every write to an order (and
    to its papers, in billing) takes it first."""
    return WorkshopOrder.objects.select_for_update().select_related("company").get(pk=order.pk)


def _move(order: WorkshopOrder, status: str, by: User, note: str = "") -> None:
    """Check the move and who makes it, then record it."""
    _check_move(order, status, by)
    _record(order, status, by, note)


def _check_move(order: WorkshopOrder, status: str, by: User) -> None:
    if (order.status, status) not in ORDER_MOVES:
        raise ValidationError(
            _("Une commande « %(from)s » ne passe pas à « %(to)s ».")
            % {"from": order.get_status_display(), "to": OrderStatus(status).label}
        )
    if not order.may_move(status, by):
        raise PermissionDenied(_("Votre rôle ne permet pas cette étape de la commande."))


def _check_customer_move(order: WorkshopOrder, status: str, by: User) -> None:
    if (order.status, status) not in ORDER_MOVES:
        raise ValidationError(
            _("Une commande « %(from)s » ne passe pas à « %(to)s ».")
            % {"from": order.get_status_display(), "to": OrderStatus(status).label}
        )
    customer = Company.objects.visible_to(by).filter(pk=order.company_id).exists()
    if role_of(by) != Role.STAFF and not (role_of(by) == Role.PARTNER and customer):
        raise PermissionDenied(_("Seul le client de la commande accepte son devis."))


def _record(order: WorkshopOrder, status: str, by: User, note: str = "") -> None:
    OrderEvent.objects.create(
        order=order, from_status=order.status, to_status=status, by=by, note=note
    )
    order.status = status


def staff_emails() -> list[str]:
    """Who hears of an order's news at the school, and (``company_emails``) at the
    company: its contacts with an account."""
    return list(
        User.objects.filter(role=Role.STAFF, is_active=True).values_list("email", flat=True)
    )


def company_emails(company: Company) -> list[str]:
    return list(company.contacts.filter(user__isnull=False).values_list("user__email", flat=True))


@transaction.atomic
def order_place(
    *, company: Company, drawing: UploadedFile, by: User, **fields: Any
) -> WorkshopOrder:
    """A company's order, with its drawing checked by content (an executable renamed
    ``plan.pdf`` is refused) and size."""
    validate_upload(
        drawing, kinds=DRAWING_KINDS, max_bytes=settings.DRAWING_MAX_BYTES, field="drawing"
    )
    order = WorkshopOrder(company=company, placed_by=by, **fields)
    order.drawing.save(drawing.name or "plan", drawing, save=False)
    order.full_clean()
    order.save()
    OrderEvent.objects.create(order=order, to_status=OrderStatus.SUBMITTED, by=by)
    notify(
        staff_emails(),
        _("Nouvelle commande : %(order)s") % {"order": order},
        _("%(company)s commande %(quantity)s × %(reference)s pour le %(day)s.")
        % {
            "company": company,
            "quantity": order.quantity,
            "reference": order.reference,
            "day": f"{order.requested_date:%d/%m/%Y}",
        },
    )
    return order


@transaction.atomic
def order_review(order: WorkshopOrder, *, by: User, note: str = "") -> WorkshopOrder:
    order = locked_order(order)
    _move(order, OrderStatus.REVIEWED, by, note)
    order.save(update_fields=["status", "updated_at"])
    return order


@transaction.atomic
def order_accept(
    order: WorkshopOrder,
    *,
    by: User,
    price: Decimal,
    planned_start: datetime.date,
    planned_end: datetime.date,
    supervisor: User | None = None,
    quote: str = "",
) -> WorkshopOrder:
    """The school takes the order on, at a price, for a period. With ``quote`` (its
    number), it is the customer who accepts the school's quote: the order's company's
    partner (or the staff, for an acceptance on paper) moves it on."""
    order = locked_order(order)
    if quote:
        _check_customer_move(order, OrderStatus.ACCEPTED, by)
        _record(order, OrderStatus.ACCEPTED, by, _("Devis %(number)s accepté.") % {"number": quote})
    else:
        _move(order, OrderStatus.ACCEPTED, by)
    order.price, order.planned_start, order.planned_end = price, planned_start, planned_end
    if supervisor is not None:
        order.supervisor = supervisor
    order.full_clean()
    if order.supervisor is not None and order.supervisor.role != Role.TRAINER:
        raise ValidationError({"supervisor": _("Le responsable de la commande est un formateur.")})
    order.save()
    _tell_company(order)
    return order


@transaction.atomic
def order_decline(order: WorkshopOrder, *, by: User, reason: str) -> WorkshopOrder:
    order = locked_order(order)
    if not reason.strip():
        raise ValidationError({"decline_reason": _("Un refus doit être motivé.")})
    _move(order, OrderStatus.DECLINED, by, reason)
    order.decline_reason = reason.strip()
    order.save(update_fields=["status", "decline_reason", "updated_at"])
    _tell_company(order)
    return order


def _tell_company(order: WorkshopOrder) -> None:
    notify(
        company_emails(order.company),
        _("Votre commande %(reference)s : %(status)s")
        % {"reference": order.reference, "status": order.get_status_display().lower()},
        (
            _("Prix convenu : %(price)s € HT ; réalisation prévue du %(start)s au %(end)s.")
            % {
                "price": order.price,
                "start": f"{order.planned_start:%d/%m/%Y}",
                "end": f"{order.planned_end:%d/%m/%Y}",
            }
            if order.status == OrderStatus.ACCEPTED
            else _("Motif : %(reason)s") % {"reason": order.decline_reason}
        ),
    )


@transaction.atomic
def order_plan(
    order: WorkshopOrder,
    *,
    by: User,
    sessions: Sequence[Session],
    learners: Sequence[Learner],
    competencies: Sequence[Competency] | None = None,
) -> WorkshopOrder:
    """Link workshop sessions and assign learners, and the competencies the order works
    on when they are given (``None`` keeps them). Each learner must take part in the
    sessions, and a minor needs valid cover for their machines (the timetable's rule)."""
    order = locked_order(order)
    if role_of(by) != Role.STAFF:  # planning again, later, is the staff's too
        raise PermissionDenied(_("Votre rôle ne permet pas cette étape de la commande."))
    if not sessions or not learners:
        raise ValidationError(_("Planifier, c'est choisir au moins une séance et un apprenant."))
    problems = []
    for session in sessions:
        taking_part = set(
            Learner.objects.filter(pk__in=[learner.pk for learner in learners])
            .filter(pk__in=participants(session).values("pk"))
            .values_list("pk", flat=True)
        )
        for learner in learners:
            if learner.pk not in taking_part:
                problems.append(
                    _("%(learner)s ne participe pas à la séance du %(when)s.")
                    % {"learner": learner, "when": f"{local(session.start):%d/%m/%Y %H:%M}"}
                )
        machines = tuple(session.machines.all())
        if machines:
            problems += missing_cover([(Candidate.of(session, machines=machines), tuple(learners))])
    if problems:
        raise ValidationError(list(dict.fromkeys(problems)))
    if order.status == OrderStatus.ACCEPTED:
        _move(order, OrderStatus.PLANNED, by)
        order.save(update_fields=["status", "updated_at"])
    elif order.status not in (OrderStatus.PLANNED, OrderStatus.IN_PRODUCTION):
        raise ValidationError(_("Seule une commande acceptée ou en cours se planifie."))
    order.sessions.set(sessions)
    order.learners.set(learners)
    if competencies is not None:
        order.competencies.set(competencies)
    return order


@transaction.atomic
def order_advance(order: WorkshopOrder, *, to: str, by: User, note: str = "") -> WorkshopOrder:
    """The production steps: in production, quality control (and back to production),
    delivered (every good part not yet delivered: ``order_deliver``), closed."""
    if to == OrderStatus.DELIVERED:
        return order_deliver(order, by=by, note=note)
    order = locked_order(order)
    _check_move(order, to, by)
    _record(order, to, by, note)
    order.save()
    return order


def deliverable(order: WorkshopOrder) -> int:
    """Good parts made (made less scrapped, as logged) not yet delivered, up to the
    quantity ordered."""
    made = sum(log.parts_made - log.parts_scrapped for log in order.time_logs.all())
    return max(min(made, order.quantity) - order.delivered_quantity, 0)


@transaction.atomic
def order_deliver(
    order: WorkshopOrder, *, by: User, quantity: int | None = None, note: str = ""
) -> WorkshopOrder:
    """Parts handed to the customer, once the inspection report is countersigned and
    every measure conforms: all the good parts not yet delivered, or ``quantity`` of them
    (a partial delivery: the rest stays open and is delivered later). The first delivery
    moves the order to « livrée »."""
    order = locked_order(order)
    if order.status == OrderStatus.DELIVERED:
        # A later, partial, delivery: the same people as the move to « livrée ».
        if role_of(by) not in ORDER_MOVES[(OrderStatus.QUALITY_CONTROL, OrderStatus.DELIVERED)]:
            raise PermissionDenied(_("Votre rôle ne permet pas cette étape de la commande."))
    else:
        _check_move(order, OrderStatus.DELIVERED, by)
    inspection = Inspection.objects.filter(order=order).first()
    if inspection is None or inspection.countersigned_at is None:
        raise ValidationError(
            _("Livrer demande le rapport de contrôle contresigné par le formateur.")
        )
    if not inspection.report().conforms:
        raise ValidationError(_("Des cotes sont hors tolérance : reprenez la production."))
    available = deliverable(order)
    if quantity is not None and not 1 <= quantity <= available:
        raise ValidationError(
            {
                "quantity": _(
                    "%(available)s pièce(s) bonne(s) reste(nt) à livrer : impossible d'en livrer "
                    "%(quantity)s."
                )
                % {"available": available, "quantity": quantity}
            }
        )
    delivered = available if quantity is None else quantity
    if order.status != OrderStatus.DELIVERED:
        _record(order, OrderStatus.DELIVERED, by, note)
    order.delivered_quantity += delivered
    order.save()
    notify(
        company_emails(order.company),
        _("Votre commande %(reference)s est livrée") % {"reference": order.reference},
        _("%(quantity)s pièces livrées ; le rapport de contrôle est sur MétalTech.")
        % {"quantity": delivered},
    )
    return order


# ---------------------------------------------------------------------------------------
# Time logs
# ---------------------------------------------------------------------------------------


def may_log_for(order: WorkshopOrder, session: Session, user: AnyUser) -> bool:
    role = role_of(user)
    if role == Role.STAFF:
        return True
    uid = getattr(user, "pk", None)
    return role == Role.TRAINER and uid in (session.trainer_id, order.supervisor_id)


@transaction.atomic
def time_log_record(
    *,
    order: WorkshopOrder,
    session: Session,
    learner: Learner,
    hours: Decimal,
    operation: str,
    by: User,
    machine: Machine | None = None,
    parts_made: int = 0,
    parts_scrapped: int = 0,
) -> TimeLog:
    """A learner (or the trainer for them) logs time on an order during a session."""
    order = locked_order(order)
    own = role_of(by) == Role.LEARNER and Learner.objects.filter(pk=learner.pk, user=by).exists()
    if not own and not may_log_for(order, session, by):
        raise PermissionDenied(
            _("Seuls l'apprenant, le formateur et l'équipe saisissent ce temps.")
        )
    problems = []
    if order.status not in (OrderStatus.PLANNED, OrderStatus.IN_PRODUCTION):
        problems.append(_("On ne saisit du temps que sur une commande planifiée ou en production."))
    if not order.sessions.filter(pk=session.pk).exists():
        problems.append(_("Cette séance n'est pas planifiée pour la commande."))
    if not order.learners.filter(pk=learner.pk).exists():
        problems.append(_("%(learner)s n'est pas affecté à la commande.") % {"learner": learner})
    duration = Decimal((session.end - session.start).total_seconds()) / 3600
    if session.start > timezone.now():
        problems.append(_("On saisit le temps d'une séance commencée, pas d'une séance à venir."))
    logged = TimeLog.objects.filter(session=session, learner=learner).aggregate(total=Sum("hours"))[
        "total"
    ] or Decimal(0)
    if hours + logged > duration:
        problems.append(
            _("La séance dure %(hours)s h : impossible d'y passer plus.")
            % {"hours": duration.quantize(Decimal("0.01")).normalize()}
        )
    if parts_scrapped > parts_made:
        problems.append(_("Il ne peut y avoir plus de pièces rebutées que réalisées."))
    if machine is not None:
        problems += missing_cover([(Candidate.of(session, machines=(machine,)), (learner,))])
    if problems:
        raise ValidationError(problems)
    if order.status == OrderStatus.PLANNED:
        # The first hours logged start production, whoever logs them.
        _record(order, OrderStatus.IN_PRODUCTION, by, _("Première saisie de temps."))
        order.save(update_fields=["status", "updated_at"])
    log = TimeLog(
        order=order,
        session=session,
        learner=learner,
        hours=hours,
        operation=operation,
        machine=machine,
        parts_made=parts_made,
        parts_scrapped=parts_scrapped,
        logged_by=by,
    )
    log.full_clean()
    log.save()
    # Practice on a real order is evidence that the competencies are being acquired.
    day = local(session.start).date()
    CompetencyEvidence.objects.bulk_create(
        CompetencyEvidence(
            learner=learner,
            competency=competency,
            level=CompetencyLevel.IN_PROGRESS,
            source=EvidenceSource.ORDER,
            reference=_("Commande %(reference)s : %(operation)s, %(hours)s h")
            % {
                "reference": order.reference,
                "operation": log.get_operation_display().lower(),
                "hours": hours,
            },
            assessor_name=str(session.trainer),
            assessor=session.trainer,
            date=day,
        )
        for competency in order.competencies.all()
    )
    return log


# ---------------------------------------------------------------------------------------
# Inspection
# ---------------------------------------------------------------------------------------


@transaction.atomic
def inspection_record(
    *,
    order: WorkshopOrder,
    by: User,
    characteristics: Sequence[dict[str, Any]],
    notes: str = "",
) -> Inspection:
    """Measures taken on sampled parts: each characteristic is a name, a nominal, its
    lower and upper tolerance, a unit and the values measured (part 1, 2, …).
    Recording again replaces the measures, until the trainer countersigns."""
    order = locked_order(order)
    if order.status != OrderStatus.QUALITY_CONTROL:
        raise ValidationError(_("Le contrôle se saisit quand la commande est en contrôle qualité."))
    if not _supervises(order, by):
        raise PermissionDenied(_("Le contrôle est saisi par le formateur responsable."))
    if not characteristics:
        raise ValidationError(_("Un contrôle porte sur au moins une caractéristique."))
    inspection, _created = Inspection.objects.get_or_create(
        order=order, defaults={"inspected_by": by, "notes": notes}
    )
    if inspection.countersigned_at is not None:
        raise ValidationError(_("Ce rapport est contresigné : il ne change plus."))
    inspection.inspected_by, inspection.notes = by, notes
    inspection.inspected_on = timezone.localdate()
    inspection.save()
    inspection.characteristics.all().delete()
    errors = []
    for position, data in enumerate(characteristics):
        values = data.get("values") or []
        characteristic = Characteristic(
            inspection=inspection,
            name=data["name"],
            nominal=data["nominal"],
            lower_tolerance=data["lower_tolerance"],
            upper_tolerance=data["upper_tolerance"],
            unit=data.get("unit") or "mm",
            order=position,
        )
        try:
            characteristic.full_clean()
        except ValidationError as error:
            errors += [f"{data['name']} : {message}" for message in error.messages]
            continue
        if not values:
            errors.append(_("%(name)s : aucune valeur mesurée.") % {"name": data["name"]})
            continue
        characteristic.save()
        Measurement.objects.bulk_create(
            Measurement(characteristic=characteristic, part_number=n, value=value)
            for n, value in enumerate(values, start=1)
        )
    if errors:
        raise ValidationError(errors)
    return inspection


def _supervises(order: WorkshopOrder, user: User) -> bool:
    """Staff, or the trainer responsible for the order."""
    return role_of(user) == Role.STAFF or (
        role_of(user) == Role.TRAINER and order.supervisor_id == user.pk
    )


@transaction.atomic
def inspection_countersign(inspection: Inspection, *, by: User) -> Inspection:
    """The supervising trainer (or staff) countersigns a conforming report: it is issued
    as a numbered PDF in the register, and the order's learners get their evidence."""
    # The order first, as recording the measures does: neither slips past the other.
    order = locked_order(inspection.order)
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    if not _supervises(order, by):
        raise PermissionDenied(_("Le rapport est contresigné par le formateur responsable."))
    if inspection.countersigned_at is not None:
        raise ValidationError(_("Ce rapport est déjà contresigné."))
    report = inspection.report()
    if not report.rows:
        raise ValidationError(_("Le rapport ne contient aucune mesure."))
    if not report.conforms:
        # A non-conforming batch goes back to production and is measured again.
        raise ValidationError(_("Des cotes sont hors tolérance : reprenez la production."))
    inspection.countersigned_by = by
    inspection.countersigned_at = timezone.now()
    inspection.save()
    inspection.document = school_services.document_issue(
        kind=INSPECTION_REPORT, subject=inspection, by=by
    )
    inspection.save(update_fields=["document"])
    level = CompetencyLevel.ACQUIRED  # only a conforming report is countersigned
    makers = Learner.objects.filter(time_logs__order=order).distinct()
    CompetencyEvidence.objects.bulk_create(
        CompetencyEvidence(
            learner=learner,
            competency=competency,
            level=level,
            source=EvidenceSource.ORDER,
            reference=_("Commande %(reference)s : contrôle %(result)s")
            % {"reference": order.reference, "result": _("conforme")},
            assessor_name=str(by),
            assessor=by,
            date=timezone.localdate(),
        )
        for learner in makers
        for competency in order.competencies.all()
    )
    return inspection


def assessment_record(
    *, learner: Learner, competency: Any, level: str, by: User, note: str = ""
) -> CompetencyEvidence:
    """A trainer's own assessment of a competency (outside an order or a placement)."""
    if role_of(by) not in (Role.STAFF, Role.TRAINER):
        raise PermissionDenied(_("Seuls les formateurs et l'équipe évaluent."))
    evidence = CompetencyEvidence(
        learner=learner,
        competency=competency,
        level=level,
        source=EvidenceSource.ASSESSMENT,
        assessor_name=str(by),
        assessor=by,
        date=timezone.localdate(),
        note=note,
    )
    evidence.full_clean()
    evidence.save()
    return evidence
