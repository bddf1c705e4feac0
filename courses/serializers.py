from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from companies.models import Company
from school.models import Cohort, IssuedDocument, Learner, Role, User, role_of
from school.serializers import ModelRulesSerializer, VisiblePrimaryKeyRelatedField

from .models import (
    Attendance,
    AttendanceStatus,
    ClosurePeriod,
    Competency,
    CompetencyBlock,
    CompetencyEvidence,
    Course,
    Derogation,
    ExcuseNote,
    Inspection,
    Machine,
    MachineKind,
    MedicalFitness,
    OrderEvent,
    OrderStatus,
    Room,
    SafetyTraining,
    Session,
    TimeLog,
    WorkshopOrder,
    sees_prices,
)


class CompetencyBlockSerializer(ModelRulesSerializer):
    class Meta:
        model = CompetencyBlock
        fields = ["id", "programme", "code", "title"]


class CompetencySerializer(ModelRulesSerializer):
    programme = serializers.IntegerField(source="block.programme_id", read_only=True)
    block_code = serializers.CharField(source="block.code", read_only=True)
    block_title = serializers.CharField(source="block.title", read_only=True)

    class Meta:
        model = Competency
        fields = ["id", "block", "block_code", "block_title", "programme", "code", "title"]


class CourseSerializer(ModelRulesSerializer):
    competencies = serializers.PrimaryKeyRelatedField(
        queryset=Competency.objects.all(), many=True, required=False
    )

    class Meta:
        model = Course
        fields = ["id", "programme", "code", "title", "kind", "planned_hours", "competencies"]


class RoomSerializer(ModelRulesSerializer):
    class Meta:
        model = Room
        fields = ["id", "name", "kind", "capacity"]


class MachineSerializer(ModelRulesSerializer):
    class Meta:
        model = Machine
        fields = ["id", "name", "kind", "room", "is_active"]


class ClosurePeriodSerializer(ModelRulesSerializer):
    class Meta:
        model = ClosurePeriod
        fields = ["id", "name", "kind", "start_date", "end_date"]


class SessionSerializer(serializers.ModelSerializer):
    """Reading a session; writes go through the scheduling services and their checks.

    A group's members are named to the teaching team only: a pupil sees that a session
    is theirs, not which classmates share it.
    """

    def to_representation(self, instance: Session) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and role_of(request.user) not in (Role.STAFF, Role.TRAINER):
            data.pop("learners")
        return data

    course_title = serializers.CharField(source="course.title", read_only=True)
    cohort_name = serializers.CharField(source="cohort.name", read_only=True)
    trainer_name = serializers.CharField(source="trainer.get_full_name", read_only=True)
    room_name = serializers.CharField(source="room.name", read_only=True)

    class Meta:
        model = Session
        fields = [
            "id",
            "course",
            "course_title",
            "cohort",
            "cohort_name",
            "learners",
            "trainer",
            "trainer_name",
            "room",
            "room_name",
            "machines",
            "start",
            "end",
            "status",
            "series",
            "sequence",
            "attendance_validated_at",
        ]
        read_only_fields = fields


class SessionWriteSerializer(serializers.Serializer):
    """What a client sends to plan or move a session; the service checks the rest."""

    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.all())
    cohort = serializers.PrimaryKeyRelatedField(queryset=Cohort.objects.all())
    learners = serializers.PrimaryKeyRelatedField(
        queryset=Learner.objects.all(), many=True, required=False
    )
    trainer = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(role=Role.TRAINER))
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all())
    machines = serializers.PrimaryKeyRelatedField(
        queryset=Machine.objects.all(), many=True, required=False
    )
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class SessionSeriesWriteSerializer(SessionWriteSerializer):
    """The same session, every week between two dates."""

    start = None  # type: ignore[assignment]  # a series has times of day, not moments
    end = None  # type: ignore[assignment]
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 = lundi")
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()
    first_date = serializers.DateField()
    last_date = serializers.DateField()


class SessionSeriesResultSerializer(serializers.Serializer):
    series = serializers.IntegerField()
    sessions = serializers.ListField(child=serializers.IntegerField())


class AttendanceSerializer(serializers.ModelSerializer):
    learner_name = serializers.CharField(source="learner.full_name", read_only=True)

    class Meta:
        model = Attendance
        fields = [
            "id",
            "session",
            "learner",
            "learner_name",
            "status",
            "reason",
            "signed_at",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class AttendanceMarkSerializer(serializers.Serializer):
    # Who takes part, and who may take the roll call, are the attendance service's rules.
    session = VisiblePrimaryKeyRelatedField(queryset=Session.objects.all())
    learner = serializers.PrimaryKeyRelatedField(queryset=Learner.objects.all())
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class DerogationSerializer(ModelRulesSerializer):
    valid_until = serializers.DateField(read_only=True)
    machine_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=MachineKind.choices), allow_empty=False
    )

    class Meta:
        model = Derogation
        fields = ["id", "declared_on", "valid_until", "reference", "machine_kinds"]


class MedicalFitnessSerializer(ModelRulesSerializer):
    class Meta:
        model = MedicalFitness
        fields = ["id", "learner", "issued_on", "valid_until"]


class SafetyTrainingSerializer(ModelRulesSerializer):
    class Meta:
        model = SafetyTraining
        fields = ["id", "learner", "machine_kind", "trained_on", "trainer"]


class HoursQuerySerializer(serializers.Serializer):
    learner = serializers.IntegerField()
    course = serializers.IntegerField(required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)


class HoursSerializer(serializers.Serializer):
    """Hours derived from the émargement; never typed."""

    scheduled = serializers.DecimalField(max_digits=8, decimal_places=2)
    attended = serializers.DecimalField(max_digits=8, decimal_places=2)
    justified_absence = serializers.DecimalField(max_digits=8, decimal_places=2)
    unjustified_absence = serializers.DecimalField(max_digits=8, decimal_places=2)
    unrecorded = serializers.DecimalField(max_digits=8, decimal_places=2)


# ---------------------------------------------------------------------------------------
# Workshop orders, time logs, inspections, competency evidence and portfolios
# ---------------------------------------------------------------------------------------


class OrderEventSerializer(serializers.ModelSerializer):
    by: serializers.StringRelatedField[User] = serializers.StringRelatedField()
    # The order's first event, its creation, comes from no status.
    from_status = serializers.ChoiceField(
        choices=OrderStatus.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = OrderEvent
        fields = ["from_status", "to_status", "by", "at", "note"]
        read_only_fields = fields


class MeasuredCharacteristicSerializer(serializers.Serializer):
    """One characteristic of an inspection, with its measures on parts 1, 2, …"""

    name = serializers.CharField(max_length=120)
    nominal = serializers.DecimalField(max_digits=10, decimal_places=4)
    lower_tolerance = serializers.DecimalField(max_digits=8, decimal_places=4)
    upper_tolerance = serializers.DecimalField(max_digits=8, decimal_places=4)
    unit = serializers.CharField(max_length=10, default="mm")
    values = serializers.ListField(
        child=serializers.DecimalField(max_digits=10, decimal_places=4), min_length=1
    )


class InspectionSerializer(serializers.ModelSerializer):
    characteristics = serializers.SerializerMethodField()
    conforms = serializers.SerializerMethodField()
    document: serializers.PrimaryKeyRelatedField[IssuedDocument] = (
        serializers.PrimaryKeyRelatedField(read_only=True)
    )

    class Meta:
        model = Inspection
        fields = [
            "inspected_on",
            "notes",
            "countersigned_at",
            "conforms",
            "characteristics",
            "document",
        ]
        read_only_fields = fields

    def get_characteristics(self, inspection: Inspection) -> list[dict[str, Any]]:
        return [
            {
                "name": row.characteristic.name,
                "nominal": row.characteristic.nominal,
                "lower_tolerance": row.characteristic.lower_tolerance,
                "upper_tolerance": row.characteristic.upper_tolerance,
                "unit": row.characteristic.unit,
                "values": [m.value for m in row.values],
                "conforms": row.conforms,
            }
            for row in inspection.report().rows
        ]

    def get_conforms(self, inspection: Inspection) -> bool:
        return inspection.report().conforms


class OrderSerializer(serializers.ModelSerializer):
    """An order as its company and the school see it; created with its drawing
    (multipart), then moved through the actions of the endpoint."""

    company = VisiblePrimaryKeyRelatedField(queryset=Company.objects.all())
    company_name = serializers.CharField(source="company.legal_name", read_only=True)
    drawing = serializers.FileField(write_only=True)
    drawing_url = serializers.SerializerMethodField()
    events = OrderEventSerializer(many=True, read_only=True)
    inspection = serializers.SerializerMethodField()

    class Meta:
        model = WorkshopOrder
        fields = [
            "id",
            "company",
            "company_name",
            "reference",
            "description",
            "drawing",
            "drawing_url",
            "material",
            "quantity",
            "tolerances",
            "requested_date",
            "target_price",
            "price",
            "planned_start",
            "planned_end",
            "status",
            "decline_reason",
            "supervisor",
            "sessions",
            "learners",
            "competencies",
            "delivered_quantity",
            "events",
            "inspection",
        ]
        read_only_fields = [
            "price",
            "planned_start",
            "planned_end",
            "status",
            "decline_reason",
            "supervisor",
            "sessions",
            "learners",
            "competencies",
            "delivered_quantity",
        ]

    def to_representation(self, instance: WorkshopOrder) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not sees_prices(request.user):
            data["target_price"] = data["price"] = None
        return data

    def get_drawing_url(self, order: WorkshopOrder) -> str:
        return reverse("api:order-drawing", args=[order.pk])

    @extend_schema_field(InspectionSerializer(allow_null=True))
    def get_inspection(self, order: WorkshopOrder) -> dict[str, Any] | None:
        inspection = getattr(order, "inspection", None)
        return InspectionSerializer(inspection).data if inspection else None


class OrderAcceptSerializer(serializers.Serializer):
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"))
    planned_start = serializers.DateField()
    planned_end = serializers.DateField()
    supervisor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.TRAINER), required=False
    )


class OrderDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class OrderPlanSerializer(serializers.Serializer):
    sessions = serializers.PrimaryKeyRelatedField(queryset=Session.objects.all(), many=True)
    learners = serializers.PrimaryKeyRelatedField(queryset=Learner.objects.all(), many=True)
    competencies = serializers.PrimaryKeyRelatedField(
        queryset=Competency.objects.all(), many=True, required=False
    )


class OrderAdvanceSerializer(serializers.Serializer):
    to = serializers.ChoiceField(
        choices=[
            OrderStatus.IN_PRODUCTION,
            OrderStatus.QUALITY_CONTROL,
            OrderStatus.DELIVERED,
            OrderStatus.CLOSED,
        ]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class InspectionWriteSerializer(serializers.Serializer):
    characteristics = MeasuredCharacteristicSerializer(many=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class TimeLogSerializer(serializers.ModelSerializer):
    order = VisiblePrimaryKeyRelatedField(queryset=WorkshopOrder.objects.all())
    session = serializers.PrimaryKeyRelatedField(queryset=Session.objects.all())
    learner = VisiblePrimaryKeyRelatedField(queryset=Learner.objects.all(), required=False)
    logged_by: serializers.StringRelatedField[User] = serializers.StringRelatedField()

    class Meta:
        model = TimeLog
        fields = [
            "id",
            "order",
            "session",
            "learner",
            "hours",
            "operation",
            "machine",
            "parts_made",
            "parts_scrapped",
            "logged_by",
            "created_at",
        ]
        read_only_fields = ["logged_by", "created_at"]


class EvidenceSerializer(serializers.ModelSerializer):
    learner = VisiblePrimaryKeyRelatedField(queryset=Learner.objects.all())

    class Meta:
        model = CompetencyEvidence
        fields = [
            "id",
            "learner",
            "competency",
            "level",
            "source",
            "reference",
            "assessor_name",
            "date",
            "note",
        ]
        read_only_fields = ["source", "reference", "assessor_name", "date"]


class PortfolioRowSerializer(serializers.Serializer):
    competency = CompetencySerializer()
    level = serializers.CharField(allow_null=True)
    last_date = serializers.DateField(allow_null=True)
    is_gap = serializers.BooleanField()
    evidence = EvidenceSerializer(many=True)


class PortfolioSerializer(serializers.Serializer):
    learner = serializers.IntegerField(source="learner.pk")
    programme = serializers.CharField(source="programme.title", allow_null=True)
    rows = PortfolioRowSerializer(many=True)
    gaps = serializers.SerializerMethodField(help_text="Les compétences ni acquises ni maîtrisées.")

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_gaps(self, portfolio: Any) -> list[int]:
        return [competency.pk for competency in portfolio.gaps]


class ExcuseNoteSerializer(serializers.ModelSerializer):
    learner = VisiblePrimaryKeyRelatedField(queryset=Learner.objects.all())
    scan = serializers.FileField(required=False, write_only=True)
    has_scan = serializers.SerializerMethodField()

    class Meta:
        model = ExcuseNote
        fields = [
            "id",
            "learner",
            "first_day",
            "last_day",
            "reason",
            "scan",
            "has_scan",
            "sent_at",
            "status",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = ["id", "sent_at", "status", "decided_at", "decision_note"]

    def get_has_scan(self, note: ExcuseNote) -> bool:
        return bool(note.scan)


class DecisionSerializer(serializers.Serializer):
    decision_note = serializers.CharField(required=False, allow_blank=True, max_length=255)
