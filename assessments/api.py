"""Assessment over the API: terms, CCF units, situations with their grid (``results``
in one go, ``publish``, ``lock``), results, the conseil de classe's comments, and the
proposed CCF marks of a cohort. Trainers reach their courses' situations, learners and
guardians the published results of their own (404 otherwise)."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from school.api import call_service
from school.models import Cohort, Role, User

from . import services
from .documents import jury_learners
from .marks import proposed_marks
from .models import CCFUnit, PlacementGrid, Result, ResultLevel, Situation, Term, TermComment
from .serializers import (
    CCFUnitSerializer,
    GridSendAnswerSerializer,
    GridSendSerializer,
    GridSerializer,
    PlacementGridSerializer,
    ResultSerializer,
    SituationSerializer,
    TermCommentSerializer,
    TermSerializer,
)
from .services import Entry

ASSESSORS = {Role.STAFF, Role.TRAINER}


def _user(request: Request) -> User:
    return cast(User, request.user)


class TermViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The periods a cohort's bulletins report (trimestres, semestres)."""

    serializer_class = TermSerializer
    filterset_fields = ["cohort"]

    def get_queryset(self) -> QuerySet[Term]:
        return Term.objects.filter(
            cohort__in=Cohort.objects.visible_to(self.request.user)
        ).order_by("cohort", "start_date")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        term = call_service(services.term_save, by=_user(request), **data.validated_data)
        return Response(self.get_serializer(term).data, status=status.HTTP_201_CREATED)


class CCFUnitViewSet(viewsets.ReadOnlyModelViewSet):
    """The units of each programme's diploma assessed by CCF (the grid)."""

    serializer_class = CCFUnitSerializer
    filterset_fields = ["programme"]
    queryset = CCFUnit.objects.order_by("programme", "code")


class SituationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Situations of assessment. ``results`` saves a class's lines in one go (all or
    nothing); ``publish`` shows them to learners and families and puts the levels in
    the portfolio; ``lock`` (staff) closes a situation for good."""

    serializer_class = SituationSerializer
    filterset_fields = ["cohort", "course", "kind", "ccf_unit"]
    ordering_fields = ["date"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = {
        "create": ASSESSORS,
        "partial_update": ASSESSORS,
        "results": ASSESSORS,
        "publish": ASSESSORS,
        "lock": {Role.STAFF},
        "send_grids": ASSESSORS,
    }

    def get_queryset(self) -> QuerySet[Situation]:
        return (
            Situation.objects.visible_to(self.request.user)
            .prefetch_related("weights", "assessors")
            .order_by("-date", "pk")
        )

    def _answer(self, situation: Situation, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            self.get_serializer(self.get_queryset().get(pk=situation.pk)).data, status=code
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = cast(SituationSerializer, self.get_serializer(data=request.data))
        data.is_valid(raise_exception=True)
        situation = call_service(services.situation_save, by=_user(request), **data.to_service())
        return self._answer(situation, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        situation = self.get_object()
        data = cast(
            SituationSerializer, self.get_serializer(situation, data=request.data, partial=True)
        )
        data.is_valid(raise_exception=True)
        fields = data.to_service()
        if "weights" not in request.data:
            fields["weights"] = {w.competency_id: w.weight for w in situation.weights.all()}
        if "assessors" not in request.data:
            fields["assessors"] = list(situation.assessors.all())
        situation = call_service(
            services.situation_save, situation=situation, by=_user(request), **fields
        )
        return self._answer(situation)

    @extend_schema(request=GridSerializer, responses=ResultSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        situation = self.get_object()
        if request.method == "POST":
            data = GridSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            entries = [
                Entry(
                    learner=line["learner"],
                    status=line["status"],
                    mark=line.get("mark"),
                    levels={
                        level["competency"].pk: level["level"] for level in line.get("levels", [])
                    },
                    comment=line.get("comment", ""),
                )
                for line in data.validated_data["results"]
            ]
            call_service(
                services.results_record, situation=situation, entries=entries, by=_user(request)
            )
        results = (
            Result.objects.visible_to(request.user)
            .filter(situation=situation)
            .select_related("learner")
            .prefetch_related(Prefetch("levels", ResultLevel.objects.order_by("competency")))
        )
        return Response(ResultSerializer(results, many=True).data)

    @extend_schema(request=None, responses=SituationSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        situation = call_service(
            services.situation_publish, situation=self.get_object(), by=_user(request)
        )
        return self._answer(situation)

    @extend_schema(request=None, responses=SituationSerializer)
    @action(detail=True, methods=["post"])
    def lock(self, request: Request, pk: str | None = None) -> Response:
        situation = call_service(
            services.situation_lock, situation=self.get_object(), by=_user(request)
        )
        return self._answer(situation)

    @extend_schema(request=GridSendSerializer, responses=GridSendAnswerSerializer)
    @action(detail=True, methods=["post"], url_path="send-grids")
    def send_grids(self, request: Request, pk: str | None = None) -> Response:
        """CCF in PFMP: e-mail the grid to one placement's tutor, or to every tutor who
        has not had it (each refusal said, the others sent)."""
        situation = self.get_object()
        data = GridSendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        one = data.validated_data.get("placement")
        if one is None:
            sent, refusals = call_service(
                services.placement_grids_send, situation=situation, by=_user(request)
            )
        else:
            placement = get_object_or_404(services.grid_placements(situation), pk=one)
            call_service(
                services.placement_grid_send,
                situation=situation,
                placement=placement,
                by=_user(request),
            )
            sent, refusals = 1, []
        return Response(GridSendAnswerSerializer({"sent": sent, "refusals": refusals}).data)


class PlacementGridViewSet(viewsets.ReadOnlyModelViewSet):
    """CCF grids in PFMP: where each tutor's grid stands; a partner sees their
    company's placements' grids (and, through ``result``, the grid their tutor filled)."""

    serializer_class = PlacementGridSerializer
    filterset_fields = ["situation", "placement"]

    def get_queryset(self) -> QuerySet[PlacementGrid]:
        return (
            PlacementGrid.objects.visible_to(self.request.user)
            .select_related("placement__learner")
            .order_by("-sent_at", "pk")
        )


class ResultViewSet(viewsets.ReadOnlyModelViewSet):
    """Results one may see: a learner or guardian their child's published ones."""

    serializer_class = ResultSerializer
    filterset_fields = ["situation", "learner", "status"]

    def get_queryset(self) -> QuerySet[Result]:
        return (
            Result.objects.visible_to(self.request.user)
            .select_related("learner")
            .prefetch_related(Prefetch("levels", ResultLevel.objects.order_by("competency")))
            .order_by("situation", "learner__last_name", "pk")
        )


class TermCommentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The conseil de classe's comments: ``POST`` writes (or replaces) one trainer's
    comment on a learner's course for the term, or the head trainer's overall one."""

    serializer_class = TermCommentSerializer
    filterset_fields = ["term", "learner", "course"]
    write_roles = {"create": ASSESSORS}

    def get_queryset(self) -> QuerySet[TermComment]:
        return TermComment.objects.visible_to(self.request.user).order_by("term", "learner", "pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        term = get_object_or_404(
            Term.objects.filter(cohort__in=Cohort.objects.visible_to(request.user)),
            pk=fields["term"].pk,
        )
        comment = call_service(
            services.comment_save,
            term=term,
            learner=fields["learner"],
            course=fields.get("course"),
            text=fields["text"],
            by=_user(request),
        )
        if comment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(comment).data, status=status.HTTP_201_CREATED)


class UnitMarkSerializer(serializers.Serializer):
    unit = serializers.CharField(source="unit.code")
    mark = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    state = serializers.CharField()
    detail = serializers.ListField(child=serializers.CharField())


class JuryRowSerializer(serializers.Serializer):
    learner = serializers.IntegerField(source="learner.pk")
    learner_name = serializers.CharField(source="learner.full_name")
    units = UnitMarkSerializer(many=True)


class ProposedMarksViewSet(viewsets.GenericViewSet):
    """The proposed CCF marks of a cohort, learner by learner and unit by unit (staff
    and the cohort's trainers)."""

    serializer_class = JuryRowSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Cohort]:
        if self.request.user.is_authenticated and self.request.user.role in ASSESSORS:
            return Cohort.objects.visible_to(self.request.user)
        return Cohort.objects.none()

    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses=JuryRowSerializer(many=True),
    )
    def retrieve(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        cohort = self.get_object()
        _units, rows = proposed_marks(cohort, jury_learners(cohort))
        return Response(JuryRowSerializer(rows, many=True).data)


def register_endpoints(router: BaseRouter) -> None:
    router.register("terms", TermViewSet, basename="term")
    router.register("ccf-units", CCFUnitViewSet, basename="ccf-unit")
    router.register("situations", SituationViewSet, basename="situation")
    router.register("results", ResultViewSet, basename="result")
    router.register("placement-grids", PlacementGridViewSet, basename="placement-grid")
    router.register("term-comments", TermCommentViewSet, basename="term-comment")
    router.register("ccf-proposals", ProposedMarksViewSet, basename="ccf-proposal")
