from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from school.http import AuthenticatedRequest
from school.models import Role
from school.pagination import page_of
from school.portal import Section

from .models import Company, Sector


def home_section(request: AuthenticatedRequest) -> Section | None:
    """On a partner's home page: their company and its contacts."""
    if request.user.role != Role.PARTNER:
        return None
    companies = Company.objects.visible_to(request.user).prefetch_related("contacts")
    return Section("companies/home_section.html", {"companies": companies})


@login_required
def company_list(request: AuthenticatedRequest) -> HttpResponse:
    companies = (
        Company.objects.visible_to(request.user)
        .annotate(contact_count=Count("contacts"))
        .prefetch_related("clusters")
        .order_by("legal_name")
    )
    sector = request.GET.get("secteur", "")
    q = request.GET.get("q", "").strip()
    if sector:
        companies = companies.filter(sector=sector)
    if q:
        companies = companies.filter(
            Q(legal_name__icontains=q) | Q(city__icontains=q) | Q(siret__startswith=q)
        )
    return render(
        request,
        "companies/company_list.html",
        {**page_of(request, companies, secteur=sector, q=q), "sectors": Sector.choices},
    )


@login_required
def company_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(
        Company.objects.visible_to(request.user).prefetch_related("contacts", "clusters"), pk=pk
    )
    return render(request, "companies/company_detail.html", {"company": company})
