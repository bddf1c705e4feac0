"""The workshop's sales on the site: the billing part of an order's page (quote,
deliveries, invoices, payments), the office's list of invoices with the month's export,
what the workshop earned, and the overdue invoices on the staff home."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from companies.models import Company
from courses.models import OrderStatus, WorkshopOrder, sees_prices
from school.http import AuthenticatedRequest
from school.models import Role
from school.pagination import page_of
from school.portal import Section

from . import earnings, services
from .forms import CreditForm, DeliveryForm, PaymentForm, QuoteForm, ReceiptForm, RefuseForm
from .models import DeliveryNote, Invoice, Quote, QuoteLine, QuoteStatus, own_companies


def _sees_billing(user: Any) -> bool:
    # The money of the workshop: the rule orders' prices follow too (courses.sees_prices).
    return sees_prices(user)


def order_section(request: AuthenticatedRequest, order: WorkshopOrder) -> str:
    """The order's quote, deliveries and invoices, for the staff and the ordering
    company; nothing for the others (trainers and learners see no money)."""
    user = request.user
    if not _sees_billing(user):
        return ""
    is_staff = user.role == Role.STAFF
    quotes = list(
        Quote.objects.visible_to(user)
        .filter(order=order)
        .select_related("document")
        .prefetch_related(Prefetch("lines", QuoteLine.objects.order_by("position", "pk")))
        .order_by("-version")
    )
    invoices = list(
        Invoice.objects.visible_to(user)
        .filter(order=order)
        .with_balance()
        .select_related("document", "corrects")
        .order_by("issued_on", "pk")
    )
    notes = list(
        DeliveryNote.objects.visible_to(user).filter(order=order).select_related("document")
    )
    context: dict[str, Any] = {
        "order": order,
        "is_staff": is_staff,
        "quotes": quotes,
        "notes": notes,
        "invoices": invoices,
        "today": timezone.localdate(),
    }
    if is_staff:
        context["quote_form"] = QuoteForm() if order.status == OrderStatus.REVIEWED else None
        inspection = getattr(order, "inspection", None)
        if (
            order.status in (OrderStatus.QUALITY_CONTROL, OrderStatus.DELIVERED)
            and inspection is not None
            and inspection.countersigned_at is not None
        ):
            context["deliverable"] = services.orders.deliverable(order)
            context["delivery_form"] = DeliveryForm(initial={"quantity": context["deliverable"]})
        context["invoiceable"] = [row for row in services.invoiceable(order) if row[1] > 0]
        context["payment_form"] = PaymentForm()
        context["credit_form"] = CreditForm()
    else:
        context["refuse_form"] = RefuseForm()
        context["receipt_form"] = ReceiptForm(initial={"name": user.get_full_name()})
    return render_to_string("billing/_order_section.html", context, request=request)


Handler = Callable[[AuthenticatedRequest, WorkshopOrder, int | None], str]


def _quote(request: AuthenticatedRequest, order: WorkshopOrder, pk: int | None) -> Quote:
    return get_object_or_404(Quote.objects.visible_to(request.user), pk=pk, order=order)


def _save_quote(request: AuthenticatedRequest, order: WorkshopOrder, pk: int | None) -> str:
    form = QuoteForm(request.POST)
    if not form.is_valid():
        raise ValidationError(
            [f"{form[name].label} : {' '.join(map(str, e))}" for name, e in form.errors.items()]
        )
    quote = services.quote_save(
        order,
        by=request.user,
        lines=form.lines(),
        valid_until=form.cleaned_data["valid_until"],
        lead_time_days=form.cleaned_data["lead_time_days"],
        delivery_address=form.cleaned_data["delivery_address"],
        notes=form.cleaned_data["notes"],
    )
    return _("Devis version %(version)s enregistré (brouillon).") % {"version": quote.version}


def _send_quote(request: AuthenticatedRequest, order: WorkshopOrder, pk: int | None) -> str:
    quote = services.quote_send(_quote(request, order, pk), by=request.user)
    return _("Devis %(number)s envoyé à l'entreprise.") % {"number": quote.number}


def _accept_quote(request: AuthenticatedRequest, order: WorkshopOrder, pk: int | None) -> str:
    quote = services.quote_accept(_quote(request, order, pk), by=request.user)
    return _("Devis %(number)s accepté : la commande est acceptée.") % {"number": quote.number}


def _refuse_quote(request: AuthenticatedRequest, order: WorkshopOrder, pk: int | None) -> str:
    form = RefuseForm(request.POST)
    reason = form.data.get("reason", "")
    services.quote_refuse(_quote(request, order, pk), by=request.user, reason=reason)
    return _("Devis refusé ; l'école en est informée.")


def _deliver(request: AuthenticatedRequest, order: WorkshopOrder, pk: int | None) -> str:
    form = DeliveryForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Indiquez le nombre de pièces livrées."))
    note = services.delivery_note_issue(
        order, by=request.user, quantity=form.cleaned_data["quantity"]
    )
    return _("Bon de livraison %(number)s émis.") % {"number": note.number}


def _sign_receipt(request: AuthenticatedRequest, order: WorkshopOrder, pk: int | None) -> str:
    note = get_object_or_404(DeliveryNote.objects.visible_to(request.user), pk=pk, order=order)
    form = ReceiptForm(request.POST)
    services.delivery_receipt_sign(
        note,
        by=request.user,
        name=form.data.get("name", ""),
        remarks=form.data.get("remarks", ""),
        ip=request.META.get("REMOTE_ADDR"),
    )
    return _("Réception signée.")


def _invoice(request: AuthenticatedRequest, order: WorkshopOrder, pk: int | None) -> str:
    invoice = services.invoice_issue(order, by=request.user)
    return _("Facture %(number)s émise (%(amount)s € TTC).") % {
        "number": invoice.number,
        "amount": invoice.total_gross,
    }


def _owned_invoice(request: AuthenticatedRequest, order: WorkshopOrder, pk: int | None) -> Invoice:
    return get_object_or_404(Invoice.objects.visible_to(request.user), pk=pk, order=order)


def _credit(request: AuthenticatedRequest, order: WorkshopOrder, pk: int | None) -> str:
    note = services.credit_note_issue(
        _owned_invoice(request, order, pk), by=request.user, reason=request.POST.get("reason", "")
    )
    return _("Avoir %(number)s émis.") % {"number": note.number}


def _pay(request: AuthenticatedRequest, order: WorkshopOrder, pk: int | None) -> str:
    form = PaymentForm(request.POST)
    if not form.is_valid():
        raise ValidationError(
            [f"{form[name].label} : {' '.join(map(str, e))}" for name, e in form.errors.items()]
        )
    services.payment_record(
        _owned_invoice(request, order, pk), by=request.user, **form.cleaned_data
    )
    return _("Règlement enregistré.")


ACTIONS: dict[str, Handler] = {
    "devis": _save_quote,
    "envoyer": _send_quote,
    "accepter": _accept_quote,
    "refuser": _refuse_quote,
    "livrer": _deliver,
    "reception": _sign_receipt,
    "facturer": _invoice,
    "avoir": _credit,
    "reglement": _pay,
}


@login_required
@require_POST
def billing_action(
    request: AuthenticatedRequest, pk: int, action: str, item: int | None = None
) -> HttpResponse:
    if action not in ACTIONS or not _sees_billing(request.user):
        raise Http404
    order = get_object_or_404(WorkshopOrder.objects.visible_to(request.user), pk=pk)
    try:
        messages.success(request, ACTIONS[action](request, order, item))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except PermissionDenied as error:
        messages.error(request, str(error) or _("Votre rôle ne permet pas cette action."))
    return redirect("order-detail", pk=order.pk)


# ---------------------------------------------------------------------------------------
# The office's pages
# ---------------------------------------------------------------------------------------

INVOICE_FILTERS: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "impayees": (gettext_lazy("Impayées"), lambda qs: qs.filter(balance__gt=0, kind="invoice")),
    "echues": (
        gettext_lazy("Échues"),
        lambda qs: qs.filter(balance__gt=0, kind="invoice", due_on__lt=timezone.localdate()),
    ),
    "avoirs": (gettext_lazy("Avoirs"), lambda qs: qs.filter(kind="credit_note")),
}


@login_required
def invoice_list(request: AuthenticatedRequest) -> HttpResponse:
    """Invoices and credit notes: the office's (all of them, with the month's export)
    or a partner's (their company's)."""
    if not _sees_billing(request.user):
        raise Http404
    invoices = (
        Invoice.objects.visible_to(request.user)
        .with_balance()
        .select_related("document", "order")
        .order_by("-issued_on", "-pk")
    )
    choice = request.GET.get("statut", "")
    if choice in INVOICE_FILTERS:
        invoices = INVOICE_FILTERS[choice][1](invoices)
    else:
        choice = ""
    quotes = (
        Quote.objects.visible_to(request.user)
        .filter(status=QuoteStatus.SENT)
        .select_related("document", "order__company")
        .prefetch_related("lines")
        .order_by("valid_until")[:20]
    )
    return render(
        request,
        "billing/invoice_list.html",
        {
            **page_of(request, invoices, statut=choice),
            "filters": [(key, label) for key, (label, _f) in INVOICE_FILTERS.items()],
            "quotes": quotes,
            "is_staff": request.user.role == Role.STAFF,
            "month": timezone.localdate(),
        },
    )


@login_required
def earnings_page(request: AuthenticatedRequest) -> HttpResponse:
    if request.user.role != Role.STAFF:
        raise Http404
    report = earnings.report(months=12)
    return render(request, "billing/earnings.html", {"report": report})


@login_required
def company_earnings(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    companies = own_companies(request.user)
    visible = Company.objects.all() if companies is None else companies
    if not _sees_billing(request.user):
        raise Http404
    company = get_object_or_404(visible, pk=pk)
    report = earnings.report(months=12, company=company)
    invoices = (
        Invoice.objects.visible_to(request.user)
        .filter(company=company)
        .with_balance()
        .select_related("document")
        .order_by("-issued_on", "-pk")[:50]
    )
    return render(
        request,
        "billing/company.html",
        {"company": company, "report": report, "invoices": invoices},
    )


def overdue_section(request: AuthenticatedRequest) -> Section | None:
    """On the staff home: the invoices past their due date and still unpaid."""
    if request.user.role != Role.STAFF:
        return None
    overdue = list(
        Invoice.objects.overdue().select_related("document").order_by("due_on", "pk")[:10]
    )
    return Section(
        "billing/_overdue_section.html", {"overdue": overdue, "chart": earnings.report(months=6)}
    )
