"""Placements in companies (PFMP / stages): the offers partners publish, learners'
applications, the placement and its agreement (convention) in signed versions, the
tutor's evaluation and the referent's follow-up.

Rules that bind one object live here; what writes several (accepting an application,
freezing a version, a signature completing it) lives in ``services.py``.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from companies.models import Company, Contact
from courses.models import Competency, CompetencyLevel
from school.models import AnyUser, Guardian, IssuedDocument, Learner, Role, User, role_of

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager

ONE_DAY = datetime.timedelta(days=1)


def hash_token(token: str) -> str:
    """Single-use links keep only the SHA-256 of their token: a leaked database gives
    no working link."""
    return hashlib.sha256(token.encode()).hexdigest()


def working_weeks(first: datetime.date, last: datetime.date) -> Decimal:
    """Weeks of a period as PFMP are counted: its working days (Monday to Friday) over
    five, one decimal; what the programme's required weeks are compared with."""
    days = (last - first).days + 1
    working = sum(1 for n in range(days) if (first + ONE_DAY * n).weekday() < 5)
    return (Decimal(working) / 5).quantize(Decimal("0.1"))


def _person(someone: Contact | Guardian) -> str:
    return f"{someone.first_name} {someone.last_name}"


def _learner_scope(user: AnyUser) -> models.QuerySet[Learner]:
    return Learner.objects.visible_to(user)


# ---------------------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------------------


class OfferStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("Publiée")
    FILLED = "filled", _("Pourvue")
    CLOSED = "closed", _("Close")


class OfferQuerySet(models.QuerySet["PlacementOffer"]):
    def published(self) -> OfferQuerySet:
        return self.filter(status=OfferStatus.PUBLISHED)

    def visible_to(self, user: AnyUser) -> OfferQuerySet:
        role = role_of(user)
        if role in (Role.STAFF, Role.TRAINER):
            return self.all()
        if role == Role.PARTNER:
            return self.filter(company__in=Company.objects.visible_to(user))
        if role in (Role.LEARNER, Role.GUARDIAN):
            # Published offers, and those the learner applied to whatever they became.
            applied = Application.objects.filter(learner__in=_learner_scope(user))
            return self.filter(Q(status=OfferStatus.PUBLISHED) | Q(pk__in=applied.values("offer")))
        return self.none()

    def overlapping(self, first: datetime.date, last: datetime.date) -> OfferQuerySet:
        return self.filter(start_date__lte=last, end_date__gte=first)

    def with_places_taken(self) -> OfferQuerySet:
        """Each offer's places taken, as ``places_taken``: its applications that hold one
        (``ApplicationQuerySet.holding``). The lists show it, and the acceptance and the
        change of an offer's places count it, under the offer's lock."""
        holding = (
            Application.objects.holding()
            .filter(offer=OuterRef("pk"))
            .order_by()
            .values("offer")
            .annotate(count=models.Count("pk"))
            .values("count")
        )
        return self.annotate(places_taken=Coalesce(Subquery(holding), 0))


class PlacementOffer(models.Model):
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="offers", verbose_name=_("entreprise")
    )
    title = models.CharField(_("intitulé"), max_length=200)
    activities = models.TextField(_("activités confiées"))
    competencies = models.ManyToManyField(
        Competency, blank=True, related_name="offers", verbose_name=_("compétences visées")
    )
    address = models.CharField(_("adresse du lieu de stage"), max_length=255)
    postal_code = models.CharField(_("code postal"), max_length=10)
    city = models.CharField(_("commune"), max_length=120)
    start_date = models.DateField(_("début"))
    end_date = models.DateField(_("fin"))
    places = models.PositiveSmallIntegerField(
        _("nombre de places"), validators=[MinValueValidator(1)], default=1
    )
    status = models.CharField(
        _("statut"), max_length=16, choices=OfferStatus.choices, default=OfferStatus.DRAFT
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)

    objects = OfferQuerySet.as_manager()
    places_taken: int  # read by OfferQuerySet.with_places_taken()

    if TYPE_CHECKING:
        applications: RelatedManager[Application]

    class Meta:
        verbose_name = _("offre de stage")
        verbose_name_plural = _("offres de stage")
        ordering = ["start_date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="offer_ends_after_it_starts",
                violation_error_message=_("La fin de la période précède son début."),
            ),
            models.CheckConstraint(
                condition=Q(places__gte=1),
                name="offer_has_a_place",
                violation_error_message=_("Une offre propose au moins une place."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.company}"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("La fin de la période précède son début.")})
        if self.pk and self.places is not None:
            self.check_places(self.places)

    def check_places(self, places: int) -> None:
        """An offer cannot count fewer places than the applications it accepted.
        (``services.offer_places_hold`` checks it again under the offer's lock.)"""
        accepted = self.count_places_taken()
        if places < accepted:
            raise ValidationError(
                {
                    "places": _(
                        "%(count)s candidatures sont déjà acceptées : l'offre ne peut pas "
                        "compter moins de places."
                    )
                    % {"count": accepted}
                }
            )

    def count_places_taken(self) -> int:
        """The places taken now, read in a statement of its own: after the offer's row is
        locked, PostgreSQL's read-committed snapshot of *this* statement sees every
        acceptance committed before the lock was granted (a subquery in the locking
        ``SELECT`` would count with the snapshot taken before the wait)."""
        return Application.objects.filter(offer=self).holding().count()

    def can_be_changed_by(self, user: AnyUser) -> bool:
        return role_of(user) == Role.STAFF or (
            role_of(user) == Role.PARTNER
            and Company.objects.visible_to(user).filter(pk=self.company_id).exists()
        )


# ---------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Envoyée")
    UNDER_REVIEW = "under_review", _("En cours d'examen")
    ACCEPTED = "accepted", _("Acceptée")
    REJECTED = "rejected", _("Refusée")
    WITHDRAWN = "withdrawn", _("Retirée")


OPEN_APPLICATION_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW)


class ApplicationQuerySet(models.QuerySet["Application"]):
    def visible_to(self, user: AnyUser) -> ApplicationQuerySet:
        role = role_of(user)
        if role == Role.STAFF:
            return self.all()
        if role == Role.TRAINER:
            return self.filter(learner__in=_learner_scope(user))
        if role == Role.PARTNER:
            return self.filter(offer__company__in=Company.objects.visible_to(user))
        if role in (Role.LEARNER, Role.GUARDIAN):
            return self.filter(learner__in=_learner_scope(user))
        return self.none()

    def accepted(self) -> ApplicationQuerySet:
        return self.filter(status=ApplicationStatus.ACCEPTED)

    def holding(self) -> ApplicationQuerySet:
        """Accepted applications that still hold their place: their placement was not
        cancelled (a cancelled placement gives its place, and the learner's period, back)."""
        return self.accepted().exclude(placement__status="cancelled")


class Application(models.Model):
    offer = models.ForeignKey(
        PlacementOffer,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("offre"),
    )
    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, related_name="applications", verbose_name=_("apprenant")
    )
    message = models.TextField(_("message"), max_length=2000, blank=True)
    status = models.CharField(
        _("statut"),
        max_length=16,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.SUBMITTED,
    )
    rejection_reason = models.TextField(_("motif du refus"), blank=True)
    created_at = models.DateTimeField(_("envoyée le"), auto_now_add=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)

    objects = ApplicationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("candidature")
        verbose_name_plural = _("candidatures")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "learner"],
                condition=~Q(status="withdrawn"),
                name="application_once_per_offer",
                violation_error_message=_("Vous avez déjà candidaté à cette offre."),
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="application_rejection_has_reason",
                violation_error_message=_("Un refus doit être motivé."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} → {self.offer}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_APPLICATION_STATUSES


# ---------------------------------------------------------------------------------------
# Placements and their agreement
# ---------------------------------------------------------------------------------------


class PlacementStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    READY_TO_SIGN = "ready_to_sign", _("Prête à signer")
    PARTIALLY_SIGNED = "partially_signed", _("Signée en partie")
    SIGNED = "signed", _("Signée")
    IN_PROGRESS = "in_progress", _("En cours")
    COMPLETED = "completed", _("Terminée")
    EVALUATED = "evaluated", _("Évaluée")
    CANCELLED = "cancelled", _("Annulée")


# While a version waits for signatures, a change voids them (the version with them).
SIGNING_STATUSES = (PlacementStatus.READY_TO_SIGN, PlacementStatus.PARTIALLY_SIGNED)
# Once signed, only an amendment (avenant) changes the agreement.
SIGNED_STATUSES = (
    PlacementStatus.SIGNED,
    PlacementStatus.IN_PROGRESS,
    PlacementStatus.COMPLETED,
    PlacementStatus.EVALUATED,
)


class PlacementQuerySet(models.QuerySet["Placement"]):
    def visible_to(self, user: AnyUser) -> PlacementQuerySet:
        role = role_of(user)
        if role == Role.STAFF:
            return self.all()
        if role == Role.TRAINER:
            return self.filter(Q(referent=user) | Q(learner__in=_learner_scope(user)))
        if role == Role.PARTNER:
            return self.filter(company__in=Company.objects.visible_to(user))
        if role in (Role.LEARNER, Role.GUARDIAN):
            return self.filter(learner__in=_learner_scope(user))
        return self.none()

    def current(self) -> PlacementQuerySet:
        return self.exclude(status=PlacementStatus.CANCELLED)

    def overlapping(self, first: datetime.date, last: datetime.date) -> PlacementQuerySet:
        return self.filter(start_date__lte=last, end_date__gte=first)


class Placement(models.Model):
    """A PFMP / stage: one learner at one company for a period, under an agreement."""

    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, related_name="placements", verbose_name=_("apprenant")
    )
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="placements", verbose_name=_("entreprise")
    )
    application = models.OneToOneField(
        Application,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="placement",
        verbose_name=_("candidature"),
    )
    tutor = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        related_name="tutored_placements",
        null=True,
        blank=True,
        verbose_name=_("tuteur"),
    )
    signatory = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        related_name="signed_placements",
        null=True,
        blank=True,
        verbose_name=_("signataire pour l'entreprise"),
    )
    referent = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="referred_placements",
        null=True,
        blank=True,
        limit_choices_to={"role": Role.TRAINER},
        verbose_name=_("enseignant référent"),
    )
    start_date = models.DateField(_("début"))
    end_date = models.DateField(_("fin"))
    address = models.CharField(_("lieu du stage"), max_length=255, blank=True)
    activities = models.TextField(_("activités confiées"))
    competencies = models.ManyToManyField(
        Competency,
        blank=True,
        related_name="placements",
        verbose_name=_("compétences à acquérir (annexe pédagogique)"),
    )
    supervision = models.TextField(
        _("modalités d'encadrement"),
        blank=True,
        help_text=_("Suivi par le tuteur et le référent : visites, contacts, évaluation."),
    )
    meals = models.CharField(_("restauration"), max_length=255, blank=True)
    transport = models.CharField(_("transport"), max_length=255, blank=True)
    lodging = models.CharField(_("hébergement"), max_length=255, blank=True)
    gratification_hourly = models.DecimalField(
        _("gratification horaire (€)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    status = models.CharField(
        _("statut"), max_length=20, choices=PlacementStatus.choices, default=PlacementStatus.DRAFT
    )
    cancellation_reason = models.TextField(_("motif d'annulation"), blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = PlacementQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    if TYPE_CHECKING:
        slots: RelatedManager[ScheduleSlot]
        versions: RelatedManager[AgreementVersion]
        visits: RelatedManager[Visit]

    class Meta:
        verbose_name = _("stage (PFMP)")
        verbose_name_plural = _("stages (PFMP)")
        ordering = ["-start_date", "learner"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="placement_ends_after_it_starts",
                violation_error_message=_("La fin du stage précède son début."),
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancellation_reason=""),
                name="placement_cancellation_has_reason",
                violation_error_message=_("Une annulation doit être motivée."),
            ),
        ]

    def __str__(self) -> str:
        return _("%(learner)s chez %(company)s, du %(start)s au %(end)s") % {
            "learner": self.learner,
            "company": self.company,
            "start": f"{self.start_date:%d/%m/%Y}",
            "end": f"{self.end_date:%d/%m/%Y}",
        }

    @property
    def learner_is_minor(self) -> bool:
        """Minor on the first day: the rule the law and the agreement apply."""
        return self.learner.is_minor_on(self.start_date)

    @property
    def weeks(self) -> Decimal:
        return working_weeks(self.start_date, self.end_date)

    def presence_days(
        self, slots: Iterable[ScheduleSlot], until: datetime.date | None = None
    ) -> list[datetime.date]:
        """The dates of the period (up to ``until``) on which the schedule has the learner
        at the company."""
        weekdays = set(hours_by_weekday(slots))
        last = min(self.end_date, until) if until else self.end_date
        days = (last - self.start_date).days + 1
        return [
            day
            for day in (self.start_date + ONE_DAY * n for n in range(days))
            if day.weekday() in weekdays
        ]

    def planned_presence(
        self, slots: Sequence[ScheduleSlot], until: datetime.date | None = None
    ) -> datetime.timedelta:
        """The effective presence the schedule plans over the period (up to ``until``)."""
        by_day = hours_by_weekday(slots)
        return sum(
            (by_day[day.weekday()] for day in self.presence_days(slots, until)),
            datetime.timedelta(),
        )

    def signers(self) -> list[Signature]:
        """The signature blocks of its agreement, unsaved: the school head, the company's
        authorised signatory, the tutor, the learner, and each guardian of a minor."""
        learner, tutor, signatory = self.learner, self.tutor, self.signatory
        if tutor is None or signatory is None:
            raise ValueError("A placement's signers need its tutor and signatory.")

        def block(role: str, name: str, email: str, user: User | None) -> Signature:
            return Signature(role=role, name=name, email=user.email if user else email, user=user)

        blocks = [
            Signature(role=SignerRole.SCHOOL_HEAD, name=settings.SCHOOL_IDENTITY["head"]),
            block(SignerRole.COMPANY, _person(signatory), signatory.email, signatory.user),
            block(SignerRole.TUTOR, _person(tutor), tutor.email, tutor.user),
            block(SignerRole.LEARNER, learner.full_name, learner.email, learner.user),
        ]
        if self.learner_is_minor:
            blocks += [
                block(SignerRole.GUARDIAN, _person(guardian), guardian.email, guardian.user)
                for guardian in learner.guardians.select_related("user").order_by("rank")
            ]
        for order, signer in enumerate(blocks):
            signer.order = order
        return blocks

    @property
    def is_editable(self) -> bool:
        return self.status == PlacementStatus.DRAFT or self.status in SIGNING_STATUSES

    def can_be_changed_by(self, user: AnyUser) -> bool:
        role = role_of(user)
        if role == Role.STAFF:
            return True
        if role == Role.TRAINER:
            return self.referent_id == getattr(user, "pk", None)
        if role == Role.PARTNER:
            return Company.objects.visible_to(user).filter(pk=self.company_id).exists()
        return False


class ScheduleSlot(models.Model):
    """A span of presence on one weekday (morning, afternoon…): the daily schedule."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("lundi")
        TUESDAY = 1, _("mardi")
        WEDNESDAY = 2, _("mercredi")
        THURSDAY = 3, _("jeudi")
        FRIDAY = 4, _("vendredi")
        SATURDAY = 5, _("samedi")
        SUNDAY = 6, _("dimanche")

    placement = models.ForeignKey(
        Placement, on_delete=models.CASCADE, related_name="slots", verbose_name=_("stage")
    )
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    start_time = models.TimeField(_("de"))
    end_time = models.TimeField(_("à"))

    class Meta:
        verbose_name = _("horaire")
        verbose_name_plural = _("horaires")
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")),
                name="slot_ends_after_it_starts",
                violation_error_message=_("Un horaire finit après avoir commencé."),
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6),
                name="slot_weekday_in_week",
                violation_error_message=_("Le jour doit être du lundi au dimanche."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    @property
    def duration(self) -> datetime.timedelta:
        return datetime.datetime.combine(datetime.date.min, self.end_time) - (
            datetime.datetime.combine(datetime.date.min, self.start_time)
        )


# Code du travail, L3162-1 and L3163-2: what a young worker under 18 may be asked.
MINOR_DAY_LIMIT = datetime.timedelta(hours=8)
MINOR_WEEK_LIMIT = datetime.timedelta(hours=35)
NIGHT_ENDS = datetime.time(6)
NIGHT_STARTS = datetime.time(22)


def format_hours(duration: datetime.timedelta) -> str:
    """« 7 h », « 7 h 30 »: durations as a French timetable writes them."""
    minutes = int(duration.total_seconds()) // 60
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def hours_by_weekday(slots: Iterable[ScheduleSlot]) -> dict[int, datetime.timedelta]:
    by_day: dict[int, datetime.timedelta] = defaultdict(datetime.timedelta)
    for slot in slots:
        by_day[slot.weekday] += slot.duration
    return dict(sorted(by_day.items()))


def working_time_problems(slots: Sequence[ScheduleSlot], *, minor: bool) -> list[str]:
    """What is wrong with a weekly schedule, in French: overlapping spans for anyone,
    and for a minor the limits of the Code du travail, quoted."""
    problems = []
    ordered = sorted(slots, key=lambda slot: (slot.weekday, slot.start_time))
    for before, after in itertools.pairwise(ordered):
        if before.weekday == after.weekday and after.start_time < before.end_time:
            problems.append(
                _("Les horaires %(first)s et %(second)s se chevauchent.")
                % {"first": before, "second": after}
            )
    if not minor:
        return problems
    by_day = hours_by_weekday(slots)
    for weekday, total in by_day.items():
        if total > MINOR_DAY_LIMIT:
            problems.append(
                _(
                    "Un mineur ne travaille pas plus de 8 heures par jour (Code du travail, "
                    "art. L3162-1) : le %(day)s en compte %(hours)s."
                )
                % {"day": ScheduleSlot.Weekday(weekday).label, "hours": format_hours(total)}
            )
    week = sum(by_day.values(), datetime.timedelta())
    if week > MINOR_WEEK_LIMIT:
        problems.append(
            _(
                "Un mineur ne travaille pas plus de 35 heures par semaine (Code du travail, "
                "art. L3162-1) : cet horaire en compte %(hours)s."
            )
            % {"hours": format_hours(week)}
        )
    for slot in ordered:
        if slot.start_time < NIGHT_ENDS or slot.end_time > NIGHT_STARTS:
            problems.append(
                _(
                    "Un mineur ne travaille pas entre 22 heures et 6 heures (Code du travail, "
                    "art. L3163-2) : %(slot)s."
                )
                % {"slot": slot}
            )
    return problems


class VersionStatus(models.TextChoices):
    TO_SIGN = "to_sign", _("À signer")
    SIGNED = "signed", _("Signée")
    VOID = "void", _("Annulée (modifiée)")


class AgreementVersion(models.Model):
    """A frozen state of the agreement and its PDF: what every signer signs."""

    placement = models.ForeignKey(
        Placement, on_delete=models.PROTECT, related_name="versions", verbose_name=_("stage")
    )
    number = models.PositiveSmallIntegerField(_("version"))
    is_amendment = models.BooleanField(_("avenant"), default=False)
    document = models.OneToOneField(
        IssuedDocument,
        on_delete=models.PROTECT,
        related_name="agreement_version",
        verbose_name=_("PDF de la convention"),
    )
    status = models.CharField(
        _("statut"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.TO_SIGN
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("figée le"), auto_now_add=True)
    signed_at = models.DateTimeField(_("signée le"), null=True, blank=True)
    voided_at = models.DateTimeField(_("annulée le"), null=True, blank=True)

    history = HistoricalRecords()

    if TYPE_CHECKING:
        signatures: RelatedManager[Signature]

    class Meta:
        verbose_name = _("version de convention")
        verbose_name_plural = _("versions de convention")
        ordering = ["placement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["placement", "number"],
                name="version_number_unique_per_placement",
                violation_error_message=_("Ce stage a déjà une version de ce numéro."),
            ),
            # One version at a time waits for signatures.
            models.UniqueConstraint(
                fields=["placement"],
                condition=Q(status="to_sign"),
                name="one_version_to_sign_per_placement",
                violation_error_message=_("Une version de cette convention attend déjà ses "
                                          "signatures."),
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        label = _("Avenant") if self.is_amendment else _("Convention")
        return f"{label} v{self.number} — {self.placement}"


class SignerRole(models.TextChoices):
    SCHOOL_HEAD = "school_head", _("Chef d'établissement")
    COMPANY = "company", _("Représentant de l'entreprise")
    TUTOR = "tutor", _("Tuteur")
    LEARNER = "learner", _("Apprenant")
    GUARDIAN = "guardian", _("Responsable légal")


class SignatureMethod(models.TextChoices):
    ELECTRONIC = "electronic", _("Électronique")
    PAPER = "paper", _("Papier (copie numérisée)")


class SignatureQuerySet(models.QuerySet["Signature"]):
    def pending(self) -> SignatureQuerySet:
        return self.filter(signed_at__isnull=True, version__status=VersionStatus.TO_SIGN)

    def signable_by(self, user: AnyUser) -> SignatureQuerySet:
        """The signature blocks this account signs itself."""
        role = role_of(user)
        if role is None:
            return self.none()
        if role == Role.STAFF:
            return self.filter(role=SignerRole.SCHOOL_HEAD)
        return self.filter(user=user)


def _scan_path(signature: Signature, filename: str) -> str:
    return f"signatures/{signature.version.placement_id}/{signature.version_id}/{filename}"


class Signature(models.Model):
    """One signer's block on one version."""

    version = models.ForeignKey(
        AgreementVersion,
        on_delete=models.PROTECT,
        related_name="signatures",
        verbose_name=_("version"),
    )
    role = models.CharField(_("qualité"), max_length=16, choices=SignerRole.choices)
    name = models.CharField(_("signataire"), max_length=255)
    email = models.EmailField(_("e-mail"), blank=True)
    # Who signs this block from their account (none for the school head: any staff).
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="signatures",
        verbose_name=_("compte"),
    )
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)
    method = models.CharField(_("mode"), max_length=16, choices=SignatureMethod.choices, blank=True)
    signed_at = models.DateTimeField(_("signée le"), null=True, blank=True)
    signed_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signée ou enregistrée par"),
    )
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    user_agent = models.CharField(_("navigateur"), max_length=500, blank=True)
    pdf_sha256 = models.CharField(_("SHA-256 du PDF signé"), max_length=64, blank=True)
    scan = models.FileField(_("copie signée numérisée"), upload_to=_scan_path, blank=True)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    link_sent_at = models.DateTimeField(_("lien envoyé le"), null=True, blank=True)
    link_expires_at = models.DateTimeField(_("lien valable jusqu'au"), null=True, blank=True)

    objects = SignatureQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["version", "order"]
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | ~Q(method="") & ~Q(pdf_sha256=""),
                name="signature_records_method_and_pdf",
                violation_error_message=_("Une signature indique son mode et le PDF signé."),
            ),
            models.CheckConstraint(
                condition=~Q(method="paper") | ~Q(scan=""),
                name="paper_signature_has_its_scan",
                violation_error_message=_("Une signature papier joint sa copie numérisée."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} : {self.name}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


# ---------------------------------------------------------------------------------------
# Tutor evaluation and follow-up
# ---------------------------------------------------------------------------------------


class Visit(models.Model):
    """The school referent's follow-up: a visit at the company or a call."""

    class Kind(models.TextChoices):
        VISIT = "visit", _("Visite")
        CALL = "call", _("Appel")

    placement = models.ForeignKey(
        Placement, on_delete=models.CASCADE, related_name="visits", verbose_name=_("stage")
    )
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices, default=Kind.VISIT)
    date = models.DateField(_("date"), default=timezone.localdate)
    notes = models.TextField(_("notes"))
    by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("par")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("suivi (visite, appel)")
        verbose_name_plural = _("suivis (visites, appels)")
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date:%d/%m/%Y} — {self.placement}"


class Absence(models.Model):
    """A day (or part of one) the learner missed at the company: it shortens the
    effective duration the attestation de stage states."""

    placement = models.ForeignKey(
        Placement, on_delete=models.CASCADE, related_name="absences", verbose_name=_("stage")
    )
    date = models.DateField(_("date"))
    hours = models.DecimalField(
        _("heures manquées"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25"))],
    )
    justified = models.BooleanField(_("justifiée"), default=False)
    reason = models.CharField(_("motif"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("absence en stage")
        verbose_name_plural = _("absences en stage")
        ordering = ["placement", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["placement", "date"],
                name="one_absence_line_per_placement_day",
                violation_error_message=_("Une absence est déjà notée ce jour-là."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} — {self.hours} h"

    def clean(self) -> None:
        placement = self.placement
        if self.date and not placement.start_date <= self.date <= placement.end_date:
            raise ValidationError({"date": _("Ce jour n'est pas dans la période du stage.")})


class TutorEvaluation(models.Model):
    """The tutor's evaluation at the end of a placement, by a single-use link."""

    placement = models.OneToOneField(
        Placement, on_delete=models.CASCADE, related_name="evaluation", verbose_name=_("stage")
    )
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    sent_to = models.EmailField(_("envoyée à"))
    sent_at = models.DateTimeField(_("envoyée le"))
    expires_at = models.DateTimeField(_("lien valable jusqu'au"))
    revoked_at = models.DateTimeField(_("lien révoqué le"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("relances envoyées"), default=0)
    submitted_at = models.DateTimeField(_("remplie le"), null=True, blank=True)
    tutor_name = models.CharField(_("rempli par"), max_length=255, blank=True)
    absence_days = models.PositiveSmallIntegerField(_("jours d'absence"), default=0)
    attendance = models.TextField(_("assiduité et ponctualité"), blank=True)
    comments = models.TextField(_("appréciation générale"), blank=True)

    history = HistoricalRecords()

    if TYPE_CHECKING:
        lines: RelatedManager[EvaluationLine]

    class Meta:
        verbose_name = _("évaluation du tuteur")
        verbose_name_plural = _("évaluations des tuteurs")
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return _("Évaluation — %(placement)s") % {"placement": self.placement}

    @property
    def is_open(self) -> bool:
        return (
            self.submitted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class EvaluationLine(models.Model):
    evaluation = models.ForeignKey(TutorEvaluation, on_delete=models.CASCADE, related_name="lines")
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("niveau"), max_length=16, choices=CompetencyLevel.choices)

    class Meta:
        verbose_name = _("compétence évaluée")
        verbose_name_plural = _("compétences évaluées")
        ordering = ["evaluation", "competency"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "competency"], name="one_level_per_competency"
            )
        ]

    def __str__(self) -> str:
        return f"{self.competency.code} : {self.get_level_display()}"


def partner_documents(user: AnyUser) -> Q:
    """A partner sees the conventions of the placements their company hosts."""
    if role_of(user) != Role.PARTNER:
        return Q(pk__in=[])
    return Q(agreement_version__placement__company__in=Company.objects.visible_to(user))
