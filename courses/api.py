"""REST API of the timetable: frameworks, courses, rooms and machines, sessions and
their series, attendance, machine authorisations, and the user's own schedule."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, cast

import django_filters
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from school.api import FirstRendererNegotiation, ListRetrieveCreateUpdateViewSet, call_service
from school.filters import ScopedFilterSet
from school.models import Learner, Role, User, role_of

from . import absences, attendance, orders, services
from .models import (
    Attendance,
    ClosurePeriod,
    Competency,
    CompetencyBlock,
    CompetencyEvidence,
    Course,
    Derogation,
    ExcuseNote,
    Inspection,
    Machine,
    MedicalFitness,
    OrderEvent,
    Room,
    SafetyTraining,
    Session,
    TimeLog,
    WorkshopOrder,
)
from .portfolio import portfolio_of
from .serializers import (
    AttendanceMarkSerializer,
    AttendanceSerializer,
    ClosurePeriodSerializer,
    CompetencyBlockSerializer,
    CompetencySerializer,
    CourseSerializer,
    DecisionSerializer,
    DerogationSerializer,
    EvidenceSerializer,
    ExcuseNoteSerializer,
    HoursQuerySerializer,
    HoursSerializer,
    InspectionWriteSerializer,
    MachineSerializer,
    MedicalFitnessSerializer,
    OrderAcceptSerializer,
    OrderAdvanceSerializer,
    OrderDeclineSerializer,
    OrderPlanSerializer,
    OrderSerializer,
    PortfolioSerializer,
    RoomSerializer,
    SafetyTrainingSerializer,
    SessionSerializer,
    SessionSeriesResultSerializer,
    SessionSeriesWriteSerializer,
    SessionWriteSerializer,
    TimeLogSerializer,
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


# ---------------------------------------------------------------------------------------
# Workshop orders (« faire pour apprendre »), time logs, evidence, portfolios
# ---------------------------------------------------------------------------------------


class OrderFilter(ScopedFilterSet):
    class Meta:
        model = WorkshopOrder
        fields = ["company", "status", "supervisor"]


class OrderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """A company's orders to the workshop. Partners place them (multipart, with the
    drawing) and follow them; staff review, accept or decline, plan; the supervising
    trainer moves production, records and countersigns the inspection."""

    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    search_fields = ["reference", "description", "company__legal_name"]
    ordering_fields = ["created_at", "requested_date"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    write_roles = {
        "create": {Role.STAFF, Role.PARTNER},
        "review": {Role.STAFF},
        "accept": {Role.STAFF},
        "decline": {Role.STAFF},
        "plan": {Role.STAFF},
        "advance": {Role.STAFF, Role.TRAINER},
        "inspection": {Role.STAFF, Role.TRAINER},
        "countersign": {Role.STAFF, Role.TRAINER},
    }

    def get_queryset(self) -> QuerySet[WorkshopOrder]:
        return (
            WorkshopOrder.objects.visible_to(self.request.user)
            .select_related("company", "inspection")
            .prefetch_related(
                Prefetch("events", OrderEvent.objects.select_related("by")),
                "sessions",
                "learners",
                "competencies",
                "inspection__characteristics__measurements",
            )
            .order_by("-created_at", "-pk")
        )

    def _answer(self, order: WorkshopOrder, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data, status=code)

    def _user(self) -> User:
        return cast(User, self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        order = call_service(orders.order_place, by=self._user(), **fields)
        return self._answer(order, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        order = call_service(orders.order_review, order=self.get_object(), by=self._user())
        return self._answer(order)

    @extend_schema(request=OrderAcceptSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()  # first: an order out of scope is 404, whatever the body
        data = OrderAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = call_service(
            orders.order_accept, order=order, by=self._user(), **data.validated_data
        )
        return self._answer(order)

    @extend_schema(request=OrderDeclineSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        data = OrderDeclineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = call_service(
            orders.order_decline,
            order=order,
            by=self._user(),
            reason=data.validated_data["reason"],
        )
        return self._answer(order)

    @extend_schema(request=OrderPlanSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def plan(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        data = OrderPlanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        planned = call_service(
            orders.order_plan,
            order=order,
            by=self._user(),
            sessions=data.validated_data["sessions"],
            learners=data.validated_data["learners"],
            competencies=data.validated_data.get("competencies"),
        )
        return self._answer(planned)

    @extend_schema(request=OrderAdvanceSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def advance(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        data = OrderAdvanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = call_service(
            orders.order_advance, order=order, by=self._user(), **data.validated_data
        )
        return self._answer(order)

    @extend_schema(request=InspectionWriteSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def inspection(self, request: Request, pk: str | None = None) -> Response:
        """Record (or record again, until countersigned) the measures on sampled parts."""
        order = self.get_object()
        data = InspectionWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call_service(orders.inspection_record, order=order, by=self._user(), **data.validated_data)
        return self._answer(order)

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def countersign(self, request: Request, pk: str | None = None) -> Response:
        """The supervising trainer countersigns: the rapport de contrôle is issued."""
        order = self.get_object()
        inspection = get_object_or_404(Inspection, order=order)
        call_service(orders.inspection_countersign, inspection=inspection, by=self._user())
        return self._answer(order)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)}
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FirstRendererNegotiation)
    def drawing(self, request: Request, pk: str | None = None) -> FileResponse:
        """The drawing as the company sent it (never a public media URL)."""
        order = self.get_object()
        return FileResponse(
            order.drawing.open("rb"), as_attachment=True, filename=Path(order.drawing.name).name
        )


class TimeLogViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Hours on an order during a session: the learner's own, or the trainer's for them."""

    serializer_class = TimeLogSerializer
    filterset_fields = ["order", "learner", "session", "operation"]
    write_roles = {"create": {Role.STAFF, Role.TRAINER, Role.LEARNER}}

    def get_queryset(self) -> QuerySet[TimeLog]:
        return (
            TimeLog.objects.visible_to(self.request.user)
            .select_related("logged_by")
            .order_by("-created_at", "-pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        learner = (
            fields.pop("learner", None)
            or Learner.objects.filter(user=cast(User, request.user)).first()
        )
        if learner is None:
            raise serializers.ValidationError({"learner": [_("Indiquez l'apprenant.")]})
        log = call_service(
            orders.time_log_record, learner=learner, by=cast(User, request.user), **fields
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=log.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class EvidenceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The evidence table: every observation of a competency. Trainers add their own
    assessments here; orders, inspections and tutor evaluations add theirs."""

    serializer_class = EvidenceSerializer
    filterset_fields = ["learner", "competency", "source", "level"]
    ordering_fields = ["date"]
    write_roles = {"create": {Role.STAFF, Role.TRAINER}}

    def get_queryset(self) -> QuerySet[CompetencyEvidence]:
        return CompetencyEvidence.objects.visible_to(self.request.user).order_by("-date", "-pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        evidence = call_service(
            orders.assessment_record, by=cast(User, request.user), **data.validated_data
        )
        return Response(self.get_serializer(evidence).data, status=status.HTTP_201_CREATED)


class ExcuseNoteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Excuse notes (justificatifs d'absence): a guardian sends one for their child (an
    adult learner for themselves), with a scan if they wish; the staff ``accept`` it
    (the days' absences become excused) or ``refuse`` it, saying why."""

    serializer_class = ExcuseNoteSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filterset_fields = ["learner", "status"]
    ordering_fields = ["sent_at"]
    write_roles = {
        "create": {Role.STAFF, Role.GUARDIAN, Role.LEARNER},
        "accept": {Role.STAFF},
        "refuse": {Role.STAFF},
    }

    def get_queryset(self) -> QuerySet[ExcuseNote]:
        return (
            ExcuseNote.objects.visible_to(self.request.user)
            .select_related("learner")
            .order_by("-sent_at", "-pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = call_service(
            absences.excuse_send, by=cast(User, request.user), **data.validated_data
        )
        return Response(self.get_serializer(note).data, status=status.HTTP_201_CREATED)

    def _decide(self, request: Request, *, accept: bool) -> Response:
        note = self.get_object()  # first: out of scope is 404, whatever the body
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = call_service(
            absences.excuse_decide,
            note=note,
            accept=accept,
            by=cast(User, request.user),
            decision_note=data.validated_data.get("decision_note", ""),
        )
        return Response(self.get_serializer(note).data)

    @extend_schema(request=DecisionSerializer, responses=ExcuseNoteSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, accept=True)

    @extend_schema(request=DecisionSerializer, responses=ExcuseNoteSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, accept=False)


class PortfolioViewSet(viewsets.GenericViewSet):
    """A learner's portfolio by their id: each competency of the programme, its level,
    its evidence and dates, and the gaps."""

    serializer_class = PortfolioSerializer

    def get_queryset(self) -> QuerySet[Learner]:
        return Learner.objects.visible_to(self.request.user)

    def retrieve(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        # ``kwargs``: the router's ``.json`` suffix route passes ``format``.
        learner = self.get_object()
        return Response(PortfolioSerializer(portfolio_of(learner)).data)


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
    router.register("orders", OrderViewSet, basename="order")
    router.register("time-logs", TimeLogViewSet, basename="time-log")
    router.register("evidence", EvidenceViewSet, basename="evidence")
    router.register("portfolios", PortfolioViewSet, basename="portfolio")
    router.register("excuse-notes", ExcuseNoteViewSet, basename="excuse-note")
