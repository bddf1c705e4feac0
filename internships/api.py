"""REST API of placements: offers, applications, placements with their agreement
versions and signatures, the referent's visits. Every write goes through a service."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from companies.models import Sector
from courses.models import Competency
from school.api import ListRetrieveCreateUpdateViewSet, call_service
from school.filters import ScopedFilterSet
from school.http import client_ip
from school.models import Learner, Role, User, role_of

from . import services
from .models import (
    AgreementVersion,
    Application,
    Placement,
    PlacementOffer,
    Signature,
    Visit,
)
from .serializers import (
    ApplicationSerializer,
    OfferSerializer,
    PaperSignatureSerializer,
    PlacementSerializer,
    ReasonSerializer,
    SignSerializer,
    VisitSerializer,
)

PARTNER_OR_STAFF = {Role.STAFF, Role.PARTNER}


class OfferFilter(ScopedFilterSet):
    sector = django_filters.ChoiceFilter(
        field_name="company__sector", choices=Sector.choices, label=_("secteur")
    )
    city = django_filters.CharFilter(lookup_expr="icontains", label=_("commune"))
    competency = django_filters.ModelChoiceFilter(
        field_name="competencies", queryset=Competency.objects.all(), label=_("compétence")
    )
    available_from = django_filters.DateFilter(
        field_name="end_date", lookup_expr="gte", label=_("période : à partir du")
    )
    available_until = django_filters.DateFilter(
        field_name="start_date", lookup_expr="lte", label=_("période : jusqu'au")
    )

    class Meta:
        model = PlacementOffer
        fields = ["company", "status", "sector", "city", "competency"]


class OfferViewSet(ListRetrieveCreateUpdateViewSet):
    """Partners publish offers for their company; learners read the published ones."""

    serializer_class = OfferSerializer
    filterset_class = OfferFilter
    search_fields = ["title", "activities", "company__legal_name", "city"]
    ordering_fields = ["start_date", "title"]
    write_roles = dict.fromkeys(
        ("create", "update", "partial_update", "publish", "close"), PARTNER_OR_STAFF
    )

    def get_queryset(self) -> QuerySet[PlacementOffer]:
        return (
            PlacementOffer.objects.visible_to(self.request.user)
            .select_related("company")
            .prefetch_related("competencies")
            .with_places_taken()
            .order_by("start_date", "title", "pk")
        )

    def perform_create(self, serializer: Any) -> None:
        # The answer shows the new offer as a list would: no place taken yet.
        serializer.save(created_by=self.request.user).places_taken = 0

    def perform_update(self, serializer: Any) -> None:
        offer = serializer.instance
        with transaction.atomic():
            places = serializer.validated_data.get("places", offer.places)
            call_service(services.offer_places_hold, offer=offer, places=places)
            serializer.save()

    def _answer(self, offer: PlacementOffer) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=offer.pk)).data)

    @extend_schema(request=None, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(call_service(services.offer_publish, offer=self.get_object()))

    @extend_schema(request=None, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(call_service(services.offer_close, offer=self.get_object()))


class ApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """A learner applies and may withdraw; the company's partners (or staff) review,
    accept within the offer's places, or reject with a reason."""

    serializer_class = ApplicationSerializer
    filterset_fields = ["offer", "learner", "status"]
    ordering_fields = ["created_at"]
    write_roles = {
        "create": {Role.STAFF, Role.LEARNER},
        "withdraw": {Role.STAFF, Role.LEARNER},
        "review": PARTNER_OR_STAFF,
        "accept": PARTNER_OR_STAFF,
        "reject": PARTNER_OR_STAFF,
    }

    def get_queryset(self) -> QuerySet[Application]:
        return (
            Application.objects.visible_to(self.request.user)
            .select_related("offer", "learner", "placement")
            .order_by("-created_at", "-pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        learner = data.validated_data.get("learner") or self._own_learner()
        application = call_service(
            services.application_submit,
            offer=data.validated_data["offer"],
            learner=learner,
            message=data.validated_data.get("message", ""),
        )
        return self._answer(application, status.HTTP_201_CREATED)

    def _own_learner(self) -> Learner:
        learner = Learner.objects.filter(user=cast(User, self.request.user)).first()
        if learner is None:
            raise PermissionDenied(_("Indiquez l'apprenant qui candidate."))
        return learner

    def _answer(self, application: Application, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=application.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(request=None, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        return self._answer(call_service(services.application_withdraw, application=application))

    @extend_schema(request=None, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        user = cast(User, request.user)
        return self._answer(
            call_service(services.application_review, application=application, by=user)
        )

    @extend_schema(request=None, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        user = cast(User, request.user)
        call_service(services.application_accept, application=application, by=user)
        return self._answer(application)

    @extend_schema(request=ReasonSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = cast(User, request.user)
        return self._answer(
            call_service(
                services.application_reject,
                application=application,
                reason=data.validated_data["reason"],
                by=user,
            )
        )


class PlacementFilter(ScopedFilterSet):
    class Meta:
        model = Placement
        fields = ["learner", "company", "status"]


class PlacementViewSet(ListRetrieveCreateUpdateViewSet):
    """Placements and their agreement. Writing goes through ``services.placement_save``
    (working-time rules for minors, overlaps with sessions and other placements); a
    change voids a version waiting for signatures; a signed one needs ``amend``."""

    serializer_class = PlacementSerializer
    filterset_class = PlacementFilter
    ordering_fields = ["start_date"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    write_roles = {
        "create": {Role.STAFF},
        "update": {Role.STAFF, Role.PARTNER, Role.TRAINER},
        "partial_update": {Role.STAFF, Role.PARTNER, Role.TRAINER},
        "ready": {Role.STAFF},
        "amend": {Role.STAFF},
        "cancel": {Role.STAFF},
        "paper_signature": {Role.STAFF},
        "request_evaluation": {Role.STAFF},
        "sign": set(Role.values),
    }

    def get_queryset(self) -> QuerySet[Placement]:
        return (
            Placement.objects.visible_to(self.request.user)
            .select_related("learner", "company", "evaluation")
            .prefetch_related(
                "slots",
                "competencies",
                "absences",
                "evaluation__lines",
                Prefetch(
                    "versions",
                    AgreementVersion.objects.select_related("document").prefetch_related(
                        "signatures"
                    ),
                ),
            )
            .order_by("-start_date", "pk")
        )

    def _save(self, serializer: Any, placement: Placement) -> Placement:
        data = dict(serializer.validated_data)
        slots = data.pop("slots", None)
        competencies = data.pop("competencies", None)
        for name, value in data.items():
            setattr(placement, name, value)
        if slots is None:
            slots = [
                {"weekday": s.weekday, "start_time": s.start_time, "end_time": s.end_time}
                for s in placement.slots.all()
            ]
        return cast(
            Placement,
            call_service(
                services.placement_save,
                placement=placement,
                slots=slots,
                competencies=competencies,
                by=self.request.user,
            ),
        )

    def _answer(self, placement: Placement, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=placement.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(self._save(data, Placement()), status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        placement = self.get_object()
        data = self.get_serializer(
            placement, data=request.data, partial=kwargs.get("partial", False)
        )
        data.is_valid(raise_exception=True)
        return self._answer(self._save(data, placement))

    @extend_schema(request=None, responses=PlacementSerializer)
    @action(detail=True, methods=["post"])
    def ready(self, request: Request, pk: str | None = None) -> Response:
        """« Prête à signer »: freeze a version, its PDF and its signers."""
        placement = self.get_object()
        call_service(services.placement_freeze, placement=placement, by=request.user)
        return self._answer(placement)

    @extend_schema(request=None, responses=PlacementSerializer)
    @action(detail=True, methods=["post"])
    def amend(self, request: Request, pk: str | None = None) -> Response:
        placement = self.get_object()
        call_service(services.placement_amend, placement=placement, by=request.user)
        return self._answer(placement)

    @extend_schema(request=ReasonSerializer, responses=PlacementSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        placement = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call_service(
            services.placement_cancel,
            placement=placement,
            reason=data.validated_data["reason"],
            by=request.user,
        )
        return self._answer(placement)

    @extend_schema(request=None, responses=PlacementSerializer)
    @action(detail=True, methods=["post"], url_path="request-evaluation")
    def request_evaluation(self, request: Request, pk: str | None = None) -> Response:
        """E-mail the tutor a new single-use evaluation link (the previous one dies)."""
        placement = self.get_object()
        call_service(services.evaluation_request, placement=placement)
        return self._answer(placement)

    def _block(self, placement: Placement, signature_id: int) -> Signature:
        block = Signature.objects.filter(pk=signature_id, version__placement=placement).first()
        if block is None:
            raise Http404
        return block

    @extend_schema(request=SignSerializer, responses=PlacementSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str | None = None) -> Response:
        """Sign one's own block of the version waiting for signatures."""
        # Who signs is the block's rule (``services.may_sign``), not who may edit the
        # placement: a learner or a guardian signs what they may not change.
        # DRF's lookup: an id that is not a number is « Non trouvé. », not a 500.
        placement = get_object_or_404(self.get_queryset(), pk=pk)
        data = SignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        block = self._block(placement, data.validated_data["signature"])
        call_service(
            services.signature_sign,
            signature=block,
            by=request.user,
            ip_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return self._answer(placement)

    @extend_schema(
        request={"multipart/form-data": PaperSignatureSerializer}, responses=PlacementSerializer
    )
    @action(detail=True, methods=["post"], url_path="paper-signature")
    def paper_signature(self, request: Request, pk: str | None = None) -> Response:
        """Record a block signed on paper, with the scanned signed copy."""
        placement = self.get_object()
        data = PaperSignatureSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        block = self._block(placement, data.validated_data["signature"])
        call_service(
            services.signature_record_paper,
            signature=block,
            scan=data.validated_data["scan"],
            by=request.user,
        )
        return self._answer(placement)


class VisitViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The referent's follow-up of a placement: visits and calls."""

    serializer_class = VisitSerializer
    filterset_fields = ["placement", "kind"]
    write_roles = {"create": {Role.STAFF, Role.TRAINER}}

    def get_queryset(self) -> QuerySet[Visit]:
        if role_of(self.request.user) not in (Role.STAFF, Role.TRAINER):
            return Visit.objects.none()
        return Visit.objects.filter(
            placement__in=Placement.objects.visible_to(self.request.user)
        ).order_by("-date", "-pk")

    def perform_create(self, serializer: Any) -> None:
        placement = serializer.validated_data["placement"]
        if not placement.can_be_changed_by(self.request.user):
            raise PermissionDenied(_("Seul l'enseignant référent suit ce stage."))
        serializer.save(by=self.request.user)


def register_endpoints(router: BaseRouter) -> None:
    router.register("offers", OfferViewSet, basename="offer")
    router.register("applications", ApplicationViewSet, basename="application")
    router.register("placements", PlacementViewSet, basename="placement")
    router.register("visits", VisitViewSet, basename="visit")
