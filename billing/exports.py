"""The month's invoices for the accountant: their PDFs in a ZIP, and the sales journal
with the columns of the FEC (fichier des écritures comptables, LPF art. A47 A-1): one
entry per invoice or credit note, the customer's account debited with the amount incl.
VAT, sales and output VAT credited (the reverse for a credit note)."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import QuerySet

from .models import Invoice

JOURNAL = ("VT", "Ventes")
SALES_ACCOUNT = ("701000", "Ventes de produits finis")
VAT_ACCOUNT = ("445710", "TVA collectée")
CUSTOMERS_ACCOUNT = "411000"
FEC_COLUMNS = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
]


def of_month(year: int, month: int) -> QuerySet[Invoice]:
    start = datetime.date(year, month, 1)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    return (
        Invoice.objects.filter(issued_on__gte=start, issued_on__lt=end)
        .select_related("document", "company", "corrects")
        .prefetch_related("lines")
        .order_by("issued_on", "pk")
    )


def _amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _entries(invoice: Invoice, number: int) -> Iterator[list[str]]:
    day = f"{invoice.issued_on:%Y%m%d}"
    label = f"{invoice.get_kind_display()} {invoice.number} {invoice.buyer_name}"[:100]
    # An invoice debits the customer; a credit note credits them back.
    sign = -1 if invoice.is_credit_note else 1
    common = [JOURNAL[0], JOURNAL[1], f"{number}", day]

    def row(account: tuple[str, str], aux: tuple[str, str], amount: Decimal) -> list[str]:
        debit, credit = (amount, Decimal(0)) if amount >= 0 else (Decimal(0), -amount)
        return [
            *common,
            *account,
            *aux,
            invoice.number or "",
            day,
            label,
            _amount(debit),
            _amount(credit),
            "",
            "",
            day,
            "",
            "",
        ]

    customer = (f"C{invoice.company_id:05d}", invoice.buyer_name)
    yield row((CUSTOMERS_ACCOUNT, "Clients"), customer, sign * invoice.total_gross)
    for vat in invoice.amounts().vat:
        yield row(SALES_ACCOUNT, ("", ""), -sign * vat.base)
        if vat.tax:
            yield row(VAT_ACCOUNT, ("", ""), -sign * vat.tax)


def sales_journal(invoices: QuerySet[Invoice]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(FEC_COLUMNS)
    for number, invoice in enumerate(invoices, start=1):
        writer.writerows(_entries(invoice, number))
    return out.getvalue()


def month_zip(year: int, month: int) -> bytes:
    """Every invoice and credit note issued in the month, as stored (Factur-X PDFs),
    and the month's journal."""
    invoices = of_month(year, month)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for invoice in invoices:
            if invoice.document is None or invoice.document.file_erased():
                continue
            with invoice.document.file.open("rb") as pdf:
                archive.writestr(f"{invoice.number}.pdf", pdf.read())
        archive.writestr(f"journal-ventes-{year}-{month:02d}.csv", sales_journal(invoices))
    return out.getvalue()
