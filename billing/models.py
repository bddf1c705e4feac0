"""The workshop as a business: quotes, delivery notes, invoices and credit notes,
payments.

Money is ``Decimal`` throughout and rounded as EN 16931 says: each line's net amount
to the cent, then the VAT of each rate on the sum of its lines (``amounts_of``). An
issued invoice never changes: its lines, parties and totals are written once, when its
number is given; a correction is a credit note that refers to it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from companies.models import Company
from courses.models import WorkshopOrder
from school.models import AnyUser, IssuedDocument, Role, User, role_of

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# The rates of French VAT (CGI art. 278 to 281 nonies), and 0 for an exempt operation.
VAT_RATES = (Decimal("20.00"), Decimal("10.00"), Decimal("5.50"), Decimal("2.10"), ZERO)
VAT_CHOICES = [(rate, f"{rate.normalize():f} %".replace(".", ",")) for rate in VAT_RATES]
DEFAULT_VAT = Decimal("20.00")


def to_cent(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class VatLine:
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Amounts:
    """A document's totals: the VAT per rate and the sums (EN 16931 BT-106 to BT-112)."""

    vat: list[VatLine]
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def amounts_of(lines: Iterable[LineBase]) -> Amounts:
    """Each line's net amount rounded to the cent (BR-LIN-04), the VAT of each rate
    computed on the sum of its lines and rounded once (BR-CO-17), the totals summed
    from those rounded figures (BR-CO-10, BR-CO-14)."""
    bases: dict[Decimal, Decimal] = {}
    for line in lines:
        rate = Decimal(line.vat_rate).quantize(CENT)
        bases[rate] = bases.get(rate, ZERO) + line.net_amount
    vat = [
        VatLine(rate, base, to_cent(base * rate / 100))
        for rate, base in sorted(bases.items(), reverse=True)
    ]
    return Amounts(
        vat=vat, net=sum((v.base for v in vat), ZERO), tax=sum((v.tax for v in vat), ZERO)
    )


class LineKind(models.TextChoices):
    PART = "part", _("Pièce usinée")
    MATERIAL = "material", _("Matière")
    SETUP = "setup", _("Réglage et mise en train")
    FINISHING = "finishing", _("Finition et traitement")


# Lines priced per part are invoiced as the parts are delivered; the others (material
# bought, set-up) are lump sums, invoiced with the first delivery.
PER_PART_KINDS = frozenset({LineKind.PART, LineKind.FINISHING})


class Unit(models.TextChoices):
    """Units of UN/ECE Recommendation 20, as the Factur-X XML states them."""

    PIECE = "C62", _("pièce")
    KILOGRAM = "KGM", _("kg")
    HOUR = "HUR", _("heure")
    LUMP_SUM = "LS", _("forfait")


class LineBase(models.Model):
    """What a quote's and an invoice's lines share: what, how many, at what price."""

    position = models.PositiveSmallIntegerField(_("rang"), default=0)
    kind = models.CharField(_("nature"), max_length=12, choices=LineKind.choices)
    description = models.CharField(_("désignation"), max_length=200)
    quantity = models.DecimalField(
        _("quantité"),
        max_digits=10,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    unit = models.CharField(_("unité"), max_length=3, choices=Unit.choices, default=Unit.PIECE)
    unit_price = models.DecimalField(
        _("prix unitaire HT (€)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(ZERO)],
    )
    vat_rate = models.DecimalField(
        _("taux de TVA"), max_digits=4, decimal_places=2, choices=VAT_CHOICES, default=DEFAULT_VAT
    )

    class Meta:
        abstract = True
        ordering = ["position", "pk"]

    @property
    def net_amount(self) -> Decimal:
        return to_cent(Decimal(self.quantity) * Decimal(self.unit_price))

    @property
    def per_part(self) -> bool:
        return self.kind in PER_PART_KINDS


def line_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(quantity__gt=0),
            name=f"{prefix}_quantity_positive",
            violation_error_message=_("La quantité d'une ligne est positive."),
        ),
        models.CheckConstraint(
            condition=Q(unit_price__gte=0),
            name=f"{prefix}_price_not_negative",
            violation_error_message=_("Le prix unitaire ne peut pas être négatif."),
        ),
        models.CheckConstraint(
            condition=Q(vat_rate__in=VAT_RATES),
            name=f"{prefix}_french_vat_rate",
            violation_error_message=_(
                "Le taux de TVA doit être un taux français : 20 %, 10 %, 5,5 %, 2,1 % ou 0 %."
            ),
        ),
    ]


# ---------------------------------------------------------------------------------------
# Who sees the money
# ---------------------------------------------------------------------------------------


def own_companies(user: AnyUser) -> models.QuerySet[Company] | None:
    """Staff see every company's papers (None: no filter); a partner their company's;
    everyone else — trainers and learners included — none of the money."""
    role = role_of(user)
    if role == Role.STAFF:
        return None
    if role == Role.PARTNER:
        return Company.objects.visible_to(user)
    return Company.objects.none()


class CompanyScopedQuerySet(models.QuerySet):
    company_path = "order__company"

    def visible_to(self, user: AnyUser):  # type: ignore[no-untyped-def]
        companies = own_companies(user)
        if companies is None:
            return self.all()
        return self.filter(**{f"{self.company_path}__in": companies})


# ---------------------------------------------------------------------------------------
# Quotes
# ---------------------------------------------------------------------------------------


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SENT = "sent", _("Envoyé")
    ACCEPTED = "accepted", _("Accepté")
    REFUSED = "refused", _("Refusé")
    SUPERSEDED = "superseded", _("Remplacé par une nouvelle version")


class QuoteQuerySet(CompanyScopedQuerySet):
    def visible_to(self, user: AnyUser) -> QuoteQuerySet:  # type: ignore[override]
        seen = super().visible_to(user)
        # A draft is the office's work in progress, not yet the company's.
        return seen if role_of(user) == Role.STAFF else seen.exclude(status=QuoteStatus.DRAFT)


class Quote(models.Model):
    """A priced offer for an order (devis). Each change is a new version; once sent it
    is numbered (DV-YYYY-NNNN) and its PDF is in the register."""

    order = models.ForeignKey(
        WorkshopOrder, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("commande")
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    status = models.CharField(
        _("statut"), max_length=12, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    valid_until = models.DateField(_("valable jusqu'au"))
    lead_time_days = models.PositiveSmallIntegerField(
        _("délai de livraison (jours)"), validators=[MinValueValidator(1)]
    )
    delivery_address = models.CharField(
        _("adresse de livraison"),
        max_length=255,
        blank=True,
        help_text=_("Si elle diffère de l'adresse de l'entreprise."),
    )
    notes = models.TextField(_("conditions particulières"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    decided_at = models.DateTimeField(_("décidé le"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("décidé par"),
    )
    refusal_reason = models.TextField(_("motif du refus"), blank=True)
    document = models.OneToOneField(
        IssuedDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quote",
        verbose_name=_("devis émis"),
    )

    objects = QuoteQuerySet.as_manager()
    history = HistoricalRecords()

    if TYPE_CHECKING:
        lines: RelatedManager[QuoteLine]

    class Meta:
        verbose_name = _("devis")
        verbose_name_plural = _("devis")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "version"],
                name="quote_version_once_per_order",
                violation_error_message=_("Cette version du devis existe déjà."),
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status="accepted"),
                name="one_accepted_quote_per_order",
                violation_error_message=_("Cette commande a déjà un devis accepté."),
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_reason=""),
                name="quote_refusal_has_reason",
                violation_error_message=_("Un refus de devis est motivé."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number or _('brouillon')} — v{self.version} — {self.order.reference}"

    @property
    def number(self) -> str:
        return self.document.number if self.document is not None else ""

    def amounts(self) -> Amounts:
        return amounts_of(self.lines.all())

    def is_expired(self, today: datetime.date | None = None) -> bool:
        return self.valid_until < (today or timezone.localdate())


class QuoteLine(LineBase):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineBase.Meta):
        verbose_name = _("ligne de devis")
        verbose_name_plural = _("lignes de devis")
        constraints = line_constraints("quote_line")

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity.normalize()}"


# ---------------------------------------------------------------------------------------
# Delivery notes
# ---------------------------------------------------------------------------------------


class DeliveryNoteQuerySet(CompanyScopedQuerySet):
    pass


class DeliveryNote(models.Model):
    """Parts handed to the customer (bon de livraison), with the inspection report they
    ship with; the customer signs for their receipt on the partner portal."""

    order = models.ForeignKey(
        WorkshopOrder,
        on_delete=models.PROTECT,
        related_name="delivery_notes",
        verbose_name=_("commande"),
    )
    quantity = models.PositiveIntegerField(_("quantité livrée"), validators=[MinValueValidator(1)])
    delivered_on = models.DateField(_("livré le"), default=timezone.localdate)
    delivery_address = models.CharField(_("adresse de livraison"), max_length=255)
    inspection_number = models.CharField(_("rapport de contrôle n°"), max_length=20)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    received_at = models.DateTimeField(_("réception signée le"), null=True, blank=True)
    received_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("réception signée par"),
    )
    received_name = models.CharField(_("nom du signataire"), max_length=200, blank=True)
    received_remarks = models.TextField(_("réserves à la réception"), blank=True)
    # What was signed for: the SHA-256 of the delivery note's PDF, as for an agreement.
    received_sha256 = models.CharField(max_length=64, blank=True)
    received_ip = models.GenericIPAddressField(null=True, blank=True)
    document = models.OneToOneField(
        IssuedDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="delivery_note",
        verbose_name=_("bon de livraison émis"),
    )

    objects = DeliveryNoteQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("bon de livraison")
        verbose_name_plural = _("bons de livraison")
        ordering = ["-delivered_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1),
                name="delivery_quantity_positive",
                violation_error_message=_("Une livraison compte au moins une pièce."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.number or _('BL')} — {self.order.reference} × {self.quantity}"

    @property
    def number(self) -> str:
        return self.document.number if self.document is not None else ""


# ---------------------------------------------------------------------------------------
# Invoices and credit notes
# ---------------------------------------------------------------------------------------


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Facture")
    CREDIT_NOTE = "credit_note", _("Avoir")


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Virement")
    CHEQUE = "cheque", _("Chèque")
    CARD = "card", _("Carte")
    DIRECT_DEBIT = "direct_debit", _("Prélèvement")
    CASH = "cash", _("Espèces")


def money_field() -> models.DecimalField:
    # SQLite computes with floats: read a computed amount through to_cent to show it.
    return models.DecimalField(max_digits=12, decimal_places=2)


def _sum_of(model: type[models.Model], field: str, **filters: object) -> Coalesce:
    rows = model._default_manager.filter(**filters).order_by().values(*filters.keys())
    total = rows.annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total[:1]), Value(ZERO), output_field=money_field())


class InvoiceQuerySet(CompanyScopedQuerySet):
    company_path = "company"

    def invoices(self) -> InvoiceQuerySet:
        return self.filter(kind=InvoiceKind.INVOICE)

    def with_balance(self) -> InvoiceQuerySet:
        """``paid``, ``credited`` (the credit notes that refer to it) and ``balance``, the
        amount still due incl. VAT, each read in the invoice's own row."""
        return self.annotate(
            paid=_sum_of(Payment, "amount", invoice=OuterRef("pk")),
            credited=_sum_of(Invoice, "total_gross", corrects=OuterRef("pk")),
        ).annotate(
            balance=ExpressionWrapper(
                F("total_gross") - F("paid") - F("credited"), output_field=money_field()
            )
        )

    def unpaid(self) -> InvoiceQuerySet:
        return self.invoices().with_balance().filter(balance__gt=0)

    def overdue(self, today: datetime.date | None = None) -> InvoiceQuerySet:
        return self.unpaid().filter(due_on__lt=today or timezone.localdate())


class Invoice(models.Model):
    """An invoice (FA-YYYY-NNNNNN) or a credit note (AV-YYYY-NNNNNN) for delivered
    parts. Everything French law asks it to state is written here when it is issued,
    so that a later change to the company or the school never changes it."""

    kind = models.CharField(
        _("type"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    # The register's number (FA-… or AV-…), given in the transaction that writes the
    # invoice: empty only inside it.
    number = models.CharField(_("numéro"), max_length=20, unique=True, null=True, blank=True)
    order = models.ForeignKey(
        WorkshopOrder, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("commande")
    )
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("client")
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("facture corrigée"),
    )
    reason = models.TextField(_("motif de l'avoir"), blank=True)
    issued_on = models.DateField(_("date d'émission"))
    delivered_on = models.DateField(_("date de livraison"))
    due_on = models.DateField(_("date d'échéance"))
    payment_terms = models.CharField(_("conditions de paiement"), max_length=200)
    late_penalty_rate = models.DecimalField(
        _("taux des pénalités de retard (%/an)"), max_digits=5, decimal_places=2
    )
    recovery_indemnity = models.DecimalField(
        _("indemnité forfaitaire de recouvrement (€)"), max_digits=6, decimal_places=2
    )
    # The parties as they stood on the issue date.
    seller = models.JSONField(_("vendeur"))
    buyer_name = models.CharField(_("client"), max_length=200)
    buyer_siret = models.CharField(_("SIRET du client"), max_length=14)
    buyer_vat_number = models.CharField(_("TVA intracommunautaire du client"), max_length=20)
    buyer_address = models.CharField(_("adresse du client"), max_length=255)
    buyer_postal_code = models.CharField(_("code postal"), max_length=10)
    buyer_city = models.CharField(_("commune"), max_length=120)
    delivery_address = models.CharField(_("adresse de livraison"), max_length=255, blank=True)
    order_reference = models.CharField(_("référence de commande"), max_length=100)
    total_net = models.DecimalField(_("total HT"), max_digits=12, decimal_places=2)
    total_vat = models.DecimalField(_("total TVA"), max_digits=12, decimal_places=2)
    total_gross = models.DecimalField(_("total TTC"), max_digits=12, decimal_places=2)
    issued_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    reminded_at = models.DateTimeField(_("relancée le"), null=True, blank=True)
    document = models.OneToOneField(
        IssuedDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice",
        verbose_name=_("PDF Factur-X"),
    )

    objects = InvoiceQuerySet.as_manager()
    history = HistoricalRecords()

    if TYPE_CHECKING:
        lines: RelatedManager[InvoiceLine]
        payments: RelatedManager[Payment]
        credit_notes: RelatedManager[Invoice]

    class Meta:
        verbose_name = _("facture")
        verbose_name_plural = _("factures et avoirs")
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="invoice", corrects__isnull=True)
                | Q(kind="credit_note", corrects__isnull=False),
                name="credit_note_refers_to_an_invoice",
                violation_error_message=_("Un avoir se rapporte à une facture, et à elle seule."),
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=F("issued_on")),
                name="invoice_due_after_issue",
                violation_error_message=_("L'échéance ne précède pas l'émission."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} — {self.buyer_name} — {self.total_gross} €"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    def amounts(self) -> Amounts:
        return amounts_of(self.lines.all())


class InvoiceLine(LineBase):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    # The quote's line it bills (or credits): what stays to be invoiced is read from it.
    quote_line = models.ForeignKey(
        QuoteLine, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    net = models.DecimalField(_("montant HT"), max_digits=12, decimal_places=2)

    class Meta(LineBase.Meta):
        verbose_name = _("ligne de facture")
        verbose_name_plural = _("lignes de facture")
        constraints = [
            *line_constraints("invoice_line"),
            models.CheckConstraint(
                condition=Q(net__gte=0),
                name="invoice_line_net_not_negative",
                violation_error_message=_("Le montant HT d'une ligne n'est pas négatif."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity.normalize()}"


class PaymentQuerySet(CompanyScopedQuerySet):
    company_path = "invoice__company"


class Payment(models.Model):
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name=_("facture")
    )
    paid_on = models.DateField(_("reçu le"))
    amount = models.DecimalField(_("montant (€)"), max_digits=12, decimal_places=2)
    method = models.CharField(_("moyen"), max_length=16, choices=PaymentMethod.choices)
    reference = models.CharField(_("référence"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = PaymentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("règlement")
        verbose_name_plural = _("règlements")
        ordering = ["-paid_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="payment_amount_positive",
                violation_error_message=_("Un règlement a un montant positif."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice.number} : {self.amount} € ({self.paid_on:%d/%m/%Y})"
