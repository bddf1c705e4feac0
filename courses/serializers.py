from __future__ import annotations

from typing import Any

from rest_framework import serializers

from school.models import Cohort, Learner, Role, User, role_of
from school.serializers import ModelRulesSerializer, VisiblePrimaryKeyRelatedField

from .models import (
    Attendance,
    AttendanceStatus,
    ClosurePeriod,
    Competency,
    CompetencyBlock,
    Course,
    Derogation,
    Machine,
    MedicalFitness,
    Room,
    SafetyTraining,
    Session,
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
