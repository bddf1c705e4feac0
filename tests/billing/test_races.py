"""Two offices invoicing at once (PostgreSQL only: SQLite serialises every write):
never the same number, never a gap, never more invoiced than delivered."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from billing import services
from billing.models import Invoice
from tests.billing.chain import chain
from tests.school.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… to run it")


def test_concurrent_issuers_get_consecutive_invoice_numbers_without_gap() -> None:
    chains = []
    for _n in range(4):
        c = chain()
        c.through_delivery(20)
        chains.append(c)
    outcomes = race(*[lambda c=c: c.invoiced() for c in chains])
    assert outcomes == ["ok"] * 4
    year = timezone.localdate().year
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"FA-{year}-{n:06d}" for n in range(1, 5)]


def test_two_offices_invoicing_one_delivery_at_once_invoice_it_once() -> None:
    c = chain()
    c.through_delivery(20)
    outcomes = race(c.invoiced, c.invoiced)
    assert outcomes == ["Rien à facturer sur cette commande.", "ok"]
    assert Invoice.objects.count() == 1


def test_two_payments_at_once_never_pay_more_than_the_balance() -> None:
    from decimal import Decimal

    c = chain()
    c.through_delivery(20)
    invoice = c.invoiced()
    half = invoice.total_gross - Decimal("1")

    def pay() -> object:
        return services.payment_record(
            invoice, by=c.staff, paid_on=invoice.issued_on, amount=half, method="transfer"
        )

    outcomes = race(pay, pay)
    assert outcomes[1] == "ok" and "Le reste dû est de 1.00 €" in outcomes[0]
