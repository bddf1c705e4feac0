from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from courses.models import CompetencyLevel, Course
from school.models import Cohort, Learner, Role, User
from school.serializers import VisiblePrimaryKeyRelatedField

from .models import (
    CCFUnit,
    PlacementGrid,
    Result,
    ResultLevel,
    ResultStatus,
    Situation,
    SituationCompetency,
    Term,
    TermComment,
)


class TermSerializer(serializers.ModelSerializer):
    cohort = VisiblePrimaryKeyRelatedField(queryset=Cohort.objects.all())

    class Meta:
        model = Term
        fields = ["id", "cohort", "name", "start_date", "end_date", "council_date"]
        read_only_fields = ["id"]


class CCFUnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = CCFUnit
        fields = ["id", "programme", "code", "title", "coefficient"]
        read_only_fields = fields


class WeightSerializer(serializers.ModelSerializer):
    # An id: the service checks them all in one query, against the programme's framework.
    competency = serializers.IntegerField(source="competency_id", min_value=1, max_value=2**31 - 1)

    class Meta:
        model = SituationCompetency
        fields = ["competency", "weight"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Un contrôle de tournage noté et évalué par compétences",
            value={
                "cohort": 1,
                "course": 3,
                "title": "Contrôle — arbre épaulé",
                "date": "2026-11-16",
                "kind": "summative",
                "scale": "both",
                "max_mark": "20",
                "coefficient": "2",
                "weights": [{"competency": 4, "weight": 60}, {"competency": 5, "weight": 40}],
            },
            request_only=True,
        )
    ]
)
class SituationSerializer(serializers.ModelSerializer):
    cohort = VisiblePrimaryKeyRelatedField(queryset=Cohort.objects.all())
    course = serializers.PrimaryKeyRelatedField(
        queryset=Course.objects.all(), allow_null=True, required=False
    )
    ccf_unit = serializers.PrimaryKeyRelatedField(
        queryset=CCFUnit.objects.all(), allow_null=True, required=False
    )
    weights = WeightSerializer(many=True, required=False)
    assessors = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.TRAINER), many=True, required=False
    )
    locked = serializers.SerializerMethodField()

    class Meta:
        model = Situation
        fields = [
            "id",
            "cohort",
            "course",
            "ccf_unit",
            "title",
            "date",
            "kind",
            "in_placement",
            "scale",
            "max_mark",
            "coefficient",
            "weights",
            "assessors",
            "jury_date",
            "published_at",
            "locked_at",
            "locked",
        ]
        read_only_fields = ["id", "published_at", "locked_at"]

    def get_locked(self, situation: Situation) -> bool:
        return situation.is_locked()

    def to_service(self) -> dict[str, Any]:
        """The validated fields as ``situation_save`` takes them."""
        fields = dict(self.validated_data)
        weights = fields.pop("weights", [])
        fields["weights"] = {line["competency_id"]: line["weight"] for line in weights}
        fields["assessors"] = fields.pop("assessors", [])
        return fields


class LevelSerializer(serializers.ModelSerializer):
    # An id: the service checks the line has one level per competency of the situation.
    competency = serializers.IntegerField(source="competency_id", min_value=1, max_value=2**31 - 1)
    level = serializers.ChoiceField(choices=CompetencyLevel.choices)

    class Meta:
        model = ResultLevel
        fields = ["competency", "level"]


class ResultSerializer(serializers.ModelSerializer):
    levels = LevelSerializer(many=True, read_only=True)
    learner_name = serializers.CharField(source="learner.full_name", read_only=True)

    class Meta:
        model = Result
        fields = [
            "id",
            "situation",
            "learner",
            "learner_name",
            "status",
            "mark",
            "levels",
            "comment",
            "assessor_name",
            "entered_at",
        ]
        read_only_fields = fields


MAX_LINES = 200  # a class, with room: a grid is one cohort's


class EntrySerializer(serializers.Serializer):
    # Checked by the service, which names the learner of each wrong line (one rule).
    learner = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ResultStatus.choices, default=ResultStatus.ASSESSED)
    mark = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=12)
    levels = LevelSerializer(many=True, required=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Deux lignes de la grille",
            value={
                "results": [
                    {
                        "learner": 12,
                        "mark": "14.5",
                        "levels": [
                            {"competency": 4, "level": "acquired"},
                            {"competency": 5, "level": "in_progress"},
                        ],
                    },
                    {"learner": 13, "status": "excused"},
                ]
            },
            request_only=True,
        )
    ]
)
class GridSerializer(serializers.Serializer):
    results = EntrySerializer(many=True, allow_empty=False)

    def validate_results(self, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(results) > MAX_LINES:
            raise serializers.ValidationError(
                _("Au plus %(count)d lignes à la fois.") % {"count": MAX_LINES}
            )
        return results


class TermCommentSerializer(serializers.ModelSerializer):
    term = serializers.PrimaryKeyRelatedField(queryset=Term.objects.all())
    learner = VisiblePrimaryKeyRelatedField(queryset=Learner.objects.all())
    course = serializers.PrimaryKeyRelatedField(
        queryset=Course.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = TermComment
        fields = ["id", "term", "learner", "course", "text", "author", "updated_at"]
        read_only_fields = ["id", "author", "updated_at"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Une grille remplie par le tuteur",
            value={
                "id": 3,
                "situation": 7,
                "placement": 21,
                "learner": 12,
                "learner_name": "Lucas Martin",
                "sent_to": "tuteur@usinage-nogent.fr",
                "sent_at": "2027-03-08T09:00:00+01:00",
                "expires_at": "2027-04-07T09:00:00+02:00",
                "submitted_at": "2027-03-12T16:20:00+01:00",
                "tutor_name": "Claire Bernard",
                "result": 88,
            },
            response_only=True,
        )
    ]
)
class PlacementGridSerializer(serializers.ModelSerializer):
    learner = serializers.IntegerField(source="placement.learner_id", read_only=True)
    learner_name = serializers.CharField(source="placement.learner.full_name", read_only=True)

    class Meta:
        model = PlacementGrid
        fields = [
            "id",
            "situation",
            "placement",
            "learner",
            "learner_name",
            "sent_to",
            "sent_at",
            "expires_at",
            "submitted_at",
            "tutor_name",
            "result",
        ]
        read_only_fields = fields


class GridSendSerializer(serializers.Serializer):
    # Checked by the service against the placements the situation is held in.
    placement = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text=_("Un seul stage ; sinon tous.")
    )


class GridSendAnswerSerializer(serializers.Serializer):
    sent = serializers.IntegerField()
    refusals = serializers.ListField(child=serializers.CharField())
