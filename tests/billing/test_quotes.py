"""A quote for an order under review: lines checked (quantity, price, a French VAT
rate), numbered DV-YYYY-NNNN once sent, a new version for every change after that,
accepted or refused by the order's company only; acceptance moves the order on."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from billing import services
from billing.models import Quote, QuoteLine, QuoteStatus, amounts_of
from courses.models import OrderStatus
from school.models import DocumentCounter, IssuedDocument, Role
from tests.billing.chain import LINES, chain
from tests.factories import CompanyFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_quote_adds_its_lines_rounding_each_line_then_the_vat_of_each_rate() -> None:
    lines = [
        QuoteLine(kind="part", description="a", quantity=Decimal("3"), unit_price=Decimal("0.335")),
        QuoteLine(kind="part", description="b", quantity=Decimal("1"), unit_price=Decimal("10.00")),
        QuoteLine(
            kind="material",
            description="c",
            quantity=Decimal("2.5"),
            unit_price=Decimal("3.33"),
            vat_rate=Decimal("5.50"),
        ),
    ]
    amounts = amounts_of(lines)
    # 3 × 0.335 = 1.005 → 1.01; 2.5 × 3.33 = 8.325 → 8.33 (half up, to the cent).
    assert [line.net_amount for line in lines] == [
        Decimal("1.01"),
        Decimal("10.00"),
        Decimal("8.33"),
    ]
    assert [(v.rate, v.base, v.tax) for v in amounts.vat] == [
        (Decimal("20.00"), Decimal("11.01"), Decimal("2.20")),  # 2.202 → 2.20
        (Decimal("5.50"), Decimal("8.33"), Decimal("0.46")),  # 0.45815 → 0.46
    ]
    assert (amounts.net, amounts.tax, amounts.gross) == (
        Decimal("19.34"),
        Decimal("2.66"),
        Decimal("22.00"),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quantity": "-2"}, "Ligne 1 : la quantité doit être positive"),
        ({"quantity": "0"}, "Ligne 1 : la quantité doit être positive"),
        ({"unit_price": "-1"}, "Ligne 1 : le prix unitaire ne peut pas être négatif"),
        ({"vat_rate": "19.6"}, "Ligne 1 : 19.6 % n'est pas un taux de TVA français"),
        ({"vat_rate": "7"}, "n'est pas un taux de TVA français"),
        ({"quantity": "beaucoup"}, "Ligne 1 : quantité, prix et taux de TVA sont des nombres"),
    ],
)
def test_a_bad_quote_line_is_refused_in_french_and_nothing_is_written(
    change: dict[str, str], message: str
) -> None:
    c = chain()
    with pytest.raises(ValidationError) as refusal:
        c.quote(lines=[{**LINES[0], **change}, LINES[1]])
    assert message in " ".join(refusal.value.messages)
    assert not Quote.objects.exists() and not QuoteLine.objects.exists()


def test_sending_numbers_the_quote_in_its_own_series_and_stores_its_pdf() -> None:
    c = chain()
    quote = c.sent()
    year = timezone.localdate().year
    assert quote.status == QuoteStatus.SENT
    assert quote.number == f"DV-{year}-0001"
    assert quote.document.sha256 and quote.document.file.read().startswith(b"%PDF")
    # The register's own MT- series is untouched.
    assert not DocumentCounter.objects.filter(series="MT").exists()
    assert DocumentCounter.objects.get(series="DV", year=year).last == 1


def test_a_change_after_sending_is_a_new_version_and_supersedes_the_sent_one() -> None:
    c = chain()
    first = c.sent()
    second = c.quote(lines=[{**LINES[0], "unit_price": "17.90"}])
    assert (second.version, second.status) == (2, QuoteStatus.DRAFT)
    # The draft may change again in place, still version 2.
    again = c.quote(lines=[{**LINES[0], "unit_price": "17.50"}], lead_time_days=15)
    assert again.pk == second.pk and again.lines.get().unit_price == Decimal("17.50")
    services.quote_send(again, by=c.staff)
    first.refresh_from_db()
    assert first.status == QuoteStatus.SUPERSEDED
    assert first.lines.get(kind="part").unit_price == Decimal("18.35")  # as the company got it
    with pytest.raises(ValidationError, match="ne se décide plus"):
        services.quote_accept(first, by=c.partner)


def test_the_customer_accepting_moves_the_order_on_at_the_quoted_price() -> None:
    c = chain()
    quote = services.quote_accept(c.sent(), by=c.partner)
    c.order.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED and quote.decided_by == c.partner
    assert c.order.status == OrderStatus.ACCEPTED
    assert c.order.price == Decimal("505.38")  # 20 × 18.35 + 95 + 12.5 × 3.47 (43.375 → 43.38)
    assert c.order.planned_end == timezone.localdate() + datetime.timedelta(days=21)
    event = c.order.events.get(to_status=OrderStatus.ACCEPTED)
    assert event.by == c.partner and quote.number in event.note


def test_refusing_needs_a_reason_and_leaves_the_order_under_review() -> None:
    c = chain()
    quote = c.sent()
    with pytest.raises(ValidationError, match="pourquoi"):
        services.quote_refuse(quote, by=c.partner, reason="  ")
    quote = services.quote_refuse(quote, by=c.partner, reason="Prix trop élevé")
    c.order.refresh_from_db()
    assert quote.status == QuoteStatus.REFUSED and c.order.status == OrderStatus.REVIEWED
    assert c.quote().version == 2  # the school may send a new version


def test_only_the_order_s_company_decides_of_its_quote() -> None:
    c = chain()
    quote = c.sent()
    stranger = UserFactory(role=Role.PARTNER)
    ContactFactory(company=CompanyFactory(), user=stranger)
    for user in (stranger, UserFactory(role=Role.TRAINER), UserFactory(role=Role.LEARNER)):
        with pytest.raises(PermissionDenied):
            services.quote_accept(quote, by=user)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


def test_only_staff_write_and_send_quotes() -> None:
    c = chain()
    for role in (Role.TRAINER, Role.PARTNER):
        with pytest.raises(PermissionDenied):
            services.quote_save(
                c.order,
                by=UserFactory(role=role),
                lines=LINES,
                valid_until=timezone.localdate(),
                lead_time_days=5,
            )


def test_an_expired_quote_can_no_longer_be_accepted() -> None:
    c = chain()
    quote = c.sent()
    Quote.objects.filter(pk=quote.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    with pytest.raises(ValidationError, match="n'est plus valable"):
        services.quote_accept(quote, by=c.partner)


def test_a_quote_is_written_for_an_order_under_review_only() -> None:
    c = chain()
    c.accepted()
    with pytest.raises(ValidationError, match="commande à l'étude"):
        c.quote()


def test_a_failed_quote_pdf_gives_its_number_back(monkeypatch: pytest.MonkeyPatch) -> None:
    c = chain()
    quote = c.quote()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer down")

    monkeypatch.setattr("school.documents.render_many", broken)
    with pytest.raises(RuntimeError):
        services.quote_send(quote, by=c.staff)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT and not IssuedDocument.objects.exists()
    monkeypatch.undo()
    assert services.quote_send(quote, by=c.staff).number.endswith("-0001")
