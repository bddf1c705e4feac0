from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from courses.models import WorkshopOrder
from school.serializers import VisiblePrimaryKeyRelatedField

from .models import (
    DeliveryNote,
    Invoice,
    InvoiceLine,
    LineKind,
    Payment,
    PaymentMethod,
    Quote,
    QuoteLine,
    Unit,
)


def money(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **options)


class AmountsMixin(serializers.Serializer):
    # Read from the lines (``amounts()``), as the PDF prints them.
    total_net = money(source="amounts.net", read_only=True)
    total_vat = money(source="amounts.tax", read_only=True)
    total_gross = money(source="amounts.gross", read_only=True)


class QuoteLineSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=LineKind.choices)
    unit = serializers.ChoiceField(choices=Unit.choices, default=Unit.PIECE)
    # French rates only: the service says which line is wrong, in French (one rule).
    vat_rate = serializers.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("20.00"), help_text="20, 10, 5,5, 2,1 ou 0"
    )
    net_amount = money(read_only=True)
    # Checked by the service, which names each wrong line in French (one rule).
    quantity = serializers.DecimalField(max_digits=10, decimal_places=3)
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        model = QuoteLine
        fields = [
            "id",
            "kind",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "vat_rate",
            "net_amount",
        ]
        read_only_fields = ["id"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Devis de 20 brides",
            value={
                "order": 12,
                "valid_until": "2027-01-15",
                "lead_time_days": 21,
                "delivery_address": "",
                "notes": "",
                "lines": [
                    {
                        "kind": "part",
                        "description": "Bride Ø60 usinée",
                        "quantity": "20",
                        "unit": "C62",
                        "unit_price": "18.35",
                        "vat_rate": "20.00",
                    },
                    {
                        "kind": "setup",
                        "description": "Réglage du tour CN",
                        "quantity": "1",
                        "unit": "LS",
                        "unit_price": "95.00",
                    },
                ],
            },
            request_only=True,
        )
    ]
)
class QuoteSerializer(AmountsMixin, serializers.ModelSerializer):
    """A quote and its lines; written whole (the lines replace the draft's), and each
    write after sending makes a new version."""

    order = VisiblePrimaryKeyRelatedField(queryset=WorkshopOrder.objects.all())
    lines = QuoteLineSerializer(many=True)
    number = serializers.CharField(read_only=True)

    class Meta:
        model = Quote
        fields = [
            "id",
            "order",
            "version",
            "number",
            "status",
            "valid_until",
            "lead_time_days",
            "delivery_address",
            "notes",
            "lines",
            "total_net",
            "total_vat",
            "total_gross",
            "sent_at",
            "decided_at",
            "refusal_reason",
            "document",
        ]
        read_only_fields = [
            "version",
            "status",
            "sent_at",
            "decided_at",
            "refusal_reason",
            "document",
        ]


class QuoteRefuseSerializer(serializers.Serializer):
    reason = serializers.CharField()


class DeliveryNoteSerializer(serializers.ModelSerializer):
    order = VisiblePrimaryKeyRelatedField(queryset=WorkshopOrder.objects.all())
    quantity = serializers.IntegerField()  # the service says how many are left
    number = serializers.CharField(read_only=True)

    class Meta:
        model = DeliveryNote
        fields = [
            "id",
            "order",
            "number",
            "quantity",
            "delivered_on",
            "delivery_address",
            "inspection_number",
            "received_at",
            "received_name",
            "received_remarks",
            "document",
        ]
        read_only_fields = [
            "delivery_address",
            "inspection_number",
            "received_at",
            "received_name",
            "received_remarks",
            "document",
        ]
        extra_kwargs = {"delivered_on": {"required": False}}


class ReceiptSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    remarks = serializers.CharField(required=False, allow_blank=True, default="")


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "quote_line",
            "kind",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "vat_rate",
            "net",
        ]
        read_only_fields = fields


class InvoiceSerializer(serializers.ModelSerializer):
    """An issued invoice or credit note: read-only, as the law wants it."""

    lines = InvoiceLineSerializer(many=True, read_only=True)
    # From InvoiceQuerySet.with_balance(), read in the invoice's row.
    paid = money(read_only=True)
    balance = money(read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "kind",
            "number",
            "order",
            "company",
            "corrects",
            "reason",
            "issued_on",
            "delivered_on",
            "due_on",
            "payment_terms",
            "late_penalty_rate",
            "recovery_indemnity",
            "buyer_name",
            "buyer_siret",
            "buyer_vat_number",
            "delivery_address",
            "lines",
            "total_net",
            "total_vat",
            "total_gross",
            "paid",
            "balance",
            "document",
        ]
        read_only_fields = fields


class QuantitiesField(serializers.DictField):
    """Line id → quantity; absent, everything that is left."""

    child = serializers.DecimalField(max_digits=10, decimal_places=3)

    def to_internal_value(self, data: Any) -> dict[int, Decimal]:
        values = super().to_internal_value(data)
        try:
            return {int(key): value for key, value in values.items()}
        except ValueError as error:
            raise serializers.ValidationError("Les clés sont des numéros de ligne.") from error


@extend_schema_serializer(
    examples=[
        OpenApiExample("Tout ce qui est livré", value={"order": 12}, request_only=True),
        OpenApiExample(
            "Une partie", value={"order": 12, "quantities": {"31": "8"}}, request_only=True
        ),
    ]
)
class InvoiceCreateSerializer(serializers.Serializer):
    order = VisiblePrimaryKeyRelatedField(queryset=WorkshopOrder.objects.all())
    quantities = QuantitiesField(required=False)


class CreditNoteSerializer(serializers.Serializer):
    reason = serializers.CharField()
    quantities = QuantitiesField(required=False)


class PaymentSerializer(serializers.ModelSerializer):
    invoice = VisiblePrimaryKeyRelatedField(queryset=Invoice.objects.all())
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    amount = money()  # the service weighs it against the balance

    class Meta:
        model = Payment
        fields = ["id", "invoice", "paid_on", "amount", "method", "reference", "recorded_at"]
        read_only_fields = ["recorded_at"]
