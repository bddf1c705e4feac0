"""The workshop's sales over the API: quotes, delivery notes, invoices (with credit
notes) and payments. Staff write; a partner reads their company's and decides of its
quotes and signs for its deliveries; trainers and learners see none of it (404)."""

from __future__ import annotations

import datetime
from typing import Any, cast

import django_filters
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from school.api import call_service
from school.filters import ScopedFilterSet
from school.models import Role, User

from . import exports, services
from .models import DeliveryNote, Invoice, InvoiceKind, Payment, Quote, QuoteLine, QuoteStatus
from .serializers import (
    CreditNoteSerializer,
    DeliveryNoteSerializer,
    InvoiceCreateSerializer,
    InvoiceSerializer,
    PaymentSerializer,
    QuoteRefuseSerializer,
    QuoteSerializer,
    ReceiptSerializer,
)

PARTNER_AND_STAFF = {Role.STAFF, Role.PARTNER}


def _user(request: Request) -> User:
    return cast(User, request.user)


def _client_ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR")


class QuoteFilter(ScopedFilterSet):
    status = django_filters.ChoiceFilter(choices=QuoteStatus.choices)

    class Meta:
        model = Quote
        fields = ["order", "status"]


class QuoteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Quotes (devis) for orders under review. ``POST`` writes the order's draft (or its
    next version once one was sent); ``send`` numbers and sends it; the company
    ``accept``s or ``refuse``s it."""

    serializer_class = QuoteSerializer
    filterset_class = QuoteFilter
    ordering_fields = ["sent_at", "valid_until"]
    write_roles = {"create": {Role.STAFF}, "send": {Role.STAFF}} | {
        "accept": PARTNER_AND_STAFF,
        "refuse": PARTNER_AND_STAFF,
    }

    def get_queryset(self) -> QuerySet[Quote]:
        return (
            Quote.objects.visible_to(self.request.user)
            .select_related("document", "order")
            .prefetch_related(Prefetch("lines", QuoteLine.objects.order_by("position", "pk")))
            .order_by("-created_at", "-pk")
        )

    def _answer(self, quote: Quote, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=quote.pk)).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        order = fields.pop("order")
        quote = call_service(services.quote_save, order=order, by=_user(request), **fields)
        return self._answer(quote, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=QuoteSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: str | None = None) -> Response:
        quote = call_service(services.quote_send, quote=self.get_object(), by=_user(request))
        return self._answer(quote)

    @extend_schema(request=None, responses=QuoteSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        quote = call_service(services.quote_accept, quote=self.get_object(), by=_user(request))
        return self._answer(quote)

    @extend_schema(request=QuoteRefuseSerializer, responses=QuoteSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: str | None = None) -> Response:
        quote = self.get_object()  # first: out of scope is 404, whatever the body
        data = QuoteRefuseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quote = call_service(
            services.quote_refuse,
            quote=quote,
            by=_user(request),
            reason=data.validated_data["reason"],
        )
        return self._answer(quote)


class DeliveryNoteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Delivery notes (bons de livraison): staff deliver all or part of the good parts;
    the company signs for their receipt (``sign``)."""

    serializer_class = DeliveryNoteSerializer
    filterset_fields = ["order"]
    ordering_fields = ["delivered_on"]
    write_roles = {"create": {Role.STAFF}, "sign": {Role.PARTNER}}

    def get_queryset(self) -> QuerySet[DeliveryNote]:
        return (
            DeliveryNote.objects.visible_to(self.request.user)
            .select_related("document")
            .order_by("-delivered_on", "-pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = call_service(services.delivery_note_issue, by=_user(request), **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=note.pk)).data, status=201)

    @extend_schema(request=ReceiptSerializer, responses=DeliveryNoteSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str | None = None) -> Response:
        note = self.get_object()
        data = ReceiptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = call_service(
            services.delivery_receipt_sign,
            note=note,
            by=_user(request),
            name=data.validated_data["name"],
            remarks=data.validated_data["remarks"],
            ip=_client_ip(request),
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=note.pk)).data)


class InvoiceFilter(ScopedFilterSet):
    kind = django_filters.ChoiceFilter(choices=InvoiceKind.choices)
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="échues et impayées")

    class Meta:
        model = Invoice
        fields = ["order", "company", "kind"]

    def filter_overdue(self, queryset: QuerySet[Invoice], name: str, value: bool) -> Any:
        overdue = Invoice.objects.overdue().values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)


MONTH = OpenApiParameter(
    "month", OpenApiTypes.STR, description="Mois, AAAA-MM (par défaut le mois en cours)"
)


def _month(request: Request) -> tuple[int, int]:
    raw = request.query_params.get("month") or f"{timezone.localdate():%Y-%m}"
    try:
        day = datetime.datetime.strptime(raw, "%Y-%m").date()
    except ValueError as error:
        raise serializers.ValidationError(
            {"month": "Indiquez le mois sous la forme AAAA-MM."}
        ) from error
    return day.year, day.month


class InvoiceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Invoices and credit notes, as issued (never changed). ``POST`` invoices what an
    order delivered and did not yet invoice; ``credit`` corrects an invoice by a credit
    note; ``export`` and ``journal`` give the accountant the month."""

    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter
    ordering_fields = ["issued_on", "due_on"]
    write_roles = {"create": {Role.STAFF}, "credit": {Role.STAFF}}

    def get_queryset(self) -> QuerySet[Invoice]:
        return (
            Invoice.objects.visible_to(self.request.user)
            .with_balance()
            .prefetch_related("lines")
            .order_by("-issued_on", "-pk")
        )

    def _answer(self, invoice: Invoice, code: int = status.HTTP_200_OK) -> Response:
        return Response(InvoiceSerializer(self.get_queryset().get(pk=invoice.pk)).data, status=code)

    @extend_schema(request=InvoiceCreateSerializer, responses={201: InvoiceSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = InvoiceCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        invoice = call_service(
            services.invoice_issue,
            order=data.validated_data["order"],
            by=_user(request),
            quantities=data.validated_data.get("quantities"),
        )
        return self._answer(invoice, status.HTTP_201_CREATED)

    @extend_schema(request=CreditNoteSerializer, responses={201: InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def credit(self, request: Request, pk: str | None = None) -> Response:
        invoice = self.get_object()
        data = CreditNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = call_service(
            services.credit_note_issue,
            invoice=invoice,
            by=_user(request),
            reason=data.validated_data["reason"],
            quantities=data.validated_data.get("quantities"),
        )
        return self._answer(note, status.HTTP_201_CREATED)

    def _staff_export(self, request: Request) -> tuple[int, int]:
        if _user(request).role != Role.STAFF:
            raise Http404  # out of a partner's reach like any invoice not theirs
        return _month(request)

    @extend_schema(
        parameters=[MONTH],
        responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        year, month = self._staff_export(request)
        response = HttpResponse(exports.month_zip(year, month), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="factures-{year}-{month:02d}.zip"'
        return response

    @extend_schema(
        parameters=[MONTH],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
    )
    @action(detail=False, methods=["get"])
    def journal(self, request: Request) -> HttpResponse:
        year, month = self._staff_export(request)
        text = exports.sales_journal(exports.of_month(year, month))
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="journal-ventes-{year}-{month:02d}.csv"'
        )
        return response


class PaymentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Payments received against invoices (staff); a partner reads their company's."""

    serializer_class = PaymentSerializer
    filterset_fields = ["invoice"]
    ordering_fields = ["paid_on"]

    def get_queryset(self) -> QuerySet[Payment]:
        return Payment.objects.visible_to(self.request.user).order_by("-paid_on", "-pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = call_service(services.payment_record, by=_user(request), **data.validated_data)
        return Response(self.get_serializer(payment).data, status=status.HTTP_201_CREATED)


def register_endpoints(router: BaseRouter) -> None:
    router.register("quotes", QuoteViewSet, basename="quote")
    router.register("delivery-notes", DeliveryNoteViewSet, basename="delivery-note")
    router.register("invoices", InvoiceViewSet, basename="invoice")
    router.register("payments", PaymentViewSet, basename="payment")
