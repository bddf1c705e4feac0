from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from companies.models import Company, Contact
from courses.models import Competency
from school.models import IssuedDocument, Learner, User
from school.serializers import ModelRulesSerializer, VisiblePrimaryKeyRelatedField

from .models import (
    Absence,
    AgreementVersion,
    Application,
    EvaluationLine,
    Placement,
    PlacementOffer,
    ScheduleSlot,
    Signature,
    TutorEvaluation,
    Visit,
)


class OfferSerializer(ModelRulesSerializer):
    company = VisiblePrimaryKeyRelatedField(queryset=Company.objects.all())
    company_name = serializers.CharField(source="company.legal_name", read_only=True)
    sector = serializers.CharField(source="company.sector", read_only=True)
    competencies = serializers.PrimaryKeyRelatedField(
        queryset=Competency.objects.all(), many=True, required=False
    )
    places_taken = serializers.IntegerField(read_only=True)

    class Meta:
        model = PlacementOffer
        fields = [
            "id",
            "company",
            "company_name",
            "sector",
            "title",
            "activities",
            "competencies",
            "address",
            "postal_code",
            "city",
            "start_date",
            "end_date",
            "places",
            "places_taken",
            "status",
            "published_at",
        ]
        read_only_fields = ["status", "published_at"]


class ApplicationSerializer(serializers.ModelSerializer):
    offer = VisiblePrimaryKeyRelatedField(queryset=PlacementOffer.objects.all())
    learner = VisiblePrimaryKeyRelatedField(
        queryset=Learner.objects.all(),
        required=False,
        help_text=_("Par défaut, l'apprenant du compte connecté."),
    )
    learner_name = serializers.CharField(source="learner.full_name", read_only=True)
    offer_title = serializers.CharField(source="offer.title", read_only=True)
    placement: serializers.PrimaryKeyRelatedField[Placement] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )

    class Meta:
        model = Application
        fields = [
            "id",
            "offer",
            "offer_title",
            "learner",
            "learner_name",
            "message",
            "status",
            "rejection_reason",
            "created_at",
            "decided_at",
            "placement",
        ]
        read_only_fields = ["status", "rejection_reason", "created_at", "decided_at"]
        # Applying once per offer is the service's rule (and the database's), answered
        # in its own words; DRF's generic unique-together check would demand a learner.
        validators: list[object] = []


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class SlotSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScheduleSlot
        fields = ["weekday", "start_time", "end_time"]


class SignatureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signature
        fields = ["id", "role", "name", "method", "signed_at", "pdf_sha256"]
        read_only_fields = fields


class VersionSerializer(serializers.ModelSerializer):
    document: serializers.PrimaryKeyRelatedField[IssuedDocument] = (
        serializers.PrimaryKeyRelatedField(read_only=True)
    )
    document_number = serializers.CharField(source="document.number", read_only=True)
    pdf_sha256 = serializers.CharField(source="document.sha256", read_only=True)
    signatures = SignatureSerializer(many=True, read_only=True)

    class Meta:
        model = AgreementVersion
        fields = [
            "id",
            "number",
            "is_amendment",
            "status",
            "document",
            "document_number",
            "pdf_sha256",
            "created_at",
            "signed_at",
            "signatures",
        ]
        read_only_fields = fields


class EvaluationLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvaluationLine
        fields = ["competency", "level"]
        read_only_fields = fields


class EvaluationSerializer(serializers.ModelSerializer):
    lines = EvaluationLineSerializer(many=True, read_only=True)

    class Meta:
        model = TutorEvaluation
        fields = [
            "sent_to",
            "sent_at",
            "expires_at",
            "revoked_at",
            "reminders_sent",
            "submitted_at",
            "tutor_name",
            "absence_days",
            "attendance",
            "comments",
            "lines",
        ]
        read_only_fields = fields


class AbsenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Absence
        fields = ["date", "hours", "justified", "reason"]
        read_only_fields = fields


class PlacementSerializer(serializers.ModelSerializer):
    """A placement read, and written through ``services.placement_save``: the model's
    fields, its weekly schedule and its competencies in one request."""

    learner = VisiblePrimaryKeyRelatedField(queryset=Learner.objects.all())
    company = VisiblePrimaryKeyRelatedField(queryset=Company.objects.all())
    tutor = VisiblePrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    signatory = VisiblePrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    referent = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    competencies = serializers.PrimaryKeyRelatedField(
        queryset=Competency.objects.all(), many=True, required=False
    )
    slots = SlotSerializer(many=True)
    versions = VersionSerializer(many=True, read_only=True)
    evaluation = EvaluationSerializer(read_only=True, allow_null=True)
    absences = AbsenceSerializer(many=True, read_only=True)
    weeks = serializers.DecimalField(max_digits=5, decimal_places=1, read_only=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.instance is not None:
            # A placement stays the same learner's at the same company: changing either
            # is a new placement (and a partner could not even name the learner).
            fields["learner"].read_only = True
            fields["company"].read_only = True
        return fields

    class Meta:
        model = Placement
        fields = [
            "id",
            "learner",
            "company",
            "application",
            "tutor",
            "signatory",
            "referent",
            "start_date",
            "end_date",
            "address",
            "activities",
            "competencies",
            "supervision",
            "meals",
            "transport",
            "lodging",
            "gratification_hourly",
            "slots",
            "status",
            "cancellation_reason",
            "weeks",
            "versions",
            "absences",
            "evaluation",
        ]
        read_only_fields = ["application", "status", "cancellation_reason"]


class VisitSerializer(serializers.ModelSerializer):
    placement = VisiblePrimaryKeyRelatedField(queryset=Placement.objects.all())
    by: serializers.PrimaryKeyRelatedField[User] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )

    class Meta:
        model = Visit
        fields = ["id", "placement", "kind", "date", "notes", "by"]


class SignSerializer(serializers.Serializer):
    signature = serializers.IntegerField(help_text=_("Le bloc de signature à signer."))


class PaperSignatureSerializer(serializers.Serializer):
    signature = serializers.IntegerField()
    scan = serializers.FileField()
