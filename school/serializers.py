from __future__ import annotations

import copy
import inspect
from typing import Any, Protocol, cast

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from . import batches, documents
from .models import (
    AnyUser,
    BatchStatus,
    Cohort,
    DocumentBatch,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Guardian,
    IssuedDocument,
    Learner,
    Programme,
    Role,
    User,
)


class _ScopedQuerySet(Protocol):
    """What each of the school's QuerySets offers: the rows a user may see."""

    def none(self) -> QuerySet[Any]: ...

    def visible_to(self, user: AnyUser) -> QuerySet[Any]: ...


class VisiblePrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id among those the requesting user may see; any other is answered
    exactly like an id that does not exist."""

    def get_queryset(self) -> QuerySet[Any]:
        # The field is given one of the school's QuerySets (``Learner.objects.all()``…).
        queryset = cast(_ScopedQuerySet, super().get_queryset())
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        return queryset.visible_to(request.user)


class ModelRulesSerializer(serializers.ModelSerializer):
    """Validates through the model's own ``full_clean()`` (field validators, ``clean()``,
    constraints), so that each rule is written once, on the model, for the admin, the
    API and the importer alike.

    ``Meta.staff_only_fields`` lists fields that other roles may read but not change.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and getattr(request.user, "role", None) != Role.STAFF:
            for name in getattr(self.Meta, "staff_only_fields", ()):
                fields[name].read_only = True
        return fields

    def save(self, **kwargs: Any) -> Any:
        try:
            with transaction.atomic():
                return super().save(**kwargs)
        except IntegrityError:
            # A second request wrote a conflicting row after our validation: validating
            # again now meets it and answers 400 with the constraint's own message.
            self.validate({**self.validated_data, **kwargs})
            raise

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        model: type[models.Model] = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        many_to_many = {field.name for field in model._meta.many_to_many}
        for name, value in attrs.items():
            if name not in many_to_many:
                setattr(instance, name, value)
        # Fields the client cannot send are set by the view or the service: theirs to check.
        writable = {name for name, field in self.fields.items() if not field.read_only}
        exclude = [f.name for f in model._meta.concrete_fields if f.name not in writable]
        try:
            instance.full_clean(exclude=exclude)
        except DjangoValidationError as error:
            detail = serializers.as_serializer_error(error)
            if NON_FIELD_ERRORS in detail:
                detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
            raise serializers.ValidationError(detail) from error
        return attrs


class ProgrammeSerializer(ModelRulesSerializer):
    class Meta:
        model = Programme
        fields = [
            "id",
            "title",
            "code",
            "level",
            "rncp_code",
            "objectives",
            "total_hours",
            "placement_weeks_min",
            "placement_weeks_max",
        ]


class CohortSerializer(ModelRulesSerializer):
    programme = serializers.PrimaryKeyRelatedField(queryset=Programme.objects.all())
    head_trainer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.TRAINER), allow_null=True, required=False
    )
    trainers = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.TRAINER), many=True, required=False
    )
    active_learners = serializers.IntegerField(read_only=True)

    class Meta:
        model = Cohort
        fields = [
            "id",
            "programme",
            "name",
            "school_years",
            "start_date",
            "end_date",
            "head_trainer",
            "trainers",
            "active_learners",
        ]
        read_only_fields = ["school_years"]


class LearnerSerializer(ModelRulesSerializer):
    is_minor = serializers.SerializerMethodField()

    class Meta:
        model = Learner
        fields = [
            "id",
            "first_name",
            "last_name",
            "birth_date",
            "is_minor",
            "email",
            "phone",
            "address",
            "postal_code",
            "city",
            "ine",
            "user",
        ]
        read_only_fields = ["user"]

    @extend_schema_field(serializers.BooleanField())
    def get_is_minor(self, learner: Learner) -> bool:
        return learner.is_minor_on(timezone.localdate())


class GuardianSerializer(ModelRulesSerializer):
    learner = VisiblePrimaryKeyRelatedField(queryset=Learner.objects.all())

    class Meta:
        model = Guardian
        fields = [
            "id",
            "learner",
            "rank",
            "relationship",
            "first_name",
            "last_name",
            "email",
            "phone",
            "address",
            "user",
        ]
        read_only_fields = ["user"]


class EnrolmentStatusChangeSerializer(serializers.ModelSerializer):
    # None when the change came from an import or the system, not a person.
    changed_by: serializers.StringRelatedField[User] = serializers.StringRelatedField(
        allow_null=True
    )

    class Meta:
        model = EnrolmentStatusChange
        fields = ["status", "effective_on", "reason", "changed_by", "changed_at"]


class EnrolmentSerializer(ModelRulesSerializer):
    learner = VisiblePrimaryKeyRelatedField(queryset=Learner.objects.all())
    cohort = VisiblePrimaryKeyRelatedField(queryset=Cohort.objects.all())
    status_changes = EnrolmentStatusChangeSerializer(many=True, read_only=True)

    class Meta:
        model = Enrolment
        fields = ["id", "learner", "cohort", "status", "start_date", "end_date", "status_changes"]
        read_only_fields = ["status", "end_date"]


class EnrolmentStatusUpdateSerializer(serializers.Serializer):
    """A status change; the enrolment's other fields never change once created."""

    status = serializers.ChoiceField(choices=EnrolmentStatus.choices)
    effective_on = serializers.DateField(required=False)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class MeSerializer(serializers.ModelSerializer):
    learner: serializers.PrimaryKeyRelatedField[Learner] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    children = serializers.SerializerMethodField()
    company = serializers.SerializerMethodField()
    calendar_url = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "role",
            "learner",
            "children",
            "company",
            "calendar_url",
        ]

    @extend_schema_field(serializers.URLField())
    def get_calendar_url(self, user: User) -> str:
        """The personal live calendar (RFC 5545 feed); its secret token is the credential."""
        return user.get_calendar_url(self.context["request"])

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_children(self, user: User) -> list[int]:
        return [guardian.learner_id for guardian in user.guardianships.all()]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_company(self, user: User) -> int | None:
        contact = getattr(user, "contact", None)
        return contact.company_id if contact else None


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        required=False,
        max_length=8,
        help_text=_(
            "Code à 6 chiffres de l'application d'authentification : requis pour le "
            "personnel et les formateurs qui ont activé la double authentification."
        ),
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class IssuedDocumentSerializer(serializers.ModelSerializer):
    """An entry of the register; entries change only through issuing, reissuing, revoking."""

    verification_url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = IssuedDocument
        fields = [
            "id",
            "number",
            "kind",
            "title",
            "learner",
            "subject",
            "issued_at",
            "issued_by",
            "sha256",
            "status",
            "superseded_by",
            "revoked_at",
            "revocation_reason",
            "verification_url",
            "pdf_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_verification_url(self, document: IssuedDocument) -> str:
        """The public page printed in the document's QR code."""
        return documents.verification_url(document.verification_code)

    @extend_schema_field(serializers.URLField())
    def get_pdf_url(self, document: IssuedDocument) -> str:
        path = reverse("api:document-pdf", args=[document.pk])
        return self.context["request"].build_absolute_uri(path)


PARAMETERS = ("start", "end", "week")


def issuable_kinds() -> list[str]:
    """The kinds staff issue from the register (each says what its subject is)."""
    return sorted(kind.code for kind in documents.kinds() if kind.on_request)


def _check_parameters(kind: str, attrs: dict[str, Any]) -> None:
    """Ask the kind's own function which of start/end/week it takes, so that the API
    never drifts from the kinds: a missing or stray parameter is the client's 400, not
    the renderer's TypeError."""
    signature = inspect.signature(documents.get_kind(kind).build_context)
    takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    errors: dict[str, list[str]] = {}
    for name in PARAMETERS:
        parameter = signature.parameters.get(name)
        if parameter is None and not takes_any and name in attrs:
            errors[name] = [gettext("Ce type de document ne prend pas ce paramètre.")]
        elif parameter is not None and parameter.default is parameter.empty and name not in attrs:
            errors[name] = [gettext("Ce type de document demande ce paramètre.")]
    if errors:
        raise serializers.ValidationError(errors)


class DocumentReissueSerializer(serializers.Serializer):
    """What a kind needs besides its code: its subject and, for some, a period or a week.

    The kind is the reissued document's own, given as ``context["kind"]``.
    """

    subject = serializers.IntegerField(
        help_text=_(
            "Identifiant de l'objet du document : inscription (attestation de fin de "
            "formation), apprenant (attestation d'assiduité), promotion (feuille "
            "d'émargement)."
        )
    )
    start = serializers.DateField(
        required=False, help_text=_("Début de la période (attestations d'assiduité et de stage).")
    )
    end = serializers.DateField(
        required=False, help_text=_("Fin de la période (attestations d'assiduité et de stage).")
    )
    week = serializers.DateField(
        required=False, help_text=_("Un jour de la semaine voulue (feuille d'émargement).")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs.get("kind") or self.context["kind"]
        if kind not in issuable_kinds():
            raise serializers.ValidationError(
                _("Les documents « %(kind)s » ne s'émettent pas par l'API.") % {"kind": kind}
            )
        _check_parameters(kind, attrs)
        model = documents.get_kind(kind).subject_model
        subject_id = attrs["subject"]
        # The school's QuerySets all offer visible_to(); the mapping's type cannot say so.
        visible = cast(_ScopedQuerySet, model._default_manager.all())
        attrs["subject"] = (
            visible.visible_to(self.context["request"].user).filter(pk=subject_id).first()
        )
        if attrs["subject"] is None:
            raise serializers.ValidationError(
                {
                    "subject": [
                        _("Aucun objet « %(model)s » n° %(id)s.")
                        % {"model": model._meta.verbose_name, "id": subject_id}
                    ]
                }
            )
        return attrs


class DocumentIssueSerializer(DocumentReissueSerializer):
    kind = serializers.CharField(
        help_text=_(
            "Code du type : attestation_fin_formation, attestation_assiduite, "
            "feuille_emargement, attestation_stage, livret_competences."
        )
    )

    def validate_kind(self, kind: str) -> str:
        if kind not in (issuable := issuable_kinds()):
            raise serializers.ValidationError(
                _("Type de document inconnu : « %(kind)s ». Types possibles : %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(issuable)}
            )
        return kind


class DocumentRevokeSerializer(serializers.Serializer):
    # A blank reason passes through: the service owns "a revocation needs a reason".
    reason = serializers.CharField(max_length=255, allow_blank=True, required=False, default="")


class DocumentBatchCreateSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text=_(
            "Code du type : attestation_fin_formation, attestation_assiduite, attestation_stage, "
            "livret_competences."
        )
    )
    cohort = serializers.PrimaryKeyRelatedField(queryset=Cohort.objects.all())
    start = serializers.DateField(
        required=False, help_text=_("Début de la période (attestations d'assiduité et de stage).")
    )
    end = serializers.DateField(
        required=False, help_text=_("Fin de la période (attestations d'assiduité et de stage).")
    )

    def validate_kind(self, kind: str) -> str:
        if kind not in (codes := [batchable.code for batchable in batches.batchable_kinds()]):
            raise serializers.ValidationError(
                _(
                    "Les documents « %(kind)s » ne s'émettent pas en lot. Types possibles : %(kinds)s."
                )
                % {"kind": kind, "kinds": ", ".join(codes)}
            )
        return kind

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_parameters(attrs["kind"], attrs)
        return attrs


class BatchFailureSerializer(serializers.Serializer):
    """One learner whose document could not be issued, and why (the API schema's shape)."""

    learner = serializers.IntegerField()
    error = serializers.CharField()


class DocumentBatchSerializer(serializers.ModelSerializer):
    """A batch read from its items: counts, failures and documents are never stored."""

    status = serializers.ChoiceField(choices=BatchStatus.choices)
    total = serializers.IntegerField(source="item_count")
    done = serializers.IntegerField(source="done_count")
    failed = serializers.IntegerField(source="failed_count")
    failures = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()
    zip_url = serializers.SerializerMethodField()

    class Meta:
        model = DocumentBatch
        fields = [
            "id",
            "kind",
            "cohort",
            "parameters",
            "created_at",
            "status",
            "total",
            "done",
            "failed",
            "failures",
            "documents",
            "zip_url",
        ]
        read_only_fields = fields

    @extend_schema_field(BatchFailureSerializer(many=True))
    def get_failures(self, batch: DocumentBatch) -> list[dict[str, Any]]:
        return [
            {"learner": item.learner_id, "error": item.error}
            for item in batch.items.all()
            if item.has_failed
        ]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_documents(self, batch: DocumentBatch) -> list[int]:
        return [item.document.pk for item in batch.items.all() if item.document and item.is_issued]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_zip_url(self, batch: DocumentBatch) -> str | None:
        if batch.status != BatchStatus.DONE:
            return None
        return self.context["request"].build_absolute_uri(reverse("batch-zip", args=[batch.pk]))
