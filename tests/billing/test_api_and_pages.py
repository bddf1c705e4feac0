"""The sales chain through the API and the site, as the office and the customer use
them: a quote written and sent by staff, accepted by the partner, deliveries, an
invoice, a payment; prices hidden from the teaching team and the learners; the month's
export for the accountant; what the workshop earned."""

from __future__ import annotations

import csv
import datetime
import html
import io
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from billing import earnings, services
from billing.models import Invoice, Payment, Quote, QuoteStatus
from courses.models import OrderStatus
from school.models import Role
from tests.billing.chain import LINES, Chain, chain
from tests.clients import signed_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_whole_chain_through_the_api() -> None:
    c = chain()
    office, customer = api(c.staff), api(c.partner)
    valid = f"{timezone.localdate().replace(year=timezone.localdate().year + 1):%Y-%m-%d}"
    body = {"order": c.order.pk, "valid_until": valid, "lead_time_days": 21, "lines": LINES}
    created = office.post("/api/v1/quotes/", body, format="json")
    assert created.status_code == 201, created.content
    quote = created.json()
    assert (quote["status"], quote["total_net"]) == ("draft", "505.38")
    # A draft is the office's: the customer does not see it yet.
    assert customer.get(f"/api/v1/quotes/{quote['id']}/").status_code == 404
    sent = office.post(f"/api/v1/quotes/{quote['id']}/send/")
    assert sent.json()["number"].startswith("DV-")
    assert customer.post(f"/api/v1/quotes/{quote['id']}/accept/").json()["status"] == "accepted"
    c.order.refresh_from_db()
    assert c.order.status == OrderStatus.ACCEPTED

    c.inspected()
    note = office.post("/api/v1/delivery-notes/", {"order": c.order.pk, "quantity": 12})
    assert note.status_code == 201, note.content
    signed = customer.post(f"/api/v1/delivery-notes/{note.json()['id']}/sign/", {"name": "J. M."})
    assert signed.json()["received_name"] == "J. M."

    invoice = office.post("/api/v1/invoices/", {"order": c.order.pk}, format="json")
    assert invoice.status_code == 201, invoice.content
    assert (invoice.json()["total_gross"], invoice.json()["balance"]) == ("430.30", "430.30")
    paid = office.post(
        "/api/v1/payments/",
        {"invoice": invoice.json()["id"], "paid_on": f"{timezone.localdate()}", "amount": "430.30",
         "method": "transfer"},
    )  # fmt: skip
    assert paid.status_code == 201, paid.content
    row = customer.get(f"/api/v1/invoices/{invoice.json()['id']}/").json()
    assert (row["paid"], row["balance"]) == ("430.30", "0.00")


def test_the_api_refuses_bad_input_in_french_and_writes_nothing() -> None:
    c = chain()
    office = api(c.staff)
    bad = [{**LINES[0], "quantity": "-3"}, {**LINES[1], "vat_rate": "19.60"}]
    answer = office.post(
        "/api/v1/quotes/",
        {"order": c.order.pk, "valid_until": "2099-01-01", "lead_time_days": 5, "lines": bad},
        format="json",
    )
    assert answer.status_code == 400
    errors = str(answer.json())
    assert "Ligne 1 : la quantité doit être positive" in errors
    assert "Ligne 2 : 19.60 % n'est pas un taux de TVA français" in errors
    assert not Quote.objects.exists()
    c.through_delivery(12)
    part = c.order.quotes.get(status=QuoteStatus.ACCEPTED).lines.get(kind="part")
    too_many = office.post(
        "/api/v1/invoices/",
        {"order": c.order.pk, "quantities": {str(part.pk): "15"}},
        format="json",
    )
    assert too_many.status_code == 400
    assert "15 demandé(s), 12 restant à facturer" in str(too_many.json())
    assert not Invoice.objects.exists()


def test_trainers_and_learners_see_the_order_but_not_its_price() -> None:
    c = chain()
    c.accepted()
    for user in (c.trainer, UserFactory(role=Role.TRAINER)):
        row = api(user).get(f"/api/v1/orders/{c.order.pk}/").json()
        assert row["price"] is None and row["target_price"] is None
        page = signed_in(user).get(reverse("order-detail", args=[c.order.pk]))
        assert page.status_code == 200
        assert "505,38" not in page.content.decode() and "505.38" not in page.content.decode()
        assert "Devis, livraisons et factures" not in page.content.decode()
        assert api(user).get("/api/v1/quotes/").json()["count"] == 0
    assert api(c.partner).get(f"/api/v1/orders/{c.order.pk}/").json()["price"] == "505.38"


def test_the_partner_accepts_the_quote_and_signs_for_the_parts_on_the_order_s_page() -> None:
    c = chain()
    quote = c.sent()
    client = signed_in(c.partner)
    page = client.get(reverse("order-detail", args=[c.order.pk])).content.decode()
    assert quote.number in page and "Accepter le devis" in page
    client.post(reverse("billing-item-action", args=[c.order.pk, "accepter", quote.pk]))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    c.inspected()
    note = c.delivered(20)
    answer = client.post(
        reverse("billing-item-action", args=[c.order.pk, "reception", note.pk]),
        {"name": "Julie Marchand", "remarks": ""},
        follow=True,
    )
    assert "Réception signée." in answer.content.decode()
    # Invoicing is the office's: the customer is told so, nothing is written.
    refused = client.post(reverse("billing-action", args=[c.order.pk, "facturer"]), follow=True)
    assert "Seule l'équipe de l'école" in html.unescape(refused.content.decode())
    assert not Invoice.objects.exists()


def test_the_office_writes_sends_delivers_invoices_and_records_a_payment_on_the_page() -> None:
    c = chain()
    client = signed_in(c.staff)
    url = reverse("order-detail", args=[c.order.pk])
    assert "Rédiger le devis" in client.get(url).content.decode()
    form = {
        "valid_until": f"{timezone.localdate().replace(year=timezone.localdate().year + 1)}",
        "lead_time_days": "14",
        "kind_0": "part",
        "description_0": "Bride Ø60",
        "quantity_0": "20",
        "unit_0": "C62",
        "unit_price_0": "18,35",
        "vat_rate_0": "20.00",
    }
    answer = client.post(reverse("billing-action", args=[c.order.pk, "devis"]), form, follow=True)
    assert "Devis version 1 enregistré" in answer.content.decode()
    quote = Quote.objects.get()
    assert quote.lines.get().unit_price == Decimal("18.35")
    client.post(reverse("billing-item-action", args=[c.order.pk, "envoyer", quote.pk]))
    services.quote_accept(quote, by=c.partner)
    c.inspected()
    client.post(reverse("billing-action", args=[c.order.pk, "livrer"]), {"quantity": "20"})
    client.post(reverse("billing-action", args=[c.order.pk, "facturer"]))
    invoice = Invoice.objects.get()
    assert invoice.total_gross == Decimal("440.40")
    answer = client.post(
        reverse("billing-item-action", args=[c.order.pk, "reglement", invoice.pk]),
        {"paid_on": f"{timezone.localdate()}", "amount": "500", "method": "cheque"},
        follow=True,
    )
    assert "Le reste dû est de 440.40 €" in answer.content.decode()
    assert not Payment.objects.exists()
    client.post(
        reverse("billing-item-action", args=[c.order.pk, "reglement", invoice.pk]),
        {"paid_on": f"{timezone.localdate()}", "amount": "440,40", "method": "cheque"},
    )
    assert Payment.objects.get().amount == Decimal("440.40")


def _invoiced_twice() -> tuple[Chain, Invoice, Invoice]:
    c = chain()
    c.through_delivery(12)
    invoice = c.invoiced()
    note = services.credit_note_issue(invoice, by=c.staff, reason="Erreur de prix")
    return c, invoice, note


def test_the_month_s_export_holds_each_pdf_and_a_balanced_sales_journal() -> None:
    c, invoice, note = _invoiced_twice()
    today = timezone.localdate()
    answer = api(c.staff).get("/api/v1/invoices/export/", {"month": f"{today:%Y-%m}"})
    assert answer.status_code == 200 and answer["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = sorted(archive.namelist())
    assert names == sorted(
        [f"{invoice.number}.pdf", f"{note.number}.pdf", f"journal-ventes-{today:%Y-%m}.csv"]
    )
    assert archive.read(f"{invoice.number}.pdf") == invoice.document.file.open("rb").read()
    rows = list(csv.DictReader(io.StringIO(archive.read(names[-1]).decode()), delimiter=";"))
    amount = lambda text: Decimal(text.replace(",", "."))  # noqa: E731
    assert sum(amount(r["Debit"]) for r in rows) == sum(amount(r["Credit"]) for r in rows)
    customer = [r for r in rows if r["CompteNum"] == "411000"]
    assert [(r["PieceRef"], r["Debit"], r["Credit"]) for r in customer] == [
        (invoice.number, "430,30", "0,00"),
        (note.number, "0,00", "430,30"),
    ]
    assert api(c.partner).get("/api/v1/invoices/journal/").status_code == 404
    assert api(c.staff).get("/api/v1/invoices/journal/", {"month": "2026-13"}).status_code == 400


def test_what_the_workshop_earned_is_revenue_less_credit_notes_per_hour_and_margin() -> None:
    c = chain()
    c.through_delivery(12)
    c.invoiced()  # 358.58 € excl. VAT
    c.order.material_cost = Decimal("40.00")
    c.order.save(update_fields=["material_cost"])
    report = earnings.report(months=2)
    [company] = report.companies
    assert company.revenue == Decimal("358.58") and company.hours == Decimal("3.00")
    assert company.per_hour == Decimal("119.53") and company.margin == Decimal("318.58")
    [programme] = report.programmes
    assert programme.revenue == Decimal("358.58")
    assert report.months[-1].revenue == Decimal("358.58")
    page = signed_in(c.staff).get(reverse("earnings")).content.decode()
    assert "358,58 €" in page and "119,53 €" in page
    assert signed_in(c.partner).get(reverse("earnings")).status_code == 404


def test_the_staff_home_lists_the_overdue_invoices() -> None:
    c = chain()
    c.through_delivery(12)
    invoice = c.invoiced()
    long_ago = datetime.date(2026, 1, 5)
    Invoice.objects.filter(pk=invoice.pk).update(issued_on=long_ago, due_on=long_ago)
    home = signed_in(c.staff).get(reverse("home")).content.decode()
    assert "Factures échues et impayées" in home and invoice.number in home
    assert invoice.number not in signed_in(c.trainer).get(reverse("home")).content.decode()
