"""The school itself: users and roles, programmes, cohorts, learners, guardians, enrolments."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from django.contrib.auth.models import (
    AbstractBaseUser,
    AnonymousUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .registry import Registry

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager
    from django.http import HttpRequest
    from django_stubs_ext import StrOrPromise


class Role(models.TextChoices):
    STAFF = "staff", _("Équipe de l'école")
    TRAINER = "trainer", _("Formateur")
    PARTNER = "partner", _("Partenaire industriel")
    LEARNER = "learner", _("Apprenant")
    GUARDIAN = "guardian", _("Responsable légal")


def role_of(user: AnyUser) -> str | None:
    """The role of a request's user; None for an anonymous visitor, who sees nothing."""
    return user.role if user.is_authenticated else None


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        # People type their address with capitals; an e-mail is one account whatever its case.
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("Users must have an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(role=Role.STAFF, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who logs in. What they may see and change follows from ``role``."""

    email = models.EmailField(_("adresse e-mail"), unique=True)
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    last_name = models.CharField(_("nom"), max_length=150, blank=True)
    role = models.CharField(_("rôle"), max_length=16, choices=Role.choices)
    is_active = models.BooleanField(_("actif"), default=True)
    date_joined = models.DateTimeField(_("inscrit le"), default=timezone.now)
    # The secret of the personal calendar feed URL; made on first use, rotated on demand.
    calendar_token = models.CharField(
        _("jeton d'agenda"), max_length=64, unique=True, null=True, blank=True, editable=False
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_unique_ignoring_case",
                violation_error_message=_("Un compte existe déjà avec cette adresse e-mail."),
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_calendar_token(self) -> str:
        return self.calendar_token or self.rotate_calendar_token()

    def get_calendar_path(self) -> str:
        """The path of this user's live calendar (the feed of the timetable app, found by
        its URL name); the token in it is the credential, given on first use."""
        return reverse("calendar-feed", args=[self.get_calendar_token()])

    def get_calendar_url(self, request: HttpRequest) -> str:
        """The absolute address of this user's live calendar, as the pages and the API
        give it to subscribe to."""
        return request.build_absolute_uri(self.get_calendar_path())

    def rotate_calendar_token(self) -> str:
        """A new secret: the old feed URL stops answering at once."""
        self.calendar_token = secrets.token_urlsafe(32)
        self.save(update_fields=["calendar_token"])
        return self.calendar_token

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    # The admin is the staff's back office: the role alone opens it, and staff may
    # change everything (DESIGN.md, "Roles"), so no per-model permission to maintain.
    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return (self.is_active and self.is_staff) or super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        return (self.is_active and self.is_staff) or super().has_module_perms(app_label)


# Whoever makes a request, signed in or not: an anonymous visitor sees nothing.
AnyUser: TypeAlias = User | AnonymousUser


class ProgrammeLevel(models.TextChoices):
    LEVEL_3 = "3", _("Niveau 3 (CAP)")
    LEVEL_4 = "4", _("Niveau 4 (Bac pro, BP)")
    LEVEL_5 = "5", _("Niveau 5 (BTS)")


class Programme(models.Model):
    """A diploma track (CAP, Bac pro…). Its competency framework lives in ``courses``."""

    title = models.CharField(_("intitulé"), max_length=200, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    level = models.CharField(_("niveau de diplôme"), max_length=2, choices=ProgrammeLevel.choices)
    rncp_code = models.CharField(
        _("code RNCP"),
        max_length=12,
        blank=True,
        validators=[
            RegexValidator(r"^RNCP\d{3,6}$", _("Format attendu : RNCP suivi de chiffres."))
        ],
    )
    objectives = models.TextField(_("objectifs"), blank=True)
    total_hours = models.PositiveIntegerField(_("durée totale (heures)"))
    placement_weeks_min = models.PositiveSmallIntegerField(_("semaines de PFMP (minimum)"))
    placement_weeks_max = models.PositiveSmallIntegerField(_("semaines de PFMP (maximum)"))

    class Meta:
        verbose_name = _("formation")
        verbose_name_plural = _("formations")
        ordering = ["level", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(placement_weeks_min__lte=F("placement_weeks_max")),
                name="programme_placement_weeks_ordered",
                violation_error_message=_(
                    "Le nombre minimal de semaines de PFMP dépasse le maximum."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.title


class CohortQuerySet(models.QuerySet["Cohort"]):
    def with_active_learners(self) -> CohortQuerySet:
        """Each cohort's number of learners in training, as ``active_learners``."""
        return self.annotate(
            active_learners=models.Count(
                "enrolments", filter=Q(enrolments__status=EnrolmentStatus.ACTIVE)
            )
        )

    def taught_by(self, user: User) -> CohortQuerySet:
        return self.filter(Q(head_trainer=user) | Q(trainers=user)).distinct()

    def visible_to(self, user: AnyUser) -> CohortQuerySet:
        if not user.is_authenticated:
            return self.none()
        role = user.role
        if role == Role.STAFF:
            return self.all()
        if role == Role.TRAINER:
            return self.filter(pk__in=Cohort.objects.taught_by(user).values("pk"))
        if role in (Role.LEARNER, Role.GUARDIAN):
            learners = Learner.objects.visible_to(user)
            return self.filter(
                pk__in=Enrolment.objects.filter(learner__in=learners).values("cohort")
            )
        return self.none()


class Cohort(models.Model):
    """A promotion: the learners of one programme who start together."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="cohorts", verbose_name=_("formation")
    )
    name = models.CharField(_("nom"), max_length=120, unique=True)
    start_date = models.DateField(_("début"))
    end_date = models.DateField(_("fin"))
    head_trainer = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_cohorts",
        limit_choices_to={"role": Role.TRAINER},
        verbose_name=_("formateur référent"),
    )
    trainers = models.ManyToManyField(
        User,
        blank=True,
        related_name="taught_cohorts",
        limit_choices_to={"role": Role.TRAINER},
        verbose_name=_("équipe pédagogique"),
    )

    objects = CohortQuerySet.as_manager()
    active_learners: int  # read by CohortQuerySet.with_active_learners()

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")),
                name="cohort_ends_after_start",
                violation_error_message=_("La fin de la promotion doit suivre son début."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def school_years(self) -> str:
        return f"{self.start_date.year}-{self.end_date.year}"


def _age_on(birth_date: datetime.date, day: datetime.date) -> int:
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


class LearnerQuerySet(models.QuerySet["Learner"]):
    def visible_to(self, user: AnyUser) -> LearnerQuerySet:
        if not user.is_authenticated:
            return self.none()
        role = user.role
        if role == Role.STAFF:
            return self.all()
        if role == Role.TRAINER:
            cohorts = Cohort.objects.taught_by(user).values("pk")
            return self.filter(
                pk__in=Enrolment.objects.filter(cohort__in=cohorts).values("learner")
            )
        if role == Role.LEARNER:
            return self.filter(user=user)
        if role == Role.GUARDIAN:
            return self.filter(pk__in=Guardian.objects.filter(user=user).values("learner"))
        return self.none()


class Learner(models.Model):
    """A pupil of the school, whether or not they have an account."""

    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="learner",
        limit_choices_to={"role": Role.LEARNER},
        verbose_name=_("compte"),
    )
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    birth_date = models.DateField(_("date de naissance"))
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("commune"), max_length=120, blank=True)
    ine = models.CharField(
        _("INE"),
        max_length=11,
        blank=True,
        help_text=_("Identifiant national élève, 11 caractères."),
        validators=[
            RegexValidator(
                r"^[0-9A-Z]{10}[A-Z]$",
                _("L'INE comporte 11 caractères : 10 chiffres ou lettres puis une lettre."),
            )
        ],
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    # Set by the retention policy (school.privacy.anonymise_learner): the identity above
    # is then a pseudonym, and only what statistics need is left.
    anonymised_at = models.DateTimeField(_("anonymisé le"), null=True, blank=True, editable=False)

    objects = LearnerQuerySet.as_manager()
    history = HistoricalRecords()

    if TYPE_CHECKING:
        guardians: RelatedManager[Guardian]
        enrolments: RelatedManager[Enrolment]

    class Meta:
        verbose_name = _("apprenant")
        verbose_name_plural = _("apprenants")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="learner_email_unique",
                violation_error_message=_("Un apprenant a déjà cette adresse e-mail."),
            ),
            models.UniqueConstraint(
                fields=["ine"],
                condition=~Q(ine=""),
                name="learner_ine_unique",
                violation_error_message=_("Un apprenant a déjà cet INE."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return str(self)

    def age_on(self, day: datetime.date) -> int:
        return _age_on(self.birth_date, day)

    def is_minor_on(self, day: datetime.date) -> bool:
        return self.age_on(day) < 18

    def clean(self) -> None:
        if self.birth_date and self.birth_date > timezone.localdate():
            raise ValidationError({"birth_date": _("La date de naissance est dans le futur.")})


class GuardianQuerySet(models.QuerySet["Guardian"]):
    def visible_to(self, user: AnyUser) -> GuardianQuerySet:
        if role_of(user) == Role.GUARDIAN:
            return self.filter(user=user)
        return self.filter(learner__in=Learner.objects.visible_to(user))


class Guardian(models.Model):
    """A legal guardian (responsable légal) of one learner; a learner has at most two.

    A parent of two pupils is two rows sharing one account: each row carries that
    child's rank (responsable 1 or 2), which the database keeps unique per learner.
    """

    class Rank(models.IntegerChoices):
        FIRST = 1, _("Responsable légal 1")
        SECOND = 2, _("Responsable légal 2")

    class Relationship(models.TextChoices):
        MOTHER = "mother", _("Mère")
        FATHER = "father", _("Père")
        TUTOR = "tutor", _("Tuteur ou tutrice")
        OTHER = "other", _("Autre")

    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="guardians", verbose_name=_("apprenant")
    )
    rank = models.PositiveSmallIntegerField(_("rang"), choices=Rank.choices, default=Rank.FIRST)
    relationship = models.CharField(
        _("lien"), max_length=16, choices=Relationship.choices, default=Relationship.OTHER
    )
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="guardianships",
        limit_choices_to={"role": Role.GUARDIAN},
        verbose_name=_("compte"),
    )

    objects = GuardianQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("responsable légal")
        verbose_name_plural = _("responsables légaux")
        ordering = ["learner", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "rank"],
                name="guardian_rank_unique_per_learner",
                violation_error_message=_(
                    "Cet apprenant a déjà un responsable légal de ce rang (deux au plus)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(rank__in=[1, 2]),
                name="guardian_rank_one_or_two",
                violation_error_message=_("Un apprenant a au plus deux responsables légaux."),
            ),
            models.UniqueConstraint(
                fields=["learner", "user"],
                name="guardian_account_once_per_learner",
                violation_error_message=_("Ce compte est déjà responsable de cet apprenant."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("En formation")
    SUSPENDED = "suspended", _("Suspendu")
    WITHDRAWN = "withdrawn", _("Sorti en cours de formation")
    GRADUATED = "graduated", _("Parcours achevé")


class EnrolmentQuerySet(models.QuerySet["Enrolment"]):
    def visible_to(self, user: AnyUser) -> EnrolmentQuerySet:
        if user.is_authenticated and user.role == Role.TRAINER:
            return self.filter(cohort__in=Cohort.objects.taught_by(user).values("pk"))
        return self.filter(learner__in=Learner.objects.visible_to(user))

    def active(self) -> EnrolmentQuerySet:
        return self.filter(status=EnrolmentStatus.ACTIVE)


class Enrolment(models.Model):
    """A learner's place in a cohort. Status changes go through
    ``services.enrolment_change_status`` so that each leaves a dated trace."""

    # Which status may follow which: leaving is final, a suspension is not.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        EnrolmentStatus.ACTIVE: {
            EnrolmentStatus.SUSPENDED,
            EnrolmentStatus.WITHDRAWN,
            EnrolmentStatus.GRADUATED,
        },
        EnrolmentStatus.SUSPENDED: {EnrolmentStatus.ACTIVE, EnrolmentStatus.WITHDRAWN},
        EnrolmentStatus.WITHDRAWN: set(),
        EnrolmentStatus.GRADUATED: set(),
    }

    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("apprenant")
    )
    cohort = models.ForeignKey(
        Cohort, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("promotion")
    )
    status = models.CharField(
        _("statut"), max_length=16, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE
    )
    start_date = models.DateField(_("entrée le"))
    end_date = models.DateField(_("sortie le"), null=True, blank=True)

    objects = EnrolmentQuerySet.as_manager()
    history = HistoricalRecords()

    if TYPE_CHECKING:
        status_changes: RelatedManager[EnrolmentStatusChange]

    class Meta:
        verbose_name = _("inscription")
        verbose_name_plural = _("inscriptions")
        ordering = ["cohort", "learner__last_name", "learner__first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "cohort"],
                name="enrolment_once_per_cohort",
                violation_error_message=_("Cet apprenant est déjà inscrit dans cette promotion."),
            ),
            models.UniqueConstraint(
                fields=["learner"],
                condition=Q(status=EnrolmentStatus.ACTIVE),
                name="enrolment_one_active_per_learner",
                violation_error_message=_(
                    "Cet apprenant est déjà en formation dans une autre promotion."
                ),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="enrolment_ends_after_start",
                violation_error_message=_("La date de sortie précède la date d'entrée."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} — {self.cohort}"

    # Leaving or pausing a programme is a decision someone must be able to explain later.
    REASON_REQUIRED: ClassVar[set[str]] = {EnrolmentStatus.SUSPENDED, EnrolmentStatus.WITHDRAWN}
    FINAL: ClassVar[set[str]] = {EnrolmentStatus.WITHDRAWN, EnrolmentStatus.GRADUATED}

    def check_status_change(self, status: str, effective_on: datetime.date, reason: str) -> None:
        """Refuse, in people's words, a status change this enrolment cannot take."""
        errors: dict[str, StrOrPromise] = {}
        if status not in self.TRANSITIONS[self.status]:
            errors["status"] = _(
                "Une inscription « %(current)s » ne peut pas passer à « %(new)s »."
            ) % {
                "current": self.get_status_display(),
                "new": EnrolmentStatus(status).label,
            }
        if status in self.REASON_REQUIRED and not reason.strip():
            errors["reason"] = _("Indiquez le motif de ce changement de statut.")
        if effective_on < self.start_date:
            errors["effective_on"] = _("La date d'effet précède l'entrée en formation.")
        if errors:
            raise ValidationError(errors)


class EnrolmentStatusChange(models.Model):
    """One dated step of an enrolment's life: who changed it, when and why."""

    enrolment = models.ForeignKey(
        Enrolment,
        on_delete=models.CASCADE,
        related_name="status_changes",
        verbose_name=_("inscription"),
    )
    status = models.CharField(_("statut"), max_length=16, choices=EnrolmentStatus.choices)
    effective_on = models.DateField(_("à compter du"))
    reason = models.CharField(_("motif"), max_length=255, blank=True)
    changed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("par")
    )
    changed_at = models.DateTimeField(_("enregistré le"), default=timezone.now)

    class Meta:
        verbose_name = _("changement de statut")
        verbose_name_plural = _("historique des statuts")
        ordering = ["enrolment", "changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} ({self.effective_on:%d/%m/%Y})"


class DocumentStatus(models.TextChoices):
    # A number reserved for a document still being rendered (in a batch): it becomes
    # valid once its PDF is stored, and no one outside the register sees it before.
    PENDING = "pending", _("En cours d'émission")
    VALID = "valid", _("Valide")
    SUPERSEDED = "superseded", _("Remplacé")
    REVOKED = "revoked", _("Révoqué")
    # A reserved number cancelled before its PDF was stored: kept, with its reason.
    VOID = "void", _("Annulé avant émission")


# Issued, whatever became of it since: its PDF exists.
ISSUED_STATUSES = [DocumentStatus.VALID, DocumentStatus.SUPERSEDED, DocumentStatus.REVOKED]
# A number without its PDF: still being rendered, or cancelled before it was.
UNISSUED_STATUSES = [status for status in DocumentStatus if status not in ISSUED_STATUSES]


# The register's own series; other kinds number in theirs (quotes DV-, invoices FA-…).
REGISTER_SERIES = "MT"


class DocumentCounter(models.Model):
    """The last number given in a series and a year: issuing locks this row, so numbers
    follow each other without gap or duplicate whatever the number of workers."""

    series = models.CharField(_("série"), max_length=4, default=REGISTER_SERIES)
    year = models.PositiveSmallIntegerField(_("année"))
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("compteur de documents")
        verbose_name_plural = _("compteurs de documents")
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="one_counter_per_series_year")
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year} : {self.last}"


# What the apps built on the school add to who sees a document (internships: a partner
# sees the conventions of the placements their company hosts): each returns a Q.
DocumentScope = Callable[[AnyUser], Q]
document_scopes: Registry[DocumentScope] = Registry()


class IssuedDocumentQuerySet(models.QuerySet["IssuedDocument"]):
    def visible_to(self, user: AnyUser) -> IssuedDocumentQuerySet:
        if role_of(user) == Role.STAFF:
            return self.issued()
        # A learner's documents are theirs and their guardians'; a trainer's scope is
        # the learners they teach.
        seen = Q(learner__in=Learner.objects.visible_to(user))
        for scope in document_scopes:
            seen |= scope(user)
        return self.issued().filter(seen)

    def issued(self) -> IssuedDocumentQuerySet:
        """Entries with their PDF: a number still being rendered is not a document yet."""
        return self.filter(status__in=ISSUED_STATUSES)

    def valid(self) -> IssuedDocumentQuerySet:
        return self.filter(status=DocumentStatus.VALID)


def _document_path(document: IssuedDocument, filename: str) -> str:
    return f"documents/{document.year}/{document.number}.pdf"


class IssuedDocument(models.Model):
    """An entry of the register: a PDF issued once, numbered, stored, verifiable.

    A stored PDF is never regenerated: reissuing makes a new number that supersedes
    this one, and revoking keeps the entry with its reason.
    """

    number = models.CharField(_("numéro"), max_length=20, unique=True)
    series = models.CharField(_("série"), max_length=4, default=REGISTER_SERIES)
    year = models.PositiveSmallIntegerField(_("année"))
    sequence = models.PositiveIntegerField(_("rang dans l'année"))
    kind = models.CharField(_("type"), max_length=40)
    title = models.CharField(_("intitulé"), max_length=200)
    learner = models.ForeignKey(
        Learner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("apprenant"),
    )
    subject = models.CharField(_("objet"), max_length=255)
    issued_at = models.DateTimeField(_("émis le"), default=timezone.now)
    issued_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("émis par"),
    )
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, blank=True)
    file = models.FileField(_("fichier"), upload_to=_document_path, blank=True)
    status = models.CharField(
        _("statut"), max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.VALID
    )
    verification_code = models.CharField(_("code de vérification"), max_length=64, unique=True)
    superseded_by = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
        verbose_name=_("remplacé par"),
    )
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("révoqué par"),
    )
    revocation_reason = models.CharField(_("motif de révocation"), max_length=255, blank=True)

    objects = IssuedDocumentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("document émis")
        verbose_name_plural = _("registre des documents")
        ordering = ["-year", "series", "-sequence"]  # a number is unique only in its series
        constraints = [
            models.UniqueConstraint(
                fields=["series", "year", "sequence"], name="document_number_once_a_year"
            ),
            models.CheckConstraint(
                condition=Q(status__in=UNISSUED_STATUSES) | (~Q(sha256="") & ~Q(file="")),
                name="document_issued_has_its_pdf",
                violation_error_message=_("Un document émis a son PDF et son empreinte."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[DocumentStatus.REVOKED, DocumentStatus.VOID])
                | ~Q(revocation_reason=""),
                name="document_revocation_has_reason",
                violation_error_message=_("Une révocation demande un motif."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} — {self.title}"

    def file_erased(self) -> bool:
        """Whether the PDF was erased with a learner's personal data (school.privacy):
        the entry stays, with its number and hash, and verifies an upload still."""
        return not self.file.name or not self.file.storage.exists(self.file.name)

    @property
    def is_issued(self) -> bool:
        return self.status in ISSUED_STATUSES


class BatchStatus(models.TextChoices):
    PENDING = "pending", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminé")


class DocumentBatchQuerySet(models.QuerySet["DocumentBatch"]):
    def with_progress(self) -> DocumentBatchQuerySet:
        """Counts read from the items themselves: a stored counter could drift from them
        when a worker dies between two writes."""
        return self.annotate(
            item_count=models.Count("items"),
            done_count=models.Count("items", filter=Q(items__document__status__in=ISSUED_STATUSES)),
            failed_count=models.Count(
                "items",
                filter=~Q(items__error="")
                & (
                    Q(items__document__isnull=True)
                    | Q(items__document__status__in=UNISSUED_STATUSES)
                ),
            ),
        )


class DocumentBatch(models.Model):
    """One document of a kind for each learner in training in a cohort, issued in the
    background, one item per learner."""

    kind = models.CharField(_("type"), max_length=40)
    cohort = models.ForeignKey(
        Cohort,
        on_delete=models.PROTECT,
        related_name="document_batches",
        verbose_name=_("promotion"),
    )
    # The kind's parameters (a period's first and last day) as ISO dates: JSON has no date.
    parameters = models.JSONField(_("paramètres"), default=dict, blank=True)
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lancé par"),
    )
    created_at = models.DateTimeField(_("lancé le"), default=timezone.now)

    objects = DocumentBatchQuerySet.as_manager()

    if TYPE_CHECKING:
        items: RelatedManager[DocumentBatchItem]
        # Set by DocumentBatchQuerySet.with_progress().
        item_count: int
        done_count: int
        failed_count: int

    class Meta:
        verbose_name = _("émission en lot")
        verbose_name_plural = _("émissions en lot")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} — {self.cohort} ({self.created_at:%d/%m/%Y %H:%M})"

    @property
    def status(self) -> str:
        settled = self.done_count + self.failed_count
        if settled >= self.item_count:
            return BatchStatus.DONE
        return BatchStatus.RUNNING if settled else BatchStatus.PENDING

    def get_status_display(self) -> StrOrPromise:
        return BatchStatus(self.status).label


class DocumentBatchItemQuerySet(models.QuerySet["DocumentBatchItem"]):
    def to_issue(self) -> DocumentBatchItemQuerySet:
        """What a worker still has to do: items neither issued nor failed, and numbers
        reserved whose PDF was never stored (a worker died rendering them, or the
        rendering failed: the number is kept, so it must be completed)."""
        return self.filter(
            Q(document__isnull=True, error="") | Q(document__status=DocumentStatus.PENDING)
        )


class DocumentBatchItem(models.Model):
    """One learner's document in a batch: issued (``document``, once valid) or failed
    (``error``). A document still « en cours d'émission » holds the item's number."""

    batch = models.ForeignKey(
        DocumentBatch, on_delete=models.CASCADE, related_name="items", verbose_name=_("lot")
    )
    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, related_name="+", verbose_name=_("apprenant")
    )
    document = models.OneToOneField(
        IssuedDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="batch_item",
        verbose_name=_("document"),
    )
    error = models.TextField(_("motif de l'échec"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)

    objects = DocumentBatchItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("document du lot")
        verbose_name_plural = _("documents du lot")
        ordering = ["batch", "learner__last_name", "learner__first_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "learner"], name="batch_item_once_per_learner")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} — {self.learner}"

    @property
    def is_issued(self) -> bool:
        return self.document is not None and self.document.is_issued

    @property
    def has_failed(self) -> bool:
        return bool(self.error) and not self.is_issued
