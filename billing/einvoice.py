"""Factur-X: the invoice's data as EN 16931 CII XML, embedded in its PDF/A-3.

The XML is made by the ``factur-x`` library from a dictionary keyed by the norm's
business terms (BT-1 the number, BT-2 the date…) and checked against the EN16931
profile's XSD as it is made; the same library embeds it in the PDF (PDF/A-3 with the
Factur-X XMP metadata). Nothing here writes XML by hand.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from facturx import generate_cii_xml, generate_from_binary

from school.documents import Draft

from .models import ZERO, Invoice

PROFILE = "en16931"
GUIDELINE = "urn:cen.eu:en16931:2017"  # BT-24 of the EN16931 (« EN 16931 ») profile
INVOICE_TYPE = "380"  # UNTDID 1001: commercial invoice
CREDIT_NOTE_TYPE = "381"  # credit note
SEPA_TRANSFER = "58"  # UNTDID 4461
# French e-invoicing's category of operation (BT-23): B1, delivery of goods.
DELIVERY_OF_GOODS = "B1"


def _money(amount: Any) -> str:
    return f"{amount:.2f}"


def split_address(address: str) -> dict[str, str]:
    """« 12 rue des Forges, 52800 Nogent » → street, postcode and town (France)."""
    found = re.search(r"^(.*?),?\s*\b(\d{5})\s+(.+)$", address.strip())
    if not found:
        return {"addr_l1": address, "country_code": "FR"}
    street, postcode, city = found.groups()
    return {"addr_l1": street or city, "postcode": postcode, "city": city, "country_code": "FR"}


def _vat_category(rate: Any) -> str:
    # S: standard-rated; Z: a zero rate (EN 16931 asks the category with the rate).
    return "S" if rate > ZERO else "Z"


def data_of(invoice: Invoice) -> dict[str, Any]:
    """The business terms of an issued invoice, all but its number (BT-1), which the
    register gives when the PDF is made."""
    seller, lines = invoice.seller, list(invoice.lines.all())
    amounts = invoice.amounts()
    data: dict[str, Any] = {
        "BT-2": invoice.issued_on,
        "BT-3": CREDIT_NOTE_TYPE if invoice.is_credit_note else INVOICE_TYPE,
        "BT-5": "EUR",
        "BT-9": invoice.due_on,
        "BT-13": invoice.order_reference[:100],
        "BT-20": invoice.payment_terms,
        "BT-23": DELIVERY_OF_GOODS,
        "BT-24": GUIDELINE,
        "BG-4": {
            "name": seller["name"],
            "identifiers": {"0009": seller["siret"]},
            "legal_identifier": seller["siren"],
            "legal_identifier_schemeid": "0002",
            "vat_identifier": seller["vat_number"],
            **split_address(seller["address"]),
        },
        "BG-7": {
            "name": invoice.buyer_name,
            "identifiers": {"0009": invoice.buyer_siret},
            "legal_identifier": invoice.buyer_siret[:9],
            "legal_identifier_schemeid": "0002",
            "vat_identifier": invoice.buyer_vat_number,
            "addr_l1": invoice.buyer_address,
            "postcode": invoice.buyer_postal_code,
            "city": invoice.buyer_city,
            "country_code": "FR",
        },
        "BT-72": invoice.delivered_on,
        "BG-1": [
            {
                "BT-21": "PMD",
                "BT-22": f"Pénalités de retard : {invoice.late_penalty_rate} % l'an, "
                "exigibles dès le lendemain de l'échéance.",
            },
            {
                "BT-21": "PMT",
                "BT-22": "Indemnité forfaitaire pour frais de recouvrement en cas de retard "
                f"de paiement : {invoice.recovery_indemnity} €.",
            },
            {"BT-21": "AAB", "BT-22": "Pas d'escompte pour paiement anticipé."},
            {"BT-21": "AAI", "BT-22": "Catégorie d'opération : livraison de biens."},
        ],
        "BG-23": [
            {
                "BT-116": _money(vat.base),
                "BT-117": _money(vat.tax),
                "BT-118": _vat_category(vat.rate),
                "BT-119": _money(vat.rate),
            }
            for vat in amounts.vat
        ],
        "BT-106": _money(amounts.net),
        "BT-109": _money(amounts.net),
        "BT-110": _money(amounts.tax),
        "BT-112": _money(amounts.gross),
        "BT-115": _money(amounts.gross),
        "BG-25": [
            {
                "BT-126": str(number),
                "BT-153": line.description[:200],
                "BT-146": _money(line.unit_price),
                "BT-129": f"{line.quantity:f}",
                "BT-130": line.unit,
                "BT-151": _vat_category(line.vat_rate),
                "BT-152": _money(line.vat_rate),
                "BT-131": _money(line.net_amount),
            }
            for number, line in enumerate(lines, start=1)
        ],
    }
    if invoice.delivery_address:
        data["BG-13"] = {"name": invoice.buyer_name, **split_address(invoice.delivery_address)}
    if invoice.is_credit_note and invoice.corrects is not None:
        data["BG-3"] = [{"BT-25": invoice.corrects.number, "BT-26": invoice.corrects.issued_on}]
    elif seller.get("iban"):
        data["BT-81"] = SEPA_TRANSFER
        data["BT-84"] = seller["iban"].replace(" ", "")
        if seller.get("bic"):
            data["BT-86"] = seller["bic"]
    return data


def cii_xml(data: dict[str, Any], number: str) -> bytes:
    """The CII XML of the EN16931 profile, checked against the profile's XSD (the
    library raises when it does not validate)."""
    # The library reads (and may change) its argument: it gets a copy.
    return generate_cii_xml({**data, "BT-1": number}, level=PROFILE, check_schematron=False)


def finish(pdf: bytes, draft: Draft) -> bytes:
    """The register's finishing step for invoices: the XML embedded as
    ``factur-x.xml``, the PDF/A-3 metadata declaring the Factur-X profile."""
    data = draft.context["einvoice"]
    xml = cii_xml(data, draft.number)
    issued: datetime.date = data["BT-2"]
    return generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level=PROFILE,
        check_xsd=False,  # checked as it was made
        pdf_metadata={
            "author": data["BG-4"]["name"],
            "keywords": "Factur-X, facture",
            "title": f"{draft.context['title']} {draft.number}",
            "subject": f"{draft.context['title']} {draft.number} du {issued:%d/%m/%Y}",
        },
        lang="fr-FR",
    )
