"""Demo workshop orders for ``manage.py seed_demo``: one order of the cluster's
companies in every status, from « déposée » to « close », each written through
``courses.orders`` (drawings checked, moves recorded, time logged on the demo term's
workshop sessions, inspections measured, countersigned and issued).

Idempotent: an order already there (same company and part reference) is left alone.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from typing import NamedTuple

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import OutputWrapper
from django.utils import timezone
from django.utils.translation import gettext as _
from pypdf import PdfWriter

from companies.models import Company
from school.demo import CAP_2025, PARTNER_EMAIL, STAFF_EMAIL, TRAINER_EMAIL
from school.models import Cohort, Learner, User

from . import orders, services
from .demo_timetable import roll_calls, term_start
from .models import (
    ORDER_PATH,
    Competency,
    Course,
    Machine,
    MachineKind,
    OrderStatus,
    Room,
    Session,
    WorkshopOrder,
)
from .scheduling import local_datetime


class OrderRow(NamedTuple):
    company: str
    reference: str
    description: str
    material: str
    quantity: int
    status: str
    # (name, nominal, lower deviation, upper deviation, values measured)
    inspection: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = ()


BORE = ("Alésage Ø20 H7", "20", "0", "0.021")
LENGTH = ("Longueur 45 ± 0,1", "45", "-0.1", "0.1")
SHAFT = ("Ø25 g6", "25", "-0.020", "-0.007")

ORDERS = (
    OrderRow("Usinage de Précision Nogentais", "BR-2027-01", "Bride de serrage Ø60, alésage H7, "
             "deux perçages Ø8.", "Acier C45", 20, OrderStatus.SUBMITTED),
    OrderRow("Forges de la Traire", "AX-118", "Axe épaulé pour charnière de porte de four.",
             "Acier 42CrMo4", 12, OrderStatus.REVIEWED),
    OrderRow("Micro-Usinage du Plateau", "ENT-07", "Entretoise Ø16 × 30, chanfreins 0,5 × 45°.",
             "Laiton CuZn39Pb3", 50, OrderStatus.ACCEPTED),
    OrderRow("Chromage et Surfaces de Haute-Marne", "SUP-3", "Support de montage pour bain de "
             "chromage, 3 pièces soudées.", "Inox 316L", 4, OrderStatus.DECLINED),
    OrderRow("Usinage de Précision Nogentais", "BG-225", "Bague de guidage Ø40 / Ø25.",
             "Bronze CuSn12", 10, OrderStatus.PLANNED),
    OrderRow("Forges de la Traire", "GAL-19", "Galet de roulement, gorge en V.", "Acier C35", 8,
             OrderStatus.IN_PRODUCTION),
    OrderRow("Micro-Usinage du Plateau", "AX-25", "Axe Ø25 g6 × 120.", "Acier C45", 15,
             OrderStatus.QUALITY_CONTROL, ((*SHAFT, ("24.990", "24.985", "24.992")),)),
    OrderRow("Usinage de Précision Nogentais", "BR-2026-44", "Bride Ø60, alésage Ø20 H7.",
             "Acier C45", 20, OrderStatus.DELIVERED,
             ((*BORE, ("20.008", "20.012", "20.004")), (*LENGTH, ("44.96", "45.03", "45.01")))),
    OrderRow("Forges de la Traire", "CLE-12", "Clé de serrage spéciale, mors usinés.",
             "Acier 35NCD16", 6, OrderStatus.CLOSED,
             ((*LENGTH, ("45.02", "44.98", "45.05")),)),
)  # fmt: skip


def demo_drawing(reference: str) -> SimpleUploadedFile:
    """A one-page PDF standing for the customer's drawing."""
    writer = PdfWriter()
    writer.add_blank_page(width=842, height=595)  # A4 landscape, as drawings are
    writer.add_metadata({"/Title": f"Plan {reference}"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile(f"plan-{reference}.pdf", buffer.getvalue(), "application/pdf")


def production_sessions(trainer: User) -> list[Session]:
    """Two turning mornings of the CAP 2025 cohort in the week before the demo term: time
    is only logged for sessions that have begun, whatever day the demo is seeded."""
    cohort = Cohort.objects.get(name=CAP_2025)
    course = Course.objects.get(programme=cohort.programme, code="TOUR")
    room = Room.objects.get(name="Atelier usinage conventionnel")
    lathes = list(Machine.objects.filter(kind=MachineKind.MANUAL_LATHE).order_by("name")[:2])
    week_before = term_start(timezone.localdate()) - datetime.timedelta(weeks=1)
    sessions = []
    for offset in (3, 4):  # Thursday and Friday
        start = local_datetime(week_before + datetime.timedelta(days=offset), datetime.time(8))
        session = Session.objects.filter(cohort=cohort, course=course, start=start).first()
        if session is None:
            session = services.session_create(
                course=course,
                cohort=cohort,
                trainer=trainer,
                room=room,
                start=start,
                end=start + datetime.timedelta(hours=4),
                machines=lathes,
            )
        sessions.append(session)
    return sessions


def seed_orders(stdout: OutputWrapper) -> None:
    staff = User.objects.get(email=STAFF_EMAIL)
    partner = User.objects.get(email=PARTNER_EMAIL)
    trainer = User.objects.get(email=TRAINER_EMAIL)
    today = timezone.localdate()
    sessions = production_sessions(trainer)
    roll_calls(timezone.now())  # those two mornings had their roll call too
    makers = list(
        Learner.objects.filter(
            enrolments__cohort__name=CAP_2025, enrolments__status="active"
        ).order_by("last_name", "first_name")[:3]
    )
    competencies = list(
        Competency.objects.filter(block__programme__cohorts__name=CAP_2025).order_by("code")[:3]
    )
    created = 0
    for row in ORDERS:
        company = Company.objects.get(legal_name=row.company)
        if WorkshopOrder.objects.filter(company=company, reference=row.reference).exists():
            continue
        by = partner if company.contacts.filter(user=partner).exists() else staff
        order = orders.order_place(
            company=company,
            drawing=demo_drawing(row.reference),
            by=by,
            reference=row.reference,
            description=row.description,
            material=row.material,
            quantity=row.quantity,
            requested_date=today + datetime.timedelta(weeks=6),
            target_price=Decimal(row.quantity * 18),
        )
        created += 1
        _walk(order, row, staff=staff, trainer=trainer, sessions=sessions, makers=makers,
              competencies=competencies)  # fmt: skip
    if created:
        stdout.write(
            _("Atelier : %(count)s commandes d'entreprises, de déposée à close.")
            % {"count": created}
        )


def _walk(
    order: WorkshopOrder,
    row: OrderRow,
    *,
    staff: User,
    trainer: User,
    sessions: list[Session],
    makers: list[Learner],
    competencies: list[Competency],
) -> None:
    """Move the order along the path up to its demo status, as the school would."""
    if row.status == OrderStatus.SUBMITTED:
        return
    if row.status == OrderStatus.DECLINED:
        orders.order_decline(
            order, by=staff, reason=_("Inox soudé : hors des équipements de l'atelier.")
        )
        return
    target = ORDER_PATH.index(OrderStatus(row.status))
    today = timezone.localdate()
    orders.order_review(order, by=staff, note=_("Faisable en atelier conventionnel."))
    if target >= ORDER_PATH.index(OrderStatus.ACCEPTED):
        orders.order_accept(
            order,
            by=staff,
            price=Decimal(row.quantity * 16),
            planned_start=today - datetime.timedelta(days=today.weekday()),
            planned_end=today + datetime.timedelta(weeks=5),
            supervisor=trainer,
        )
    if target >= ORDER_PATH.index(OrderStatus.PLANNED) and sessions and makers:
        order.competencies.set(competencies)
        orders.order_plan(order, by=staff, sessions=sessions, learners=makers)
    if target >= ORDER_PATH.index(OrderStatus.IN_PRODUCTION) and sessions:
        # Orders share the two mornings: 1.5 h each, never more than a session lasts.
        session = sessions[target % len(sessions)]
        for learner in makers:
            orders.time_log_record(
                order=order,
                session=session,
                learner=learner,
                hours=Decimal("1.5"),
                operation="turning",
                machine=session.machines.first(),
                parts_made=row.quantity // len(makers) + 1,
                by=trainer,
            )
    if target >= ORDER_PATH.index(OrderStatus.QUALITY_CONTROL):
        orders.order_advance(order, to=OrderStatus.QUALITY_CONTROL, by=trainer)
        orders.inspection_record(
            order=order,
            by=trainer,
            characteristics=[
                {
                    "name": name,
                    "nominal": Decimal(nominal),
                    "lower_tolerance": Decimal(lower),
                    "upper_tolerance": Decimal(upper),
                    "values": [Decimal(value) for value in values],
                }
                for name, nominal, lower, upper, values in row.inspection
            ],
        )
    if target >= ORDER_PATH.index(OrderStatus.DELIVERED):
        orders.inspection_countersign(order.inspection, by=trainer)
        orders.order_advance(order, to=OrderStatus.DELIVERED, by=staff)
    if target >= ORDER_PATH.index(OrderStatus.CLOSED):
        orders.order_advance(order, to=OrderStatus.CLOSED, by=staff, note=_("Facturée."))
