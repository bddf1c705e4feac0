from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Cluster, Company, Contact


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ["name", "company_count"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cluster]:
        return super().get_queryset(request).annotate(company_count=Count("companies"))

    @admin.display(description=_("entreprises"), ordering="company_count")
    def company_count(self, cluster: Cluster) -> int:
        return cluster.company_count  # type: ignore[attr-defined]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["first_name", "last_name", "job_title", "email", "phone", "is_tutor", "is_signatory"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["legal_name", "siret", "sector", "city", "contact_count"]
    list_filter = ["sector", "clusters", "city"]
    search_fields = ["legal_name", "siret", "city"]
    filter_horizontal = ["clusters"]
    inlines = [ContactInline]
    # A typed "www.example.fr" is an https:// site (Django 6's default, opted into now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (_("Identité"), {"fields": ["legal_name", "siret", "sector", "clusters"]}),
        (_("Adresse"), {"fields": ["address", ("postal_code", "city")]}),
        (_("Coordonnées"), {"fields": [("phone", "email"), "website"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Company]:
        return super().get_queryset(request).annotate(contact_count=Count("contacts"))

    @admin.display(description=_("contacts"), ordering="contact_count")
    def contact_count(self, company: Company) -> int:
        return company.contact_count  # type: ignore[attr-defined]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "company", "job_title", "is_tutor", "is_signatory"]
    list_filter = ["is_tutor", "is_signatory", "company__sector"]
    search_fields = ["last_name", "first_name", "email", "company__legal_name"]
    list_select_related = ["company"]
    autocomplete_fields = ["company", "user"]
