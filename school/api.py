"""REST API of the school: token login, the current user, people, cohorts, documents."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import batches, services, two_factor
from .authentication import ExpiringTokenAuthentication, has_expired
from .filters import ScopedFilterSet
from .models import (
    Cohort,
    DocumentBatch,
    DocumentBatchItem,
    Enrolment,
    EnrolmentStatusChange,
    Guardian,
    IssuedDocument,
    Learner,
    Programme,
    Role,
    User,
    role_of,
)
from .serializers import (
    CohortSerializer,
    DocumentBatchCreateSerializer,
    DocumentBatchSerializer,
    DocumentIssueSerializer,
    DocumentReissueSerializer,
    DocumentRevokeSerializer,
    EnrolmentSerializer,
    EnrolmentStatusUpdateSerializer,
    GuardianSerializer,
    IssuedDocumentSerializer,
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


class FileErased(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = _(
        "Ce PDF a été effacé avec les données personnelles de l'apprenant ; le registre "
        "garde son numéro et son empreinte SHA-256."
    )
    default_code = "erased"


class ObtainTokenView(APIView):
    """Hand out a token for an e-mail and password (and, for staff and trainers who have
    enrolled a second factor, the code of the moment); DELETE ends the caller's token."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_scope = "token"

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
        if two_factor.token_needs_code(user):
            code = credentials.validated_data.get("otp", "")
            if not code or two_factor.code_is_valid(user, code) is None:
                raise serializers.ValidationError(
                    {"otp": [_("Code de double authentification manquant ou incorrect.")]}
                )
        token, _created = Token.objects.get_or_create(user=user)
        if has_expired(token):
            token.delete()  # expired: a new key, never the old one revived
            token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class RevokeTokenView(APIView):
    """End the caller's token (the API's « se déconnecter »): the key stops working at once."""

    authentication_classes = [ExpiringTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="auth_logout", request=None, responses={204: OpenApiResponse()})
    def post(self, request: Request) -> Response:
        Token.objects.filter(user=cast(User, request.user)).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


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
            .with_active_learners()
            .prefetch_related("trainers")
            .order_by("-start_date", "name")
        )

    def perform_create(self, serializer: serializers.BaseSerializer[Cohort]) -> None:
        # The answer shows the new cohort as a list would: nobody in training yet.
        serializer.save().active_learners = 0


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


class FirstRendererNegotiation(BaseContentNegotiation):
    """Answer the PDF whatever the client accepts, and errors in the API's JSON: a client
    asking for ``Accept: application/pdf`` must not get a 406 instead of its file."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0]

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


def download_name(document: IssuedDocument) -> str:
    """« attestation-assiduite-MT-2026-000012.pdf »: what the document is, then its number."""
    return f"{document.kind.replace('_', '-')}-{document.number}.pdf"


# The route takes digits only (see lookup_value_regex): still an integer id for clients.
DOCUMENT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


@extend_schema_view(retrieve=extend_schema(parameters=[DOCUMENT_ID]))
class DocumentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The register of issued documents. An entry is never edited nor deleted: it is
    issued, reissued (a new number supersedes it) or revoked (with a reason)."""

    serializer_class = IssuedDocumentSerializer
    filterset_fields = ["kind", "status", "learner", "year"]
    search_fields = ["number", "subject"]
    ordering_fields = ["issued_at", "number"]
    # Ids only: the paths under documents/ that are not an id stay free for other routes.
    lookup_value_regex = "[0-9]+"
    write_roles = {"create": {Role.STAFF}, "reissue": {Role.STAFF}, "revoke": {Role.STAFF}}

    def get_queryset(self) -> QuerySet[IssuedDocument]:
        return IssuedDocument.objects.visible_to(self.request.user)

    def _read(self, document: IssuedDocument, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=document.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(request=DocumentIssueSerializer, responses={201: IssuedDocumentSerializer})
    def create(self, request: Request) -> Response:
        data = DocumentIssueSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        document = call_service(services.document_issue, by=request.user, **data.validated_data)
        return self._read(document, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[DOCUMENT_ID],
        request=DocumentReissueSerializer,
        responses={201: IssuedDocumentSerializer},
    )
    @action(detail=True, methods=["post"])
    def reissue(self, request: Request, pk: str | None = None) -> Response:
        """A new number for the same kind; this entry becomes « remplacé » by it."""
        document = self.get_object()
        data = DocumentReissueSerializer(
            data=request.data, context={"request": request, "kind": document.kind}
        )
        data.is_valid(raise_exception=True)
        new = call_service(
            services.document_reissue, document=document, by=request.user, **data.validated_data
        )
        return self._read(new, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[DOCUMENT_ID],
        request=DocumentRevokeSerializer,
        responses=IssuedDocumentSerializer,
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        document = self.get_object()
        data = DocumentRevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.document_revoke(
                document=document,
                reason=data.validated_data["reason"],
                # RolePermission let staff alone this far, never an anonymous visitor.
                by=cast(User, request.user),
            )
        except DjangoValidationError as error:
            detail = serializers.as_serializer_error(error)
            # The service speaks of the model's field; this request calls it "reason".
            if "revocation_reason" in detail:
                detail["reason"] = detail.pop("revocation_reason")
            raise serializers.ValidationError(detail) from error
        return self._read(document)

    @extend_schema(
        parameters=[DOCUMENT_ID],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("Le PDF enregistré, tel qu'il a été émis.")
            )
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FirstRendererNegotiation)
    def pdf(self, request: Request, pk: str | None = None) -> FileResponse:
        """The stored file, never a new rendering: its SHA-256 is the register's."""
        document = self.get_object()
        if document.file_erased():
            raise FileErased
        return FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=download_name(document),
            content_type="application/pdf",
        )


# The one API router: higher apps register their endpoints on it from their
# AppConfig.ready(), so school never imports them (DESIGN.md, "Layout").
router = DefaultRouter()
router.register("programmes", ProgrammeViewSet, basename="programme")
router.register("cohorts", CohortViewSet, basename="cohort")
router.register("learners", LearnerViewSet, basename="learner")
router.register("guardians", GuardianViewSet, basename="guardian")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")
router.register("documents", DocumentViewSet, basename="document")


@extend_schema_view(
    create=extend_schema(
        request=DocumentBatchCreateSerializer, responses={201: DocumentBatchSerializer}
    )
)
class DocumentBatchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """One document per learner in training in a cohort, issued in the background;
    poll a batch for its progress, download its ZIP once done. Staff only."""

    serializer_class = DocumentBatchSerializer
    throttle_scope = "batches"

    def get_queryset(self) -> QuerySet[DocumentBatch]:
        if role_of(self.request.user) != Role.STAFF:
            return DocumentBatch.objects.none()
        return (
            DocumentBatch.objects.with_progress()
            .select_related("cohort")
            .prefetch_related(
                Prefetch("items", DocumentBatchItem.objects.select_related("document"))
            )
            .order_by("-created_at", "-pk")
        )

    def create(self, request: Request) -> Response:
        data = DocumentBatchCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = call_service(batches.batch_create, by=request.user, **data.validated_data)
        fresh = self.get_queryset().get(pk=batch.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)


# After "documents": its ids are digits only, so documents/batches/ never reads as one.
router.register("documents/batches", DocumentBatchViewSet, basename="document-batch")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error in one shape (``ErrorSerializer``):
    ``{"detail": "…", "errors": {"field": ["…"]}}`` — ``detail`` always, a sentence a
    client can show as is; ``errors`` for invalid data, each field's messages (the
    messages not tied to a field under ``non_field_errors``).

    A missing object says « Non trouvé. » in the user's language, never Django's English
    « No Learner matches the given query. »: the model's name would tell what exists."""
    if isinstance(exc, Http404):
        exc = NotFound()
    response = drf_exception_handler(exc, context)
    if response is None or (isinstance(response.data, dict) and set(response.data) == {"detail"}):
        return response
    errors = (
        response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
    )
    response.data = {"detail": _first_message(errors), "errors": errors}
    return response


def _first_message(errors: Any) -> str:
    """The first message in DRF's nested errors (lists, and dicts for nested objects)."""
    while isinstance(errors, dict | list) and errors:
        errors = next(iter(errors.values())) if isinstance(errors, dict) else errors[0]
    return str(errors) if errors else str(_("Données invalides."))
