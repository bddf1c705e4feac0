from __future__ import annotations

from rest_framework import serializers

from school.serializers import ModelRulesSerializer, VisiblePrimaryKeyRelatedField

from .models import Cluster, Company, Contact


class CompanySerializer(ModelRulesSerializer):
    clusters = serializers.PrimaryKeyRelatedField(
        queryset=Cluster.objects.all(), many=True, required=False
    )

    class Meta:
        model = Company
        fields = [
            "id",
            "legal_name",
            "siret",
            "siren",
            "sector",
            "address",
            "postal_code",
            "city",
            "phone",
            "email",
            "website",
            "clusters",
        ]
        read_only_fields = ["siren"]
        # A company's legal identity is checked by the school, not self-declared.
        staff_only_fields = ["legal_name", "siret", "sector", "clusters"]


class ContactSerializer(ModelRulesSerializer):
    company = VisiblePrimaryKeyRelatedField(queryset=Company.objects.all())

    class Meta:
        model = Contact
        fields = [
            "id",
            "company",
            "first_name",
            "last_name",
            "job_title",
            "email",
            "phone",
            "is_tutor",
            "is_signatory",
            "user",
        ]
        read_only_fields = ["user"]
        # Who may sign agreements for the company is verified by the school's staff.
        staff_only_fields = ["is_signatory"]
