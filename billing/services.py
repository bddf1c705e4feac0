"""The workshop's sales, each step one transaction: the order's row locked first (as
``courses.orders`` does), then the papers it gets, numbered in their own series by the
school's document register (quotes DV-, delivery notes BL-, invoices FA-, credit notes
AV-): a failure anywhere gives the number back and writes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company
from companies.validators import french_vat_number, validate_siret
from courses import orders
from courses.models import OrderStatus, WorkshopOrder
from school import services as school_services
from school.models import AnyUser, Role, User, role_of
from school.notifications import notify

from .models import (
    DEFAULT_VAT,
    VAT_RATES,
    ZERO,
    DeliveryNote,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Payment,
    Quote,
    QuoteLine,
    QuoteStatus,
    amounts_of,
    to_cent,
)

QUOTE = "devis"
DELIVERY_NOTE = "bon_livraison"
INVOICE = "facture"
CREDIT_NOTE = "avoir"

# Once production has started a quote no longer applies: the order is priced.
QUOTABLE = (OrderStatus.REVIEWED,)
# An order is invoiced from its first delivery until it is closed and paid.
INVOICEABLE = (OrderStatus.DELIVERED, OrderStatus.CLOSED)


def _staff_only(by: AnyUser) -> None:
    if role_of(by) != Role.STAFF:
        raise PermissionDenied(_("Seule l'équipe de l'école gère les devis et les factures."))


def _customer(user: AnyUser, company_id: int) -> bool:
    return Company.objects.visible_to(user).filter(pk=company_id).exists()


# ---------------------------------------------------------------------------------------
# Quotes
# ---------------------------------------------------------------------------------------


def _lines(lines: Sequence[Mapping[str, Any]], model: type[QuoteLine]) -> list[QuoteLine]:
    """The lines as typed, each checked; every line's errors reported at once."""
    if not lines:
        raise ValidationError(_("Un devis a au moins une ligne."))
    built, errors = [], []
    for position, data in enumerate(lines, start=1):
        fields = {key: data[key] for key in ("kind", "description", "unit") if key in data}
        try:
            fields["quantity"] = Decimal(str(data.get("quantity")))
            fields["unit_price"] = Decimal(str(data.get("unit_price")))
            fields["vat_rate"] = Decimal(str(data.get("vat_rate", DEFAULT_VAT)))
        except InvalidOperation:
            errors.append(
                _("Ligne %(n)s : quantité, prix et taux de TVA sont des nombres.") % {"n": position}
            )
            continue
        line = model(position=position, **fields)
        problems = []
        if line.quantity <= 0:
            problems.append(_("la quantité doit être positive (reçu : %s).") % line.quantity)
        if line.unit_price < 0:
            problems.append(_("le prix unitaire ne peut pas être négatif."))
        if line.vat_rate.quantize(Decimal("0.01")) not in VAT_RATES:
            problems.append(
                _("%(rate)s %% n'est pas un taux de TVA français (20, 10, 5,5, 2,1 ou 0 %%).")
                % {"rate": line.vat_rate}
            )
        if not problems:
            try:
                line.full_clean(exclude=["quote", "invoice", "quote_line", "net"])
            except ValidationError as error:
                problems += error.messages
        errors += [_("Ligne %(n)s : %(problem)s") % {"n": position, "problem": p} for p in problems]
        built.append(line)
    if errors:
        raise ValidationError(errors)
    return built


@transaction.atomic
def quote_save(
    order: WorkshopOrder,
    *,
    by: User,
    lines: Sequence[Mapping[str, Any]],
    valid_until: datetime.date,
    lead_time_days: int,
    delivery_address: str = "",
    notes: str = "",
) -> Quote:
    """Write the order's quote: the draft is changed in place; once a version has been
    sent, a change is a new version (the sent one stays as the company received it)."""
    _staff_only(by)
    order = orders.locked_order(order)
    if order.status not in QUOTABLE:
        raise ValidationError(
            _("On chiffre une commande à l'étude (celle-ci est « %(status)s »).")
            % {"status": order.get_status_display()}
        )
    if valid_until < timezone.localdate():
        raise ValidationError({"valid_until": _("La date de validité est passée.")})
    built = _lines(lines, QuoteLine)
    latest = order.quotes.order_by("-version").first()
    if latest is not None and latest.status == QuoteStatus.ACCEPTED:
        raise ValidationError(_("Le devis de cette commande est déjà accepté."))
    if latest is not None and latest.status == QuoteStatus.DRAFT:
        quote = latest
        quote.lines.all().delete()
    else:
        quote = Quote(order=order, version=(latest.version + 1) if latest else 1, created_by=by)
    quote.valid_until, quote.lead_time_days = valid_until, lead_time_days
    quote.delivery_address, quote.notes = delivery_address.strip(), notes
    quote.full_clean(exclude=["document"])
    quote.save()
    for line in built:
        line.quote = quote
    QuoteLine.objects.bulk_create(built)
    return quote


@transaction.atomic
def quote_send(quote: Quote, *, by: User) -> Quote:
    """Number the draft (DV-YYYY-NNNN), store its PDF, and tell the company; the
    version it replaces, if any, is superseded."""
    _staff_only(by)
    order = orders.locked_order(quote.order)
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.status != QuoteStatus.DRAFT:
        raise ValidationError(_("Seul un brouillon de devis s'envoie."))
    if order.status not in QUOTABLE:
        raise ValidationError(_("La commande n'est plus à l'étude : le devis ne s'envoie plus."))
    if quote.is_expired():
        raise ValidationError({"valid_until": _("La date de validité est passée.")})
    order.quotes.filter(status=QuoteStatus.SENT).update(status=QuoteStatus.SUPERSEDED)
    quote.status, quote.sent_at = QuoteStatus.SENT, timezone.now()
    quote.save(update_fields=["status", "sent_at"])
    quote.document = school_services.document_issue(kind=QUOTE, subject=quote, by=by)
    quote.save(update_fields=["document"])
    amounts = quote.amounts()
    notify(
        orders.company_emails(order.company),
        _("Devis %(number)s pour votre commande %(reference)s")
        % {"number": quote.number, "reference": order.reference},
        _(
            "Montant : %(net)s € HT (%(gross)s € TTC), valable jusqu'au %(day)s. "
            "Acceptez-le ou refusez-le sur MétalTech."
        )
        % {"net": amounts.net, "gross": amounts.gross, "day": f"{quote.valid_until:%d/%m/%Y}"},
    )
    return quote


def _decidable(quote: Quote, by: AnyUser) -> Quote:
    order = orders.locked_order(quote.order)
    quote = (
        Quote.objects.select_for_update(of=("self",)).select_related("document").get(pk=quote.pk)
    )
    if role_of(by) != Role.STAFF and not (
        role_of(by) == Role.PARTNER and _customer(by, order.company_id)
    ):
        raise PermissionDenied(_("Seul le client de la commande décide de son devis."))
    if quote.status != QuoteStatus.SENT:
        raise ValidationError(
            _("Ce devis est « %(status)s » : il ne se décide plus.")
            % {"status": quote.get_status_display()}
        )
    if quote.is_expired():
        raise ValidationError(
            _("Ce devis n'est plus valable depuis le %(day)s : demandez-en une nouvelle version.")
            % {"day": f"{quote.valid_until:%d/%m/%Y}"}
        )
    quote.order = order
    return quote


@transaction.atomic
def quote_accept(quote: Quote, *, by: User) -> Quote:
    """The customer accepts: the order is accepted at the quote's price (excl. VAT),
    to be made within its lead time."""
    quote = _decidable(quote, by)
    today = timezone.localdate()
    orders.order_accept(
        quote.order,
        by=by,
        price=quote.amounts().net,
        planned_start=today,
        planned_end=today + datetime.timedelta(days=quote.lead_time_days),
        quote=quote.number,
    )
    quote.status, quote.decided_at, quote.decided_by = QuoteStatus.ACCEPTED, timezone.now(), by
    quote.save(update_fields=["status", "decided_at", "decided_by"])
    notify(
        orders.staff_emails(),
        _("Devis %(number)s accepté") % {"number": quote.number},
        _("%(company)s accepte le devis de la commande %(reference)s : à planifier.")
        % {"company": quote.order.company, "reference": quote.order.reference},
    )
    return quote


@transaction.atomic
def quote_refuse(quote: Quote, *, by: User, reason: str) -> Quote:
    """The customer refuses, saying why; the order stays under review (the school may
    send a new version, or decline the order)."""
    if not reason.strip():
        raise ValidationError({"refusal_reason": _("Dites pourquoi vous refusez ce devis.")})
    quote = _decidable(quote, by)
    quote.status, quote.decided_at, quote.decided_by = QuoteStatus.REFUSED, timezone.now(), by
    quote.refusal_reason = reason.strip()
    quote.save(update_fields=["status", "decided_at", "decided_by", "refusal_reason"])
    notify(
        orders.staff_emails(),
        _("Devis %(number)s refusé") % {"number": quote.number},
        _("%(company)s refuse le devis : %(reason)s")
        % {"company": quote.order.company, "reason": quote.refusal_reason},
    )
    return quote


def accepted_quote(order: WorkshopOrder) -> Quote | None:
    return order.quotes.filter(status=QuoteStatus.ACCEPTED).first()


# ---------------------------------------------------------------------------------------
# Delivery notes
# ---------------------------------------------------------------------------------------


def delivery_address_of(order: WorkshopOrder) -> str:
    quote = accepted_quote(order)
    company = order.company
    return (quote.delivery_address if quote else "") or (
        f"{company.address}, {company.postal_code} {company.city}"
    )


@transaction.atomic
def delivery_note_issue(
    order: WorkshopOrder, *, by: User, quantity: int, delivered_on: datetime.date | None = None
) -> DeliveryNote:
    """Deliver ``quantity`` good parts (all or part of what is left) with a numbered
    delivery note (BL-YYYY-NNNN) naming the inspection report they ship with."""
    order = orders.order_deliver(order, by=by, quantity=quantity)
    note = DeliveryNote(
        order=order,
        quantity=quantity,
        delivered_on=delivered_on or timezone.localdate(),
        delivery_address=delivery_address_of(order),
        inspection_number=order.inspection.document.number if order.inspection.document else "",
        created_by=by,
    )
    note.full_clean(exclude=["document"])
    note.save()
    note.document = school_services.document_issue(kind=DELIVERY_NOTE, subject=note, by=by)
    note.save(update_fields=["document"])
    return note


@transaction.atomic
def delivery_receipt_sign(
    note: DeliveryNote, *, by: User, name: str, remarks: str = "", ip: str | None = None
) -> DeliveryNote:
    """The customer signs for the parts received, with any reservation; what they sign
    for is the delivery note's PDF, by its SHA-256."""
    note = (
        DeliveryNote.objects.select_for_update(of=("self",))
        .select_related("document")
        .get(pk=note.pk)
    )
    if not (role_of(by) == Role.PARTNER and _customer(by, note.order.company_id)):
        raise PermissionDenied(_("La réception est signée par le client."))
    if note.received_at is not None:
        raise ValidationError(_("La réception de cette livraison est déjà signée."))
    if not name.strip():
        raise ValidationError({"received_name": _("Indiquez le nom de la personne qui signe.")})
    note.received_at, note.received_by, note.received_ip = timezone.now(), by, ip
    note.received_name, note.received_remarks = name.strip(), remarks.strip()
    note.received_sha256 = note.document.sha256 if note.document else ""
    note.save()
    return note


# ---------------------------------------------------------------------------------------
# Invoices and credit notes
# ---------------------------------------------------------------------------------------


def invoiced_quantities(quote: Quote) -> dict[int, Decimal]:
    """Each quote line's quantity invoiced so far, net of the credit notes."""
    done: dict[int, Decimal] = {}
    for line_id, kind, quantity in InvoiceLine.objects.filter(quote_line__quote=quote).values_list(
        "quote_line", "invoice__kind", "quantity"
    ):
        sign = 1 if kind == InvoiceKind.INVOICE else -1
        done[line_id] = done.get(line_id, ZERO) + sign * quantity
    return done


def invoiceable(order: WorkshopOrder) -> list[tuple[QuoteLine, Decimal]]:
    """What may be invoiced now, line by line of the accepted quote: lines priced per
    part up to the parts delivered, lump sums in full once something is delivered."""
    quote = accepted_quote(order)
    if quote is None or order.delivered_quantity == 0:
        return []
    done = invoiced_quantities(quote)
    rows = []
    for line in quote.lines.all():
        ceiling = (
            min(line.quantity, Decimal(order.delivered_quantity))
            if line.per_part
            else line.quantity
        )
        rows.append((line, max(ceiling - done.get(line.pk, ZERO), ZERO)))
    return rows


def seller_identity() -> dict[str, str]:
    school = settings.SCHOOL_IDENTITY
    siret = school["siret"]
    return {
        "name": school["name"],
        "address": school["address"],
        "siret": siret,
        "siren": siret[:9],
        "vat_number": school.get("vat_number") or (french_vat_number(siret[:9]) if siret else ""),
        "iban": school.get("iban", ""),
        "bic": school.get("bic", ""),
        "contact": school["contact"],
    }


def _check_parties(seller: dict[str, str], company: Company) -> None:
    problems = []
    try:
        validate_siret(seller["siret"])
    except ValidationError:
        problems.append(
            _("L'école n'a pas de SIRET valide (réglage SCHOOL_SIRET) : elle ne facture pas.")
        )
    try:
        validate_siret(company.siret or "")
    except ValidationError:
        problems.append(
            _("%(company)s n'a pas de SIRET valide : une facture doit porter celui du client.")
            % {"company": company}
        )
    if problems:
        raise ValidationError(problems)


def _billing_terms(issued_on: datetime.date) -> dict[str, Any]:
    days = settings.BILLING["payment_days"]
    return {
        "due_on": issued_on + datetime.timedelta(days=days),
        "payment_terms": _(
            "Paiement à %(days)s jours date de facture, par virement ; pas d'escompte."
        )
        % {"days": days},
        "late_penalty_rate": Decimal(settings.BILLING["late_penalty_rate"]),
        "recovery_indemnity": Decimal(settings.BILLING["recovery_indemnity"]),
    }


def _issue(invoice: Invoice, lines: list[InvoiceLine], *, by: User) -> Invoice:
    amounts = amounts_of(lines)
    invoice.total_net, invoice.total_vat, invoice.total_gross = (
        amounts.net,
        amounts.tax,
        amounts.gross,
    )
    invoice.full_clean(exclude=["document", "number"])
    invoice.save()  # numbered below, in this transaction, by the register's series
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    kind = CREDIT_NOTE if invoice.is_credit_note else INVOICE
    invoice.document = school_services.document_issue(kind=kind, subject=invoice, by=by)
    invoice.number = invoice.document.number
    invoice.save(update_fields=["document", "number"])
    return invoice


def _quantities(
    rows: list[tuple[Any, Decimal]], asked: Mapping[int, Decimal | str | int] | None, what: str
) -> list[tuple[Any, Decimal]]:
    """The quantity to bill (or credit) on each line: all that is left when nothing is
    asked, else what is asked, never more than what is left."""
    if asked is None:
        chosen = [(line, left) for line, left in rows if left > 0]
    else:
        by_id = {line.pk: (line, left) for line, left in rows}
        unknown = set(asked) - set(by_id)
        if unknown:
            raise ValidationError(_("Ligne inconnue : %(ids)s.") % {"ids": sorted(unknown)})
        chosen, errors = [], []
        for line_id, raw in asked.items():
            line, left = by_id[line_id]
            try:
                quantity = Decimal(str(raw))
            except InvalidOperation:
                errors.append(
                    _("%(line)s : la quantité est un nombre.") % {"line": line.description}
                )
                continue
            if quantity < 0:
                errors.append(
                    _("%(line)s : la quantité ne peut être négative.") % {"line": line.description}
                )
            elif quantity > left:
                errors.append(
                    _("%(line)s : %(quantity)s demandé(s), %(left)s restant à %(what)s.")
                    % {
                        "line": line.description,
                        "quantity": quantity.normalize(),
                        "left": left.normalize(),
                        "what": what,
                    }
                )
            elif quantity > 0:
                chosen.append((line, quantity))
        if errors:
            raise ValidationError(errors)
    if not chosen:
        raise ValidationError(_("Rien à %(what)s sur cette commande.") % {"what": what})
    return chosen


@transaction.atomic
def invoice_issue(
    order: WorkshopOrder,
    *,
    by: User,
    quantities: Mapping[int, Decimal | str | int] | None = None,
) -> Invoice:
    """Invoice delivered parts (FA-YYYY-NNNNNN, a Factur-X PDF): by default all that is
    delivered and not yet invoiced; ``quantities`` (quote line id → quantity) bills
    part of it. Never more than was delivered."""
    _staff_only(by)
    order = orders.locked_order(order)
    if order.status not in INVOICEABLE:
        raise ValidationError(
            _("On facture des pièces livrées : la commande est « %(status)s ».")
            % {"status": order.get_status_display()}
        )
    quote = accepted_quote(order)
    if quote is None:
        raise ValidationError(_("Cette commande n'a pas de devis accepté : rien à facturer."))
    chosen = _quantities(invoiceable(order), quantities, _("facturer"))
    seller = seller_identity()
    company = order.company
    _check_parties(seller, company)
    issued_on = timezone.localdate()  # an invoice is dated the day it is issued, never back
    last_delivery = order.delivery_notes.order_by("-delivered_on").first()
    invoice = Invoice(
        kind=InvoiceKind.INVOICE,
        order=order,
        company=company,
        issued_on=issued_on,
        delivered_on=last_delivery.delivered_on if last_delivery else issued_on,
        seller=seller,
        buyer_name=company.legal_name,
        buyer_siret=company.siret,
        buyer_vat_number=company.vat_number,
        buyer_address=company.address,
        buyer_postal_code=company.postal_code,
        buyer_city=company.city,
        delivery_address=quote.delivery_address,
        order_reference=order.reference,
        issued_by=by,
        **_billing_terms(issued_on),
    )
    lines = [_line_from(quote_line, quantity) for quote_line, quantity in chosen]
    return _issue(invoice, lines, by=by)


def _line_from(source: QuoteLine | InvoiceLine, quantity: Decimal) -> InvoiceLine:
    line = InvoiceLine(
        position=source.position,
        kind=source.kind,
        description=source.description,
        quantity=quantity,
        unit=source.unit,
        unit_price=source.unit_price,
        vat_rate=source.vat_rate,
        quote_line_id=source.pk if isinstance(source, QuoteLine) else source.quote_line_id,
    )
    line.net = line.net_amount
    return line


def creditable(invoice: Invoice) -> list[tuple[InvoiceLine, Decimal]]:
    """Each line of the invoice with the quantity not yet credited."""
    credited: dict[int, Decimal] = {}
    for quote_line, quantity in InvoiceLine.objects.filter(invoice__corrects=invoice).values_list(
        "quote_line", "quantity"
    ):
        credited[quote_line] = credited.get(quote_line, ZERO) + quantity
    # An invoice bills each line of the quote once: its credit notes are read by it.
    return [
        (line, max(line.quantity - credited.get(line.quote_line_id, ZERO), ZERO))
        for line in invoice.lines.all()
    ]


@transaction.atomic
def credit_note_issue(
    invoice: Invoice,
    *,
    by: User,
    reason: str,
    quantities: Mapping[int, Decimal | str | int] | None = None,
) -> Invoice:
    """Correct an issued invoice with a credit note (AV-YYYY-NNNNNN) referring to it:
    the whole invoice by default, or ``quantities`` (invoice line id → quantity). What
    is credited may be invoiced again; the invoice itself never changes."""
    _staff_only(by)
    if not reason.strip():
        raise ValidationError({"reason": _("Un avoir dit ce qu'il corrige.")})
    order = orders.locked_order(invoice.order)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.is_credit_note:
        raise ValidationError(_("Un avoir se rapporte à une facture, pas à un autre avoir."))
    chosen = _quantities(creditable(invoice), quantities, _("créditer"))
    lines = [_line_from(line, quantity) for line, quantity in chosen]
    issued_on = timezone.localdate()
    note = Invoice(
        kind=InvoiceKind.CREDIT_NOTE,
        order=order,
        company=invoice.company,
        corrects=invoice,
        reason=reason.strip(),
        issued_on=issued_on,
        delivered_on=invoice.delivered_on,
        due_on=issued_on,
        payment_terms=_("Avoir à déduire de la facture %(number)s.") % {"number": invoice.number},
        late_penalty_rate=invoice.late_penalty_rate,
        recovery_indemnity=invoice.recovery_indemnity,
        seller=invoice.seller,
        buyer_name=invoice.buyer_name,
        buyer_siret=invoice.buyer_siret,
        buyer_vat_number=invoice.buyer_vat_number,
        buyer_address=invoice.buyer_address,
        buyer_postal_code=invoice.buyer_postal_code,
        buyer_city=invoice.buyer_city,
        delivery_address=invoice.delivery_address,
        order_reference=invoice.order_reference,
        issued_by=by,
    )
    return _issue(note, lines, by=by)


# ---------------------------------------------------------------------------------------
# Payments
# ---------------------------------------------------------------------------------------


@transaction.atomic
def payment_record(
    invoice: Invoice,
    *,
    by: User,
    paid_on: datetime.date,
    amount: Decimal,
    method: str,
    reference: str = "",
) -> Payment:
    """A payment received, in full or in part; never more than the balance due."""
    _staff_only(by)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.is_credit_note:
        raise ValidationError(_("Un règlement se rapporte à une facture, pas à un avoir."))
    balance = to_cent(Invoice.objects.with_balance().get(pk=invoice.pk).balance)
    amount = to_cent(Decimal(amount))
    if amount <= 0:
        raise ValidationError({"amount": _("Un règlement a un montant positif.")})
    if amount > balance:
        raise ValidationError(
            {
                "amount": _("Le reste dû est de %(balance)s € : %(amount)s € est trop.")
                % {"balance": balance, "amount": amount}
            }
        )
    if paid_on > timezone.localdate():
        raise ValidationError(
            {"paid_on": _("Un règlement se saisit une fois reçu, pas à l'avance.")}
        )
    payment = Payment(
        invoice=invoice,
        paid_on=paid_on,
        amount=amount,
        method=method,
        reference=reference,
        recorded_by=by,
    )
    payment.full_clean()
    payment.save()
    return payment


def payment_reminders(today: datetime.date | None = None) -> int:
    """E-mail the customer once about each invoice unpaid ``reminder_days`` after its due
    date (a daily command; the worker sends). The number of reminders."""
    today = today or timezone.localdate()
    late = today - datetime.timedelta(days=settings.BILLING["reminder_days"])
    sent = 0
    due: QuerySet[Invoice] = Invoice.objects.unpaid().filter(
        due_on__lte=late, reminded_at__isnull=True
    )
    for invoice in due.select_related("company"):
        with transaction.atomic():
            locked = Invoice.objects.select_for_update().filter(
                pk=invoice.pk, reminded_at__isnull=True
            )
            if not locked.update(reminded_at=timezone.now()):
                continue  # another run reminded it first
            notify(
                orders.company_emails(invoice.company),
                _("Relance : facture %(number)s échue le %(day)s")
                % {"number": invoice.number, "day": f"{invoice.due_on:%d/%m/%Y}"},
                _(
                    "Sauf erreur de notre part, la facture %(number)s (%(balance)s € restant dus) "
                    "n'est pas réglée. Des pénalités de %(rate)s %% l'an et l'indemnité forfaitaire "
                    "de %(indemnity)s € sont exigibles depuis l'échéance."
                )
                % {
                    "number": invoice.number,
                    "balance": to_cent(invoice.balance),  # type: ignore[attr-defined]
                    "rate": invoice.late_penalty_rate,
                    "indemnity": invoice.recovery_indemnity,
                },
            )
            sent += 1
    return sent
