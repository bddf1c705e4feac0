"""An order taken along the sales chain, step by step, for the billing tests: placed,
under review, quoted, accepted, made and inspected, delivered, invoiced."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from billing import services
from billing.models import DeliveryNote, Invoice, Quote
from courses import orders
from courses.models import OrderStatus, WorkshopOrder
from school.models import Role, User
from tests.factories import (
    CohortFactory,
    CompanyFactory,
    ContactFactory,
    EnrolmentFactory,
    LearnerFactory,
    SessionFactory,
    UserFactory,
)

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
# A session already held: time is logged on it.
HELD = datetime.datetime(2026, 11, 10, 7, tzinfo=datetime.UTC)

LINES: list[dict[str, Any]] = [
    {
        "kind": "part",
        "description": "Bride Ø60 usinée",
        "quantity": "20",
        "unit": "C62",
        "unit_price": "18.35",
    },
    {
        "kind": "setup",
        "description": "Réglage du tour CN",
        "quantity": "1",
        "unit": "LS",
        "unit_price": "95.00",
    },
    {
        "kind": "material",
        "description": "Acier C45 Ø65",
        "quantity": "12.5",
        "unit": "KGM",
        "unit_price": "3.47",
        "vat_rate": "20",
    },
]


@dataclass
class Chain:
    staff: User
    trainer: User
    partner: User
    order: WorkshopOrder
    session: Any
    learner: Any

    def quote(self, lines: list[dict[str, Any]] | None = None, **fields: Any) -> Quote:
        values = {
            "valid_until": timezone.localdate() + datetime.timedelta(days=30),
            "lead_time_days": 21,
            **fields,
        }
        return services.quote_save(self.order, by=self.staff, lines=lines or LINES, **values)

    def sent(self, **fields: Any) -> Quote:
        return services.quote_send(self.quote(**fields), by=self.staff)

    def accepted(self, **fields: Any) -> Quote:
        return services.quote_accept(self.sent(**fields), by=self.partner)

    def inspected(self, made: int = 20, scrapped: int = 0) -> None:
        """Accepted, planned, made (``made`` parts), inspected, countersigned."""
        order = orders.order_plan(
            self.order, by=self.staff, sessions=[self.session], learners=[self.learner]
        )
        order.supervisor = self.trainer
        order.save(update_fields=["supervisor"])
        orders.time_log_record(
            order=order,
            session=self.session,
            learner=self.learner,
            hours=Decimal("3"),
            operation="turning",
            by=self.trainer,
            parts_made=made,
            parts_scrapped=scrapped,
        )
        orders.order_advance(order, to=OrderStatus.QUALITY_CONTROL, by=self.staff)
        inspection = orders.inspection_record(
            order=order,
            by=self.trainer,
            characteristics=[
                {
                    "name": "Alésage Ø20 H7",
                    "nominal": "20",
                    "lower_tolerance": "0",
                    "upper_tolerance": "0.021",
                    "values": ["20.010", "20.012"],
                }
            ],
        )
        orders.inspection_countersign(inspection, by=self.trainer)
        self.order.refresh_from_db()

    def delivered(self, quantity: int = 20) -> DeliveryNote:
        return services.delivery_note_issue(self.order, by=self.staff, quantity=quantity)

    def invoiced(self, **kwargs: Any) -> Invoice:
        return services.invoice_issue(self.order, by=self.staff, **kwargs)

    def through_delivery(self, quantity: int = 20) -> DeliveryNote:
        self.accepted()
        self.inspected()
        return self.delivered(quantity)


def chain(*, company: Any = None) -> Chain:
    staff = UserFactory(role=Role.STAFF)
    trainer = UserFactory(role=Role.TRAINER, first_name="Marc", last_name="Aubertin")
    partner = UserFactory(role=Role.PARTNER)
    company = company or CompanyFactory(legal_name="Forges de la Traire SAS")
    ContactFactory(company=company, user=partner)
    cohort = CohortFactory()
    learner = LearnerFactory(
        first_name="Noah", last_name="Girard", birth_date=datetime.date(2004, 5, 1)
    )
    EnrolmentFactory(learner=learner, cohort=cohort)
    session = SessionFactory(cohort=cohort, trainer=trainer, start=HELD)
    order = orders.order_place(
        company=company,
        drawing=SimpleUploadedFile("plan.pdf", PDF, "application/pdf"),
        by=partner,
        reference="BR-60",
        description="Bride de serrage Ø60, alésage H7.",
        material="Acier C45",
        quantity=20,
        requested_date=datetime.date(2027, 2, 15),
        target_price=Decimal("480"),
    )
    orders.order_review(order, by=staff)
    order.refresh_from_db()
    return Chain(staff, trainer, partner, order, session, learner)
