"""What the workshop earned: revenue (invoices net of credit notes, excl. VAT), the
hours pupils logged on orders, revenue per production hour, and the margin where the
material cost was entered — by month, by company, by programme.

A fixed handful of queries whatever the number of invoices: sums grouped in the
database, then put side by side here. An order's revenue goes to the programmes of
the pupils who made it in proportion to their hours; the economic view beside the
pedagogical one (``courses.rhythm``).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, F, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from companies.models import Company
from courses.models import TimeLog, WorkshopOrder

from .models import ZERO, Invoice, InvoiceKind, to_cent


@dataclass
class Figures:
    label: str
    revenue: Decimal = ZERO
    hours: Decimal = ZERO
    material_cost: Decimal | None = None
    costed_revenue: Decimal = ZERO  # the revenue of the orders whose cost is known

    @property
    def per_hour(self) -> Decimal | None:
        return to_cent(self.revenue / self.hours) if self.hours else None

    @property
    def margin(self) -> Decimal | None:
        return None if self.material_cost is None else self.costed_revenue - self.material_cost


@dataclass
class Report:
    months: list[Figures] = field(default_factory=list)
    companies: list[Figures] = field(default_factory=list)
    programmes: list[Figures] = field(default_factory=list)
    total: Figures = field(default_factory=lambda: Figures("Total"))

    @property
    def width(self) -> int:
        return 10 * len(self.months)

    def bars(self) -> list[dict[str, object]]:
        """The months as bars of a chart 60 units high (50 for the best month)."""
        peak = max((month.revenue for month in self.months), default=ZERO) or Decimal(1)
        bars = []
        for index, month in enumerate(self.months):
            height = round(float(max(month.revenue, ZERO) / peak * 50), 1)
            bars.append({"month": month, "x": 10 * index + 1, "y": 55 - height, "height": height})
        return bars


def _first_of(day: datetime.date, back: int) -> datetime.date:
    year, month = divmod(day.year * 12 + day.month - 1 - back, 12)
    return datetime.date(year, month + 1, 1)


def report(*, months: int = 12, company: Company | None = None) -> Report:
    today = timezone.localdate()
    start = _first_of(today, months - 1)
    invoices = Invoice.objects.filter(issued_on__gte=start)
    logs = TimeLog.objects.filter(session__start__date__gte=start)
    if company is not None:
        invoices = invoices.filter(company=company)
        logs = logs.filter(order__company=company)

    signed_net = Coalesce(Sum("total_net"), Value(ZERO), output_field=DecimalField())
    revenue_rows = (
        invoices.annotate(month=TruncMonth("issued_on"))
        .values("month", "company_id", "company__legal_name", "order_id", "kind")
        .annotate(net=signed_net)
        .order_by()
    )
    hours_rows = (
        logs.annotate(month=TruncMonth("session__start"))
        .values(
            "month",
            "order_id",
            "order__company_id",
            "order__company__legal_name",
            programme=F("session__cohort__programme__title"),
        )
        .annotate(total=Sum("hours"))
        .order_by()
    )

    by_month = {
        _first_of(today, back): Figures(f"{_first_of(today, back):%m/%Y}")
        for back in reversed(range(months))
    }
    by_company: dict[int, Figures] = {}
    order_revenue: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for row in revenue_rows:
        net = to_cent(Decimal(row["net"])) * (-1 if row["kind"] == InvoiceKind.CREDIT_NOTE else 1)
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        by_month.setdefault(month, Figures(f"{month:%m/%Y}")).revenue += net
        figures = by_company.setdefault(row["company_id"], Figures(row["company__legal_name"]))
        figures.revenue += net
        order_revenue[row["order_id"]] += net

    order_hours: dict[int, Decimal] = defaultdict(lambda: ZERO)
    programme_hours: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for logged in hours_rows:
        hours = Decimal(logged["total"]).quantize(Decimal("0.01"))
        month = logged["month"].date() if hasattr(logged["month"], "date") else logged["month"]
        if month in by_month:
            by_month[month].hours += hours
        by_company.setdefault(
            logged["order__company_id"], Figures(logged["order__company__legal_name"])
        ).hours += hours
        order_hours[logged["order_id"]] += hours
        programme_hours[(logged["order_id"], logged["programme"] or "—")] += hours

    by_programme: dict[str, Figures] = {}
    for (order_id, programme), hours in programme_hours.items():
        figures = by_programme.setdefault(programme, Figures(programme))
        figures.hours += hours
        if order_hours[order_id]:
            share = order_revenue.get(order_id, ZERO) * hours / order_hours[order_id]
            figures.revenue += to_cent(share)

    # Margin: on the orders whose material cost was entered, their revenue less it.
    costed = WorkshopOrder.objects.filter(pk__in=list(order_revenue), material_cost__isnull=False)
    for order_id, company_id, cost in costed.values_list("pk", "company_id", "material_cost"):
        figures = by_company[company_id]
        figures.material_cost = (figures.material_cost or ZERO) + (cost or ZERO)
        figures.costed_revenue += order_revenue[order_id]

    total = Figures("Total")
    for figures in by_company.values():
        total.revenue += figures.revenue
        total.hours += figures.hours
        if figures.material_cost is not None:
            total.material_cost = (total.material_cost or ZERO) + figures.material_cost
            total.costed_revenue += figures.costed_revenue
    return Report(
        months=list(by_month.values()),
        companies=sorted(by_company.values(), key=lambda f: -f.revenue),
        programmes=sorted(by_programme.values(), key=lambda f: -f.revenue),
        total=total,
    )
