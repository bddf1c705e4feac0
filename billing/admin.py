"""The back office sees every paper of the workshop's sales, and changes none of them:
each is written by its service (numbered, stored, never edited); a correction is a new
version of a quote, or a credit note for an invoice."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from .models import DeliveryNote, Invoice, InvoiceLine, Payment, Quote, QuoteLine


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class QuoteLineInline(ReadOnly, admin.TabularInline):
    model = QuoteLine
    fields = ["kind", "description", "quantity", "unit", "unit_price", "vat_rate"]
    extra = 0


@admin.register(Quote)
class QuoteAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ["__str__", "status", "valid_until", "sent_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["order__reference", "order__company__legal_name", "document__number"]
    list_select_related = ["document", "order__company"]
    inlines = [QuoteLineInline]


@admin.register(DeliveryNote)
class DeliveryNoteAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ["__str__", "delivered_on", "inspection_number", "received_at"]
    search_fields = ["order__reference", "order__company__legal_name", "document__number"]
    list_select_related = ["document", "order__company"]


class InvoiceLineInline(ReadOnly, admin.TabularInline):
    model = InvoiceLine
    fields = ["kind", "description", "quantity", "unit", "unit_price", "vat_rate", "net"]
    extra = 0


class PaymentInline(ReadOnly, admin.TabularInline):
    model = Payment
    fields = ["paid_on", "amount", "method", "reference", "recorded_by"]
    extra = 0


@admin.register(Invoice)
class InvoiceAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ["number", "kind", "buyer_name", "issued_on", "due_on", "total_gross"]
    list_filter = ["kind", "issued_on"]
    search_fields = ["number", "buyer_name", "buyer_siret", "order_reference"]
    date_hierarchy = "issued_on"
    inlines = [InvoiceLineInline, PaymentInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ["__str__", "method", "reference", "recorded_at"]
    list_filter = ["method"]
    search_fields = ["invoice__number", "reference"]
    list_select_related = ["invoice"]
