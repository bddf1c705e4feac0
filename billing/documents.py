"""The workshop's papers as kinds of the school's document engine: the quote (DV-), the
delivery note (BL-), the invoice (FA-) and the credit note (AV-), each numbered in its
own gap-free series, stored and verifiable like every other document. Invoices and
credit notes are finished as Factur-X (``einvoice.finish``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from companies.models import Company
from school.documents import DocumentKind, Subject, register_kind, signing_place
from school.models import AnyUser, Role, role_of

from . import einvoice
from .models import DeliveryNote, Invoice, Quote
from .services import CREDIT_NOTE, DELIVERY_NOTE, INVOICE, QUOTE, seller_identity


def quote_context(quote: Quote) -> dict[str, Any]:
    order = quote.order
    lines = list(quote.lines.all())
    return {
        "quote": quote,
        "order": order,
        "company": order.company,
        "lines": lines,
        "amounts": quote.amounts(),
        "seller": seller_identity(),
        "place": signing_place(),
    }


def quote_subject(quote: Quote) -> Subject:
    order = quote.order
    return Subject(
        None,
        _("Devis v%(version)s — %(reference)s × %(quantity)s — %(company)s")
        % {
            "version": quote.version,
            "reference": order.reference,
            "quantity": order.quantity,
            "company": order.company,
        },
    )


def delivery_note_context(note: DeliveryNote) -> dict[str, Any]:
    order = note.order
    return {
        "note": note,
        "order": order,
        "company": order.company,
        "remaining": order.quantity - order.delivered_quantity,
        "seller": seller_identity(),
        "place": signing_place(),
    }


def delivery_note_subject(note: DeliveryNote) -> Subject:
    return Subject(
        None,
        _("Bon de livraison — %(reference)s × %(quantity)s — %(company)s")
        % {
            "reference": note.order.reference,
            "quantity": note.quantity,
            "company": note.order.company,
        },
    )


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    lines = list(invoice.lines.all())
    return {
        "invoice": invoice,
        "lines": lines,
        "amounts": invoice.amounts(),
        "seller": invoice.seller,
        "title": invoice.get_kind_display(),
        "einvoice": einvoice.data_of(invoice),
    }


def invoice_subject(invoice: Invoice) -> Subject:
    return Subject(
        None,
        _("%(kind)s — %(reference)s — %(company)s — %(amount)s € TTC")
        % {
            "kind": invoice.get_kind_display(),
            "reference": invoice.order_reference,
            "company": invoice.buyer_name,
            "amount": invoice.total_gross,
        },
    )


def customer_papers(user: AnyUser) -> Q:
    """A partner sees their company's quotes, delivery notes, invoices and credit notes
    in the register; besides the staff, no one else sees them."""
    if role_of(user) != Role.PARTNER:
        return Q(pk__in=[])
    companies = Company.objects.visible_to(user)
    return (
        Q(quote__order__company__in=companies)
        | Q(delivery_note__order__company__in=companies)
        | Q(invoice__company__in=companies)
    )


def register_kinds() -> None:
    register_kind(
        DocumentKind(
            code=QUOTE,
            title=_("Devis"),
            template="documents/devis.html",
            build_context=quote_context,
            describe=quote_subject,
            subject_model=Quote,
            on_request=False,
            series="DV",
            digits=4,
        )
    )
    register_kind(
        DocumentKind(
            code=DELIVERY_NOTE,
            title=_("Bon de livraison"),
            template="documents/bon_livraison.html",
            build_context=delivery_note_context,
            describe=delivery_note_subject,
            subject_model=DeliveryNote,
            on_request=False,
            series="BL",
            digits=4,
        )
    )
    for code, title, series in ((INVOICE, _("Facture"), "FA"), (CREDIT_NOTE, _("Avoir"), "AV")):
        register_kind(
            DocumentKind(
                code=code,
                title=title,
                template="documents/facture.html",
                build_context=invoice_context,
                describe=invoice_subject,
                subject_model=Invoice,
                on_request=False,
                series=series,
                digits=6,
                finish=einvoice.finish,
            )
        )
