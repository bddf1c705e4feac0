"""Demo sales for ``manage.py seed_demo``, every paper written by ``billing.services``:

- BR-2026-61 (Usinage de Précision Nogentais, the demo partner's company): the whole
  chain — a first quote refused, a second accepted, made, inspected, delivered in two
  parts (the first receipt signed), invoiced twice, the first invoice paid, the second
  partly;
- GAL-31 (same company): made, delivered and invoiced six weeks ago, one part
  credited, the rest unpaid and overdue — on the staff home;
- ENT-12 (Micro-Usinage du Plateau): a quote sent, awaiting its answer;
- AX-40 (Forges de la Traire): a quote refused, the order still under review.

The overdue chain happened in the past: it is written at that moment (the clock the
services read is set back while it is), on a workshop session of its own.

Idempotent: an order already there (same company and reference) is left alone.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from unittest import mock

from django.core.exceptions import ValidationError
from django.core.management.base import OutputWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company
from courses import orders
from courses import services as course_services
from courses.demo_orders import demo_drawing, production_sessions
from courses.demo_timetable import roll_calls
from courses.models import Course, Machine, MachineKind, OrderStatus, Room, Session, WorkshopOrder
from courses.scheduling import local_datetime
from school.demo import CAP_2025, PARTNER_EMAIL, STAFF_EMAIL, TRAINER_EMAIL
from school.models import Cohort, Learner, User

from . import services
from .models import Invoice

UPN = "Usinage de Précision Nogentais"

FLANGE_LINES: list[dict[str, Any]] = [
    {"kind": "part", "description": "Bride Ø60 usinée, alésage Ø20 H7", "quantity": "20",
     "unit": "C62", "unit_price": "17.40"},
    {"kind": "setup", "description": "Réglage et programmation du tour", "quantity": "1",
     "unit": "LS", "unit_price": "120.00"},
    {"kind": "material", "description": "Acier C45 Ø65 étiré", "quantity": "14.2", "unit": "KGM",
     "unit_price": "3.65"},
    {"kind": "finishing", "description": "Ébavurage et huilage", "quantity": "20", "unit": "C62",
     "unit_price": "1.10"},
]  # fmt: skip


@contextlib.contextmanager
def at(moment: datetime.datetime) -> Iterator[None]:
    """The services' clock (``django.utils.timezone.now``) set to ``moment``: a past step
    of the demo written as it happened, numbered and dated then."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _place(company: Company, by: User, reference: str, description: str, quantity: int) -> Any:
    order = orders.order_place(
        company=company,
        drawing=demo_drawing(reference),
        by=by,
        reference=reference,
        description=description,
        material="Acier C45",
        quantity=quantity,
        requested_date=timezone.localdate() + datetime.timedelta(weeks=5),
        target_price=Decimal(quantity * 20),
    )
    return order


def _make(
    order: WorkshopOrder, *, staff: User, trainer: User, session: Session, makers: list[Learner]
) -> None:
    """Plan, log the parts, inspect and countersign: the order ready to deliver."""
    orders.order_plan(order, by=staff, sessions=[session], learners=makers)
    order.refresh_from_db()
    order.supervisor = trainer
    order.save(update_fields=["supervisor"])
    for learner in makers:
        orders.time_log_record(
            order=order,
            session=session,
            learner=learner,
            hours=Decimal("1"),
            operation="turning",
            machine=session.machines.first(),
            parts_made=order.quantity // len(makers) + 1,
            by=trainer,
        )
    orders.order_advance(order, to=OrderStatus.QUALITY_CONTROL, by=trainer)
    inspection = orders.inspection_record(
        order=order,
        by=trainer,
        characteristics=[
            {
                "name": "Alésage Ø20 H7",
                "nominal": "20",
                "lower_tolerance": "0",
                "upper_tolerance": "0.021",
                "values": ["20.008", "20.012", "20.004"],
            },
        ],
    )
    orders.inspection_countersign(inspection, by=trainer)


def _past_session(trainer: User, *, before: datetime.date) -> Session:
    """A turning morning of the CAP cohort on the last school day before ``before``
    (closures and weekends skipped, as the timetable refuses them)."""
    cohort = Cohort.objects.get(name=CAP_2025)
    course = Course.objects.get(programme=cohort.programme, code="TOUR")
    room = Room.objects.get(name="Atelier usinage conventionnel")
    lathe = list(Machine.objects.filter(kind=MachineKind.MANUAL_LATHE).order_by("name")[:1])
    for back in range(1, 60):
        start = local_datetime(before - datetime.timedelta(days=back), datetime.time(8))
        existing = Session.objects.filter(cohort=cohort, course=course, start=start).first()
        if existing is not None:
            return existing
        if start.weekday() >= 5:
            continue
        try:
            return course_services.session_create(
                course=course,
                cohort=cohort,
                trainer=trainer,
                room=room,
                start=start,
                end=start + datetime.timedelta(hours=4),
                machines=lathe,
            )
        except ValidationError:
            continue  # a closure, or the trainer elsewhere: the day before
    raise RuntimeError("No school day for the demo's past production in 60 days")


def seed_sales(stdout: OutputWrapper) -> None:
    staff = User.objects.get(email=STAFF_EMAIL)
    partner = User.objects.get(email=PARTNER_EMAIL)
    trainer = User.objects.get(email=TRAINER_EMAIL)
    upn = Company.objects.get(legal_name=UPN)
    makers = list(
        Learner.objects.filter(enrolments__cohort__name=CAP_2025, enrolments__status="active")
        .order_by("last_name", "first_name")
        .distinct()[:3]
    )
    if len(makers) < 3:
        return
    today = timezone.localdate()
    valid = today + datetime.timedelta(days=30)
    written = []

    def new(company: Company, reference: str) -> bool:
        return not WorkshopOrder.objects.filter(company=company, reference=reference).exists()

    if new(upn, "GAL-31"):
        # Invoiced 34 days ago at 30 days: overdue since 4 days, reminded in 11.
        then = timezone.now() - datetime.timedelta(days=34)
        session = _past_session(trainer, before=timezone.localdate(then))
        with at(then):
            order = _place(upn, partner, "GAL-31", "Galet de roulement Ø50, gorge en V.", 9)
            orders.order_review(order, by=staff)
            lines = [{"kind": "part", "description": "Galet Ø50 gorge en V", "quantity": "9",
                      "unit": "C62", "unit_price": "24.00"}]  # fmt: skip
            quote = services.quote_save(order, by=staff, lines=lines, lead_time_days=10,
                                        valid_until=timezone.localdate() + datetime.timedelta(days=30))  # fmt: skip
            services.quote_accept(services.quote_send(quote, by=staff), by=partner)
            order.refresh_from_db()
            _make(order, staff=staff, trainer=trainer, session=session, makers=makers)
            services.delivery_note_issue(order, by=staff, quantity=9)
            invoice = services.invoice_issue(order, by=staff)
        part = invoice.lines.get()
        services.credit_note_issue(invoice, by=staff, quantities={part.pk: 1},
                                   reason=_("Un galet rayé, refusé à réception."))  # fmt: skip
        written.append("GAL-31")

    if new(upn, "BR-2026-61"):
        order = _place(upn, partner, "BR-2026-61", "Bride de serrage Ø60, alésage H7.", 20)
        orders.order_review(order, by=staff)
        first = services.quote_save(order, by=staff, lines=FLANGE_LINES, valid_until=valid,
                                    lead_time_days=21)  # fmt: skip
        services.quote_send(first, by=staff)
        services.quote_refuse(
            first, by=partner, reason=_("Prix unitaire au-dessus de notre cible.")
        )
        cheaper = [{**FLANGE_LINES[0], "unit_price": "16.20"}, *FLANGE_LINES[1:]]
        second = services.quote_save(order, by=staff, lines=cheaper, valid_until=valid,
                                     lead_time_days=21)  # fmt: skip
        services.quote_accept(services.quote_send(second, by=staff), by=partner)
        order.refresh_from_db()
        order.material_cost = Decimal("41.50")
        order.save(update_fields=["material_cost"])
        session = production_sessions(trainer)[0]
        _make(order, staff=staff, trainer=trainer, session=session, makers=makers)
        note = services.delivery_note_issue(order, by=staff, quantity=12)
        services.delivery_receipt_sign(note, by=partner, name="Julien Mercier")
        paid = services.invoice_issue(order, by=staff)
        services.payment_record(paid, by=staff, paid_on=today, amount=paid.total_gross,
                                method="transfer", reference="VIR UPN 0412")  # fmt: skip
        services.delivery_note_issue(order, by=staff, quantity=8)
        partly = services.invoice_issue(order, by=staff)
        services.payment_record(partly, by=staff, paid_on=today, amount=Decimal("100.00"),
                                method="cheque", reference="Chèque n° 2041137")  # fmt: skip
        written.append("BR-2026-61")

    plateau = Company.objects.get(legal_name="Micro-Usinage du Plateau")
    if new(plateau, "ENT-12"):
        order = _place(plateau, staff, "ENT-12", "Entretoise Ø16 × 30, chanfreins 0,5 × 45°.", 60)
        orders.order_review(order, by=staff)
        lines = [{"kind": "part", "description": "Entretoise Ø16 × 30 laiton", "quantity": "60",
                  "unit": "C62", "unit_price": "3.90"}]  # fmt: skip
        quote = services.quote_save(
            order, by=staff, lines=lines, valid_until=valid, lead_time_days=15
        )
        services.quote_send(quote, by=staff)
        written.append("ENT-12")

    traire = Company.objects.get(legal_name="Forges de la Traire")
    if new(traire, "AX-40"):
        order = _place(traire, staff, "AX-40", "Axe Ø40 rectifié, clavetage.", 6)
        orders.order_review(order, by=staff)
        lines = [{"kind": "part", "description": "Axe Ø40 rectifié", "quantity": "6",
                  "unit": "C62", "unit_price": "68.00"}]  # fmt: skip
        quote = services.quote_send(
            services.quote_save(order, by=staff, lines=lines, valid_until=valid, lead_time_days=20),
            by=staff,
        )
        services.quote_refuse(quote, by=staff, reason=_("Réponse par téléphone : délai trop long."))
        written.append("AX-40")

    # The past production mornings had their roll call too, as the timetable's have.
    roll_calls(timezone.now())
    if written:
        stdout.write(
            _("Ventes : devis, livraisons, %(count)s factures et avoirs (%(orders)s).")
            % {"count": Invoice.objects.count(), "orders": ", ".join(written)}
        )
