"""REST API of the timetable: frameworks, courses, rooms and machines, sessions and
their series, attendance, machine authorisations, and the user's own schedule."""

from __future__ import annotations

import datetime
from typing import Any, cast

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from school.api import ListRetrieveCreateUpdateViewSet, call_service
from school.filters import ScopedFilterSet
from school.models import Learner, Role, User, role_of

from . import attendance, services
from .models import (
    Attendance,
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
from .serializers import (
    AttendanceMarkSerializer,
    AttendanceSerializer,
    ClosurePeriodSerializer,
    CompetencyBlockSerializer,
    CompetencySerializer,
    CourseSerializer,
    DerogationSerializer,
    HoursQuerySerializer,
    HoursSerializer,
    MachineSerializer,
    MedicalFitnessSerializer,
    RoomSerializer,
    SafetyTrainingSerializer,
    SessionSerializer,
    SessionSeriesResultSerializer,
    SessionSeriesWriteSerializer,
    SessionWriteSerializer,
)


class CompetencyBlockViewSet(ListRetrieveCreateUpdateViewSet):
    queryset = CompetencyBlock.objects.all()
    serializer_class = CompetencyBlockSerializer
    filterset_fields = ["programme"]
    search_fields = ["code", "title"]


class CompetencyViewSet(ListRetrieveCreateUpdateViewSet):
    """The programmes' frameworks are public to every signed-in user, like programmes."""

    queryset = Competency.objects.select_related("block")
    serializer_class = CompetencySerializer
    filterset_fields = {"block": ["exact"], "block__programme": ["exact"]}
    search_fields = ["code", "title"]


class CourseViewSet(ListRetrieveCreateUpdateViewSet):
    queryset = Course.objects.prefetch_related("competencies")
    serializer_class = CourseSerializer
    filterset_fields = ["programme", "kind"]
    search_fields = ["code", "title"]


class RoomViewSet(ListRetrieveCreateUpdateViewSet):
    queryset = Room.objects.all()
    serializer_class = RoomSerializer
    filterset_fields = ["kind"]
    search_fields = ["name"]


class MachineViewSet(ListRetrieveCreateUpdateViewSet):
    queryset = Machine.objects.all()
    serializer_class = MachineSerializer
    filterset_fields = ["kind", "room", "is_active"]
    search_fields = ["name"]


class ClosurePeriodViewSet(ListRetrieveCreateUpdateViewSet):
    queryset = ClosurePeriod.objects.all()
    serializer_class = ClosurePeriodSerializer
    filterset_fields = ["kind"]


class SessionFilter(ScopedFilterSet):
    # The window of a schedule: sessions overlapping [start, end).
    start = django_filters.IsoDateTimeFilter(field_name="end", lookup_expr="gt")
    end = django_filters.IsoDateTimeFilter(field_name="start", lookup_expr="lt")
    # Plain numbers: every timetable is open to trainers, whether or not they teach it.
    trainer = django_filters.NumberFilter()
    cohort = django_filters.NumberFilter()

    class Meta:
        model = Session
        fields = ["start", "end", "cohort", "trainer", "room", "course", "status"]


def _sessions_for_listing(queryset: QuerySet[Session]) -> QuerySet[Session]:
    return queryset.select_related("course", "cohort", "trainer", "room").prefetch_related(
        "learners", "machines"
    )


class SessionViewSet(ListRetrieveCreateUpdateViewSet):
    """Planning goes through the scheduling services: one conflict check for all."""

    filterset_class = SessionFilter
    ordering_fields = ["start"]

    def get_queryset(self) -> QuerySet[Session]:
        return _sessions_for_listing(Session.objects.visible_to(self.request.user))

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action in ("create", "update", "partial_update"):
            return SessionWriteSerializer
        return SessionSerializer

    def _read(self, session: Session, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=session.pk)
        return Response(
            SessionSerializer(fresh, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(request=SessionWriteSerializer, responses={201: SessionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = SessionWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = call_service(services.session_create, by=request.user, **data.validated_data)
        return self._read(session, status.HTTP_201_CREATED)

    @extend_schema(request=SessionWriteSerializer, responses=SessionSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        partial = kwargs.get("partial", False)
        data = SessionWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if changes.pop("cohort", session.cohort) != session.cohort:
            raise serializers.ValidationError(
                {
                    "cohort": [
                        _("Une séance ne change pas de promotion : annulez-la et replanifiez.")
                    ]
                }
            )
        call_service(services.session_update, session=session, by=request.user, **changes)
        return self._read(session)

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        session = self.get_object()
        call_service(services.session_cancel, session=session, by=request.user)
        return self._read(session)

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"], url_path="validate-attendance")
    def validate_attendance(self, request: Request, pk: str | None = None) -> Response:
        session = self.get_object()
        call_service(attendance.attendance_validate, session=session, by=request.user)
        return self._read(session)

    write_roles = {
        "create": {Role.STAFF},
        "update": {Role.STAFF},
        "partial_update": {Role.STAFF},
        "cancel": {Role.STAFF},
        # Whether this trainer runs this session is the service's rule.
        "validate_attendance": {Role.STAFF, Role.TRAINER},
    }


class SessionSeriesViewSet(viewsets.GenericViewSet):
    """A weekly series, all or nothing: every conflict is reported at once."""

    serializer_class = SessionSeriesWriteSerializer

    @extend_schema(
        request=SessionSeriesWriteSerializer, responses={201: SessionSeriesResultSerializer}
    )
    def create(self, request: Request) -> Response:
        data = SessionSeriesWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        series = call_service(services.series_create, by=request.user, **data.validated_data)
        sessions = list(series.sessions.order_by("start").values_list("pk", flat=True))
        return Response({"series": series.pk, "sessions": sessions}, status=status.HTTP_201_CREATED)


class AttendanceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """A line of the roll call. Marking (create) is the session trainer's or staff's;
    a learner signs their own presence with ``sign``."""

    filterset_fields = ["session", "learner", "status"]
    write_roles = {"create": {Role.STAFF, Role.TRAINER}, "sign": {Role.LEARNER}}

    def get_queryset(self) -> QuerySet[Attendance]:
        return Attendance.objects.visible_to(self.request.user).select_related("learner")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return AttendanceMarkSerializer
        return AttendanceSerializer

    @extend_schema(request=AttendanceMarkSerializer, responses={201: AttendanceSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = AttendanceMarkSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        line = call_service(attendance.attendance_mark, by=request.user, **data.validated_data)
        return Response(AttendanceSerializer(line).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[HoursQuerySerializer], responses=HoursSerializer)
    @action(detail=False, methods=["get"])
    def hours(self, request: Request) -> Response:
        """A learner's hours over a period (and a course): scheduled, attended, absences."""
        query = HoursQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        learner = get_object_or_404(
            Learner.objects.visible_to(request.user), pk=query.validated_data["learner"]
        )
        course_id = query.validated_data.get("course")
        hours = attendance.hours_attended(
            learner=learner,
            course=get_object_or_404(Course, pk=course_id) if course_id else None,
            start=query.validated_data.get("start"),
            end=query.validated_data.get("end"),
        )
        return Response(HoursSerializer(hours).data)

    @extend_schema(request=None, responses=AttendanceSerializer(many=True))
    @action(detail=False, methods=["post"])
    def sign(self, request: Request) -> Response:
        learner = Learner.objects.filter(user=cast(User, request.user)).first()
        if learner is None:
            raise serializers.ValidationError(_("Ce compte n'est lié à aucun apprenant."))
        lines = call_service(attendance.attendance_sign, learner=learner)
        return Response(AttendanceSerializer(lines, many=True).data)


class StaffOnlyViewSet(ListRetrieveCreateUpdateViewSet):
    """Authorisations hold health data about minors: the school's staff only."""

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        if role_of(self.request.user) != Role.STAFF:
            return queryset.none()
        return queryset


class DerogationViewSet(StaffOnlyViewSet):
    queryset = Derogation.objects.all()
    serializer_class = DerogationSerializer


class MedicalFitnessViewSet(StaffOnlyViewSet):
    queryset = MedicalFitness.objects.all()
    serializer_class = MedicalFitnessSerializer
    filterset_fields = ["learner"]


class SafetyTrainingViewSet(StaffOnlyViewSet):
    queryset = SafetyTraining.objects.all()
    serializer_class = SafetyTrainingSerializer
    filterset_fields = ["learner", "machine_kind"]


WINDOW = [
    OpenApiParameter("start", datetime.datetime, description=_("début de la fenêtre (ISO 8601)")),
    OpenApiParameter("end", datetime.datetime, description=_("fin de la fenêtre (ISO 8601)")),
]


class MyScheduleViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The user's own sessions: taught (trainer), attended (learner), their child's (guardian)."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter

    def get_queryset(self) -> QuerySet[Session]:
        user = self.request.user
        role = role_of(user)
        if role == Role.TRAINER and user.is_authenticated:
            sessions = Session.objects.filter(trainer=user)
        elif role in (Role.LEARNER, Role.GUARDIAN):
            sessions = Session.objects.visible_to(user)
        else:
            sessions = Session.objects.none()
        return _sessions_for_listing(sessions).order_by("start", "pk")

    @extend_schema(parameters=WINDOW)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


def register_endpoints(router: BaseRouter) -> None:
    router.register("competency-blocks", CompetencyBlockViewSet, basename="competency-block")
    router.register("competencies", CompetencyViewSet, basename="competency")
    router.register("courses", CourseViewSet, basename="course")
    router.register("rooms", RoomViewSet, basename="room")
    router.register("machines", MachineViewSet, basename="machine")
    router.register("closures", ClosurePeriodViewSet, basename="closure")
    router.register("sessions", SessionViewSet, basename="session")
    router.register("session-series", SessionSeriesViewSet, basename="session-series")
    router.register("attendance", AttendanceViewSet, basename="attendance")
    router.register("derogations", DerogationViewSet, basename="derogation")
    router.register("medical-fitnesses", MedicalFitnessViewSet, basename="medical-fitness")
    router.register("safety-trainings", SafetyTrainingViewSet, basename="safety-training")
    router.register("me/schedule", MyScheduleViewSet, basename="my-schedule")
