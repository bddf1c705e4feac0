"""Records in the states the services leave them, for the worlds of the tests that
cross every page and route: the authorisation matrix's (tests/matrix_world.py) and the
query budgets' (tests/populate.py). Each world names its own people; the way an order
or a batch gets where it is lives here once.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from billing import services as billing
from billing.models import DeliveryNote, Invoice, Payment
from courses import orders
from courses.models import Inspection, OrderStatus, WorkshopOrder
from internships import services as placements
from internships.models import AgreementVersion
from school import batches
from school.models import Cohort, DocumentBatch, Learner, User
from tests.factories import LearnerFactory, PlacementFactory

# Monday 30 November 2026, 9 h in Paris: this morning's sessions are running (hours may
# be logged on them, a roll call taken), this week's timetable is the one shown.
NOW = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC)
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
# Two parts at 225 € excl. VAT: the price order_accept gives the unquoted orders.
QUOTE_LINE = {"kind": "part", "description": "Bride usinée", "quantity": "2", "unit_price": "225"}


def order_planned(
    *,
    company: Any,
    partner: User,
    staff: User,
    supervisor: User,
    competency: Any,
    session: Any,
    learner: Learner,
    reference: str,
    description: str,
    due: datetime.date | None = None,
    quoted: bool = False,
) -> WorkshopOrder:
    """Placed by the partner, reviewed and accepted by staff (``quoted``: by the partner,
    on the staff's quote) with ``supervisor`` in charge, planned with ``learner`` on
    ``session``."""
    due = due or NOW.date() + datetime.timedelta(days=5)
    order = orders.order_place(
        company=company,
        drawing=SimpleUploadedFile("plan.pdf", PDF, "application/pdf"),
        by=partner,
        reference=reference,
        description=description,
        material="Acier C45",
        quantity=2,
        tolerances="",
        requested_date=due,
        target_price=Decimal("480"),
    )
    order.competencies.set([competency])
    orders.order_review(order, by=staff)
    if quoted:
        # Accepted by the partner on a quote (numbered DV-…), as the sales chain does.
        quote = billing.quote_save(
            order,
            by=staff,
            lines=[QUOTE_LINE],
            valid_until=NOW.date() + datetime.timedelta(days=30),
            lead_time_days=max((due - NOW.date()).days, 1),
        )
        billing.quote_accept(billing.quote_send(quote, by=staff), by=partner)
        WorkshopOrder.objects.filter(pk=order.pk).update(supervisor=supervisor)
        order.refresh_from_db()
    else:
        orders.order_accept(
            order,
            by=staff,
            price=Decimal("450"),
            planned_start=NOW.date(),
            planned_end=due,
            supervisor=supervisor,
        )
    return orders.order_plan(order, by=staff, sessions=[session], learners=[learner])


def order_delivered(
    order: WorkshopOrder,
    *,
    session: Any,
    learner: Learner,
    staff: User,
    trainer: User,
    deliver: bool = True,
) -> Inspection:
    """The planned ``order`` made: an hour logged by ``trainer`` on ``session``, the parts
    measured by staff and the report countersigned by ``trainer``, delivered (unless
    ``deliver`` is false: ``order_invoiced`` delivers it with its note)."""
    orders.time_log_record(
        order=order,
        session=session,
        learner=learner,
        hours=Decimal("1"),
        operation="turning",
        by=trainer,
        parts_made=2,
    )
    orders.order_advance(order, to=OrderStatus.QUALITY_CONTROL, by=staff)
    inspection = orders.inspection_record(
        order=order,
        by=staff,
        characteristics=[
            {
                "name": "Alésage",
                "nominal": "20",
                "lower_tolerance": "0",
                "upper_tolerance": "0.021",
                "values": ["20.010", "20.012"],
            }
        ],
    )
    orders.inspection_countersign(inspection, by=trainer)
    if deliver:
        orders.order_advance(order, to=OrderStatus.DELIVERED, by=staff)
    inspection.refresh_from_db()
    return inspection


def order_invoiced(
    order: WorkshopOrder, *, staff: User, partner: User
) -> tuple[DeliveryNote, Invoice, Payment]:
    """A quoted ``order`` (``order_planned(quoted=True)``) made and inspected but not yet
    delivered: its two parts delivered with a delivery note whose receipt the partner
    signs, invoiced, the invoice paid in part."""
    note = billing.delivery_note_issue(order, by=staff, quantity=2)
    billing.delivery_receipt_sign(note, by=partner, name=partner.get_full_name())
    invoice = billing.invoice_issue(order, by=staff)
    payment = billing.payment_record(
        invoice, by=staff, paid_on=invoice.issued_on, amount=Decimal("100"), method="transfer"
    )
    return note, invoice, payment


def batch_run(cohort: Cohort, *, by: User) -> DocumentBatch:
    """A batch of competency booklets for ``cohort``, its tasks run: they start once the
    batch's items are committed, here at the capture's end."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return batches.batch_create(kind="livret_competences", cohort=cohort, by=by)


# A minor's agreement is refused without a guardian to sign it, and the factories'
# learners are minors with none: an adult's is frozen as it stands.
ADULT_BIRTH_DATE = datetime.date(2004, 1, 1)


def placement_ready(*, by: User, learner: Learner | None = None, **fields: Any) -> AgreementVersion:
    """A draft placement (tests/factories.py, with ``fields``) of an adult learner,
    made ready to sign by ``by``: its agreement frozen into a version with a block for
    each signer, whose links are e-mailed once committed, here at the capture's end.
    ``learner`` is made that adult (born 1 January 2004), or a new one is."""
    if learner is None:
        learner = LearnerFactory(birth_date=ADULT_BIRTH_DATE)
    else:
        learner.birth_date = ADULT_BIRTH_DATE
        learner.save()
    draft = PlacementFactory(learner=learner, **fields)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return placements.placement_freeze(draft, by=by)
