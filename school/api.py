"""REST API of the school: token login, the current user, people and cohorts."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from . import services
from .filters import ScopedFilterSet
from .models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Guardian,
    Learner,
    Programme,
    User,
)
from .serializers import (
    CohortSerializer,
    EnrolmentSerializer,
    EnrolmentStatusUpdateSerializer,
    GuardianSerializer,
    LearnerSerializer,
    MeSerializer,
    ProgrammeSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


class ListRetrieveCreateUpdateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Records here are never deleted through the API: they end (a status, a date)."""


class ObtainTokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description=_("E-mail ou mot de passe incorrect.")),
            429: OpenApiResponse(description=_("Compte verrouillé après trop d'échecs.")),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        credentials = TokenRequestSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        # django-axes counts failures and refuses locked accounts (its middleware then
        # answers 429 through school.views.lockout); it needs Django's own request.
        user = authenticate(
            request._request,
            username=credentials.validated_data["email"],
            password=credentials.validated_data["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": [_("E-mail ou mot de passe incorrect.")]}
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        # IsAuthenticated, the API's default permission, lets no anonymous visitor this far.
        signed_in = cast(User, request.user)
        user = (
            User.objects.select_related("learner", "contact")
            .prefetch_related("guardianships")
            .get(pk=signed_in.pk)
        )
        return Response(MeSerializer(user, context={"request": request}).data)


class ProgrammeViewSet(ListRetrieveCreateUpdateViewSet):
    """Programmes are the school's public catalogue: every signed-in user reads them."""

    queryset = Programme.objects.all()
    serializer_class = ProgrammeSerializer
    filterset_fields = ["level"]
    search_fields = ["title", "code", "rncp_code"]
    ordering_fields = ["title", "level"]


class CohortFilter(ScopedFilterSet):
    # A plain number, not a choice among users: a choice would tell who is a trainer.
    head_trainer = django_filters.NumberFilter(label=_("formateur référent"))

    class Meta:
        model = Cohort
        fields = ["programme", "head_trainer"]


class CohortViewSet(ListRetrieveCreateUpdateViewSet):
    serializer_class = CohortSerializer
    filterset_class = CohortFilter
    search_fields = ["name"]
    ordering_fields = ["name", "start_date"]

    def get_queryset(self) -> QuerySet[Cohort]:
        return (
            Cohort.objects.visible_to(self.request.user)
            .annotate(
                active_learners=Count(
                    "enrolments", filter=Q(enrolments__status=EnrolmentStatus.ACTIVE)
                )
            )
            .prefetch_related("trainers")
            .order_by("-start_date", "name")
        )


class LearnerFilter(ScopedFilterSet):
    cohort = django_filters.NumberFilter(field_name="enrolments__cohort", label=_("promotion"))
    born_after = django_filters.DateFilter(field_name="birth_date", lookup_expr="gte")
    born_before = django_filters.DateFilter(field_name="birth_date", lookup_expr="lte")

    class Meta:
        model = Learner
        fields = ["cohort"]


class LearnerViewSet(ListRetrieveCreateUpdateViewSet):
    serializer_class = LearnerSerializer
    filterset_class = LearnerFilter
    search_fields = ["first_name", "last_name", "email", "ine"]
    ordering_fields = ["last_name", "birth_date"]

    def get_queryset(self) -> QuerySet[Learner]:
        return Learner.objects.visible_to(self.request.user)


class GuardianViewSet(ListRetrieveCreateUpdateViewSet):
    serializer_class = GuardianSerializer
    filterset_fields = ["learner"]
    search_fields = ["first_name", "last_name", "email"]

    def get_queryset(self) -> QuerySet[Guardian]:
        return Guardian.objects.visible_to(self.request.user)


class EnrolmentViewSet(ListRetrieveCreateUpdateViewSet):
    """Creating enrols a learner; updating changes the status (dated, with a reason)."""

    filterset_fields = ["cohort", "learner", "status"]
    ordering_fields = ["start_date"]

    def get_queryset(self) -> QuerySet[Enrolment]:
        return Enrolment.objects.visible_to(self.request.user).prefetch_related(
            Prefetch(
                "status_changes",
                queryset=EnrolmentStatusChange.objects.select_related("changed_by"),
            )
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action in ("update", "partial_update"):
            return EnrolmentStatusUpdateSerializer
        return EnrolmentSerializer

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = call_service(
            services.enrolment_create,
            by=self.request.user,
            **serializer.validated_data,
        )

    @extend_schema(request=EnrolmentStatusUpdateSerializer, responses=EnrolmentSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        enrolment = self.get_object()
        change = EnrolmentStatusUpdateSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        call_service(
            services.enrolment_change_status,
            enrolment=enrolment,
            by=request.user,
            **change.validated_data,
        )
        fresh = self.get_queryset().get(pk=enrolment.pk)
        return Response(EnrolmentSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=EnrolmentStatusUpdateSerializer, responses=EnrolmentSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)


def call_service(service: Any, **kwargs: Any) -> Any:
    """Call a service; its ValidationError becomes the API's 400 with the same messages."""
    try:
        return service(**kwargs)
    except DjangoValidationError as error:
        raise serializers.ValidationError(serializers.as_serializer_error(error)) from error


# The one API router: higher apps register their endpoints on it from their
# AppConfig.ready(), so school never imports them (DESIGN.md, "Layout").
router = DefaultRouter()
router.register("programmes", ProgrammeViewSet, basename="programme")
router.register("cohorts", CohortViewSet, basename="cohort")
router.register("learners", LearnerViewSet, basename="learner")
router.register("guardians", GuardianViewSet, basename="guardian")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")
