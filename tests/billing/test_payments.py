"""Payments against an invoice: partial, never more than the balance, the balance and
the overdue list read in the invoice's row, one reminder 15 days after the due date."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase

from billing import services
from billing.models import Invoice, Payment
from school.models import Role
from tests.billing.chain import Chain, chain
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoiced() -> tuple[Chain, Invoice]:
    c = chain()
    c.through_delivery(12)
    return c, c.invoiced()


def pay(c: Chain, invoice: Invoice, amount: str, day: datetime.date | None = None) -> Payment:
    return services.payment_record(
        invoice,
        by=c.staff,
        paid_on=day or invoice.issued_on,
        amount=Decimal(amount),
        method="transfer",
        reference="VIR-0042",
    )


def test_partial_payments_bring_the_balance_down_to_nothing(
    invoiced: tuple[Chain, Invoice],
) -> None:
    c, invoice = invoiced
    pay(c, invoice, "200")
    row = Invoice.objects.with_balance().get(pk=invoice.pk)
    assert (row.paid, row.balance) == (Decimal("200.00"), Decimal("230.30"))
    assert Invoice.objects.unpaid().filter(pk=invoice.pk).exists()
    pay(c, invoice, "230.30")
    assert not Invoice.objects.unpaid().exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("430.31", "Le reste dû est de 430.30 €"),
        ("0", "montant positif"),
        ("-5", "montant positif"),
    ],
)
def test_a_payment_above_the_balance_or_not_positive_is_refused(
    invoiced: tuple[Chain, Invoice], amount: str, message: str
) -> None:
    c, invoice = invoiced
    with pytest.raises(ValidationError, match=message):
        pay(c, invoice, amount)
    assert not Payment.objects.exists()


def test_only_staff_record_payments(invoiced: tuple[Chain, Invoice]) -> None:
    c, invoice = invoiced
    for user in (c.partner, c.trainer, UserFactory(role=Role.LEARNER)):
        with pytest.raises(PermissionDenied):
            services.payment_record(
                invoice, by=user, paid_on=invoice.issued_on, amount=Decimal("1"), method="cheque"
            )


def test_an_unpaid_invoice_is_overdue_after_its_due_date_and_reminded_once(
    invoiced: tuple[Chain, Invoice],
) -> None:
    c, invoice = invoiced
    due = invoice.due_on
    assert not Invoice.objects.overdue(due).exists()
    assert list(Invoice.objects.overdue(due + datetime.timedelta(days=1))) == [invoice]
    assert services.payment_reminders(due + datetime.timedelta(days=14)) == 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.payment_reminders(due + datetime.timedelta(days=15)) == 1
    [reminder] = [m for m in mail.outbox if "Relance" in m.subject]
    assert reminder.to == [c.partner.email]
    assert invoice.number in reminder.subject and "430.30 €" in reminder.body
    assert "40.00 €" in reminder.body
    assert services.payment_reminders(due + datetime.timedelta(days=16)) == 0


def test_a_paid_invoice_is_not_reminded(invoiced: tuple[Chain, Invoice]) -> None:
    c, invoice = invoiced
    pay(c, invoice, "430.30")
    assert services.payment_reminders(invoice.due_on + datetime.timedelta(days=30)) == 0


def test_the_daily_command_sends_the_reminders(invoiced: tuple[Chain, Invoice]) -> None:
    import io

    import time_machine
    from django.core.management import call_command

    _c, invoice = invoiced
    out = io.StringIO()
    with time_machine.travel(invoice.due_on + datetime.timedelta(days=20), tick=False):
        call_command("invoices_daily", stdout=out)
    assert out.getvalue().strip() == "1 relance(s) de facture envoyée(s)."
    invoice.refresh_from_db()
    assert invoice.reminded_at is not None
