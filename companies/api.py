from __future__ import annotations

from django.db.models import QuerySet
from rest_framework.routers import BaseRouter

from school.api import ListRetrieveCreateUpdateViewSet
from school.models import Role

from .models import Company, Contact
from .serializers import CompanySerializer, ContactSerializer


class CompanyViewSet(ListRetrieveCreateUpdateViewSet):
    serializer_class = CompanySerializer
    write_roles = {
        "update": {Role.STAFF, Role.PARTNER},
        "partial_update": {Role.STAFF, Role.PARTNER},
    }
    filterset_fields = ["sector", "clusters", "city"]
    search_fields = ["legal_name", "siret", "city"]
    ordering_fields = ["legal_name", "city"]

    def get_queryset(self) -> QuerySet[Company]:
        return Company.objects.visible_to(self.request.user).prefetch_related("clusters")


class ContactViewSet(ListRetrieveCreateUpdateViewSet):
    serializer_class = ContactSerializer
    write_roles = {
        "create": {Role.STAFF, Role.PARTNER},
        "update": {Role.STAFF, Role.PARTNER},
        "partial_update": {Role.STAFF, Role.PARTNER},
    }
    filterset_fields = ["company", "is_tutor", "is_signatory"]
    search_fields = ["first_name", "last_name", "email", "job_title"]
    ordering_fields = ["last_name"]

    def get_queryset(self) -> QuerySet[Contact]:
        return Contact.objects.visible_to(self.request.user)


def register_endpoints(router: BaseRouter) -> None:
    router.register("companies", CompanyViewSet, basename="company")
    router.register("contacts", ContactViewSet, basename="contact")
