"""The school's week: competency frameworks, courses, rooms and machines, sessions,
machine authorisations for minors, and attendance (émargement)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from companies.models import Company
from school.models import (
    AnyUser,
    Cohort,
    Enrolment,
    Guardian,
    Learner,
    Programme,
    Role,
    User,
    role_of,
)
from school.registry import Registry

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager


class CompetencyBlock(models.Model):
    """A block of a programme's framework (bloc de compétences)."""

    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="competency_blocks",
        verbose_name=_("formation"),
    )
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("intitulé"), max_length=255)

    class Meta:
        verbose_name = _("bloc de compétences")
        verbose_name_plural = _("blocs de compétences")
        ordering = ["programme", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="competency_block_code_unique_per_programme",
                violation_error_message=_("Cette formation a déjà un bloc avec ce code."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class Competency(models.Model):
    block = models.ForeignKey(
        CompetencyBlock,
        on_delete=models.CASCADE,
        related_name="competencies",
        verbose_name=_("bloc"),
    )
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("intitulé"), max_length=255)

    class Meta:
        verbose_name = _("compétence")
        verbose_name_plural = _("compétences")
        ordering = ["block", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["block", "code"],
                name="competency_code_unique_per_block",
                violation_error_message=_("Ce bloc a déjà une compétence avec ce code."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class CourseKind(models.TextChoices):
    WORKSHOP = "workshop", _("Atelier")
    TECHNOLOGY = "technology", _("Technologie")
    GENERAL = "general", _("Enseignement général")


class Course(models.Model):
    """A module of a programme (tournage, métrologie, français…)."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="courses", verbose_name=_("formation")
    )
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("intitulé"), max_length=200)
    kind = models.CharField(_("nature"), max_length=16, choices=CourseKind.choices)
    planned_hours = models.PositiveIntegerField(_("heures prévues"))
    competencies = models.ManyToManyField(
        Competency, blank=True, related_name="courses", verbose_name=_("compétences visées")
    )
    # Calendar feeds print the title: a rename must change their ETag.
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        ordering = ["programme", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="course_code_unique_per_programme",
                violation_error_message=_("Cette formation a déjà un module avec ce code."),
            )
        ]

    def __str__(self) -> str:
        return self.title


class RoomKind(models.TextChoices):
    WORKSHOP = "workshop", _("Atelier")
    CLASSROOM = "classroom", _("Salle")


class Room(models.Model):
    name = models.CharField(_("nom"), max_length=100, unique=True)
    kind = models.CharField(_("type"), max_length=16, choices=RoomKind.choices)
    capacity = models.PositiveSmallIntegerField(_("capacité"), null=True, blank=True)
    # Calendar feeds print the name as the event's location: a rename must change their ETag.
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("salle")
        verbose_name_plural = _("salles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MachineKind(models.TextChoices):
    MANUAL_LATHE = "manual_lathe", _("Tour conventionnel")
    CNC_LATHE = "cnc_lathe", _("Tour CN")
    MILLING_MACHINE = "milling_machine", _("Fraiseuse")
    CNC_MACHINING_CENTRE = "cnc_machining_centre", _("Centre d'usinage CN")
    GRINDER = "grinder", _("Rectifieuse")
    DRILL = "drill", _("Perceuse")
    SAW = "saw", _("Scie")
    PRESS = "press", _("Presse")
    OTHER = "other", _("Autre machine")


class Machine(models.Model):
    name = models.CharField(_("nom"), max_length=100, unique=True)
    kind = models.CharField(_("type"), max_length=32, choices=MachineKind.choices)
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="machines", verbose_name=_("salle")
    )
    is_active = models.BooleanField(_("en service"), default=True)

    class Meta:
        verbose_name = _("machine")
        verbose_name_plural = _("machines")
        ordering = ["room", "name"]

    def __str__(self) -> str:
        return self.name


class ClosureKind(models.TextChoices):
    SCHOOL_HOLIDAYS = "school_holidays", _("Vacances scolaires")
    PUBLIC_HOLIDAY = "public_holiday", _("Jour férié")
    OTHER = "other", _("Fermeture")


class ClosurePeriodQuerySet(models.QuerySet["ClosurePeriod"]):
    def overlapping(self, first: datetime.date, last: datetime.date) -> ClosurePeriodQuerySet:
        return self.filter(start_date__lte=last, end_date__gte=first)


class ClosurePeriod(models.Model):
    """Days the school is closed (holidays, public holidays); both ends included."""

    name = models.CharField(_("nom"), max_length=120)
    kind = models.CharField(_("type"), max_length=16, choices=ClosureKind.choices)
    start_date = models.DateField(_("du"))
    end_date = models.DateField(_("au"))

    objects = ClosurePeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("fermeture")
        verbose_name_plural = _("fermetures")
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="closure_ends_after_start",
                violation_error_message=_("La fin de la fermeture précède son début."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Prévue")
    CANCELLED = "cancelled", _("Annulée")
    DONE = "done", _("Faite")


class SessionSeries(models.Model):
    """The weekly pattern a set of sessions was created from, kept for later edits."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, verbose_name=_("module"))
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, verbose_name=_("promotion"))
    first_date = models.DateField(_("du"))
    last_date = models.DateField(_("au"))
    weekday = models.PositiveSmallIntegerField(_("jour de la semaine"))  # 0 = lundi
    start_time = models.TimeField(_("début"))
    end_time = models.TimeField(_("fin"))
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("série de séances")
        verbose_name_plural = _("séries de séances")

    def __str__(self) -> str:
        return f"{self.course} — {self.cohort}"


# A séance fits in a school day; the database refuses a longer one.
MAX_SESSION_LENGTH = datetime.timedelta(hours=12)


class SessionQuerySet(models.QuerySet["Session"]):
    def active(self) -> SessionQuerySet:
        return self.exclude(status=SessionStatus.CANCELLED)

    def between(self, start: datetime.datetime, end: datetime.datetime) -> SessionQuerySet:
        """The sessions that overlap [start, end). The third bound adds nothing to the
        answer (a session lasts ``MAX_SESSION_LENGTH`` at most) but lets the database
        read one short range of the ``start`` indexes instead of every earlier session."""
        return self.filter(start__lt=end, end__gt=start, start__gt=start - MAX_SESSION_LENGTH)

    def attended_by(self, learner: Learner | int) -> SessionQuerySet:
        """The sessions a learner takes part in: their group's, and their cohort's
        whole-class sessions on the days they were enrolled in it (from the enrolment's
        start to its end, if it ended). Schedules, feeds and hours all count this way."""
        learner_id = learner if isinstance(learner, int) else learner.pk
        return self._taken_by(Learner.objects.filter(pk=learner_id).values("pk"))

    def visible_to(self, user: AnyUser) -> SessionQuerySet:
        role = role_of(user)
        if role in (Role.STAFF, Role.TRAINER):
            return self.all()  # every timetable is open to the teaching team (DESIGN.md)
        if role in (Role.LEARNER, Role.GUARDIAN):
            return self._taken_by(Learner.objects.visible_to(user).values("pk"))
        return self.none()

    def _taken_by(self, learners: models.QuerySet[Any]) -> SessionQuerySet:
        """The sessions of their groups, and their cohorts' whole-class sessions on the
        days they were enrolled.

        Written as ``id IN (… UNION …)`` of two lookups that each use an index (the group
        rows of these learners; the sessions of their cohorts): an ``OR`` of correlated
        ``EXISTS`` made PostgreSQL read every session of the network for one learner's
        week (benchmarks/explain.py)."""
        members = Session.learners.through.objects
        in_group = members.filter(learner__in=learners).values("session_id")
        day = TruncDate("start", tzinfo=timezone.get_default_timezone())
        enrolled = Enrolment.objects.filter(
            learner__in=learners, cohort_id=OuterRef("cohort_id"), start_date__lte=OuterRef("day")
        ).filter(Q(end_date__isnull=True) | Q(end_date__gte=OuterRef("day")))
        whole_class = (
            Session.objects.alias(day=day)
            .filter(cohort__in=Enrolment.objects.filter(learner__in=learners).values("cohort_id"))
            .filter(~Exists(members.filter(session_id=OuterRef("pk"))), Exists(enrolled))
            .order_by()
            .values("pk")
        )
        return self.filter(pk__in=in_group.order_by().union(whole_class))


class Session(models.Model):
    """A séance: one course taught to a cohort (or a group of it) at one time and place."""

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("module")
    )
    cohort = models.ForeignKey(
        Cohort, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("promotion")
    )
    learners = models.ManyToManyField(
        Learner,
        blank=True,
        related_name="group_sessions",
        verbose_name=_("groupe"),
        help_text=_("Vide : toute la promotion."),
    )
    trainer = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="taught_sessions",
        limit_choices_to={"role": Role.TRAINER},
        verbose_name=_("formateur"),
    )
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("salle")
    )
    machines = models.ManyToManyField(
        Machine, blank=True, related_name="sessions", verbose_name=_("machines")
    )
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    status = models.CharField(
        _("statut"), max_length=16, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    series = models.ForeignKey(
        SessionSeries,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("série"),
    )
    # RFC 5545 SEQUENCE: calendar clients replace an event only when it grows.
    sequence = models.PositiveIntegerField(_("version"), default=0)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    attendance_validated_at = models.DateTimeField(_("émargement validé le"), null=True, blank=True)
    attendance_validated_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("émargement validé par"),
    )

    objects = SessionQuerySet.as_manager()

    if TYPE_CHECKING:
        attendances: RelatedManager[Attendance]

    class Meta:
        verbose_name = _("séance")
        verbose_name_plural = _("séances")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="session_ends_after_start",
                violation_error_message=_("La fin de la séance doit suivre son début."),
            ),
            # What bounds every search by time (``between``): a session found in a window
            # started at most this long before it.
            models.CheckConstraint(
                condition=Q(end__lte=F("start") + MAX_SESSION_LENGTH),
                name="session_lasts_at_most_twelve_hours",
                violation_error_message=_("Une séance dure 12 heures au plus."),
            ),
        ]
        indexes = [
            # The whole network's sessions of a day (the staff's home page, the feeds).
            models.Index(fields=["start"], name="session_start"),
            models.Index(fields=["trainer", "start"], name="session_trainer_start"),
            models.Index(fields=["room", "start"], name="session_room_start"),
            models.Index(fields=["cohort", "start"], name="session_cohort_start"),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.start)
        return f"{self.course} — {local:%d/%m/%Y %H:%M}"

    @property
    def is_attendance_validated(self) -> bool:
        return self.attendance_validated_at is not None


class Derogation(models.Model):
    """The school's declaration of derogation to let minors use dangerous machines
    (Code du travail, R. 4153-40): valid three years for the machine kinds it lists."""

    VALIDITY_YEARS: ClassVar[int] = 3

    declared_on = models.DateField(_("déclarée le"))
    reference = models.CharField(_("référence"), max_length=100, blank=True)
    machine_kinds = models.JSONField(
        _("types de machines couverts"),
        default=list,
        help_text=_('Codes des types de machines, p. ex. ["cnc_lathe", "milling_machine"].'),
    )

    class Meta:
        verbose_name = _("déclaration de dérogation")
        verbose_name_plural = _("déclarations de dérogation")
        ordering = ["-declared_on"]

    def __str__(self) -> str:
        return _("Dérogation du %(day)s") % {"day": f"{self.declared_on:%d/%m/%Y}"}

    @property
    def valid_until(self) -> datetime.date:
        """The last day it covers (included), like a medical fitness's."""
        year = self.declared_on.year + self.VALIDITY_YEARS
        try:
            anniversary = self.declared_on.replace(year=year)
        except ValueError:  # declared on 29 February
            anniversary = datetime.date(year, 3, 1)
        return anniversary - datetime.timedelta(days=1)

    def covers(self, kind: str, day: datetime.date) -> bool:
        return kind in self.machine_kinds and self.declared_on <= day <= self.valid_until

    def clean(self) -> None:
        kinds = self.machine_kinds
        if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
            raise ValidationError(
                {"machine_kinds": _("Une liste de types de machines est attendue.")}
            )
        unknown = sorted(set(kinds) - set(MachineKind.values))
        if unknown:
            raise ValidationError(
                {"machine_kinds": _("Types de machines inconnus : %(kinds)s.") % {"kinds": unknown}}
            )


class MedicalFitness(models.Model):
    """A doctor's opinion that a minor may use the machines of the derogation."""

    learner = models.ForeignKey(
        Learner,
        on_delete=models.CASCADE,
        related_name="medical_fitnesses",
        verbose_name=_("apprenant"),
    )
    issued_on = models.DateField(_("délivré le"))
    valid_until = models.DateField(_("valable jusqu'au"))

    class Meta:
        verbose_name = _("avis médical d'aptitude")
        verbose_name_plural = _("avis médicaux d'aptitude")
        ordering = ["learner", "-valid_until"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("issued_on")),
                name="medical_fitness_valid_after_issue",
                violation_error_message=_("La fin de validité précède la délivrance."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.learner} — {self.valid_until:%d/%m/%Y}"


class SafetyTraining(models.Model):
    """The safety training a learner received for one kind of machine."""

    learner = models.ForeignKey(
        Learner,
        on_delete=models.CASCADE,
        related_name="safety_trainings",
        verbose_name=_("apprenant"),
    )
    machine_kind = models.CharField(
        _("type de machine"), max_length=32, choices=MachineKind.choices
    )
    trained_on = models.DateField(_("formé le"))
    trainer = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"role": Role.TRAINER},
        verbose_name=_("formateur"),
    )

    class Meta:
        verbose_name = _("formation à la sécurité")
        verbose_name_plural = _("formations à la sécurité")
        ordering = ["learner", "machine_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "machine_kind"],
                name="safety_training_once_per_kind",
                violation_error_message=_(
                    "Cet apprenant a déjà une formation à la sécurité pour ce type de machine."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.learner} — {self.get_machine_kind_display()}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Présent")
    LATE = "late", _("En retard")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Excusé")


class AttendanceQuerySet(models.QuerySet["Attendance"]):
    def visible_to(self, user: AnyUser) -> AttendanceQuerySet:
        role = role_of(user)
        if role == Role.STAFF:
            return self.all()
        if role == Role.TRAINER and user.is_authenticated:
            return self.filter(session__trainer=user)
        return self.filter(learner__in=Learner.objects.visible_to(user))


class Attendance(models.Model):
    """One learner at one session: the line of the émargement.

    Hours attended are derived from these lines, never typed; every change is kept in
    ``history`` (who, when, before/after).
    """

    # PROTECT: the hours of an attestation must not vanish with a deleted session.
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("séance")
    )
    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("apprenant")
    )
    status = models.CharField(
        _("présence"), max_length=16, choices=AttendanceStatus.choices, blank=True
    )
    reason = models.CharField(_("motif"), max_length=255, blank=True)
    signed_at = models.DateTimeField(_("signé par l'apprenant le"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("relevé par"),
    )
    recorded_at = models.DateTimeField(_("relevé le"), null=True, blank=True)

    objects = AttendanceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("émargement")
        verbose_name_plural = _("émargements")
        ordering = ["session", "learner__last_name", "learner__first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "learner"],
                name="attendance_once_per_session_and_learner",
                violation_error_message=_("Cet apprenant a déjà une ligne d'émargement ici."),
            ),
            models.CheckConstraint(
                condition=~Q(status=AttendanceStatus.EXCUSED) | ~Q(reason=""),
                name="attendance_excused_has_reason",
                violation_error_message=_("Une absence excusée demande un motif."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} — {self.session}"


class ExcuseStatus(models.TextChoices):
    PENDING = "pending", _("En attente")
    ACCEPTED = "accepted", _("Acceptée")
    REFUSED = "refused", _("Refusée")


class ExcuseNoteQuerySet(models.QuerySet["ExcuseNote"]):
    def visible_to(self, user: AnyUser) -> ExcuseNoteQuerySet:
        if role_of(user) == Role.PARTNER:
            return self.none()
        return self.filter(learner__in=Learner.objects.visible_to(user))


def _excuse_path(note: ExcuseNote, filename: str) -> str:
    return f"excuses/{note.learner_id}/{filename}"


class ExcuseNote(models.Model):
    """A family's excuse for days of absence (motif, optional scan of a certificate).
    Accepted by the staff, it turns those days' unexcused absences into excused ones."""

    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="excuse_notes", verbose_name=_("apprenant")
    )
    first_day = models.DateField(_("du"))
    last_day = models.DateField(_("au"))
    reason = models.CharField(_("motif"), max_length=255)
    scan = models.FileField(_("justificatif"), upload_to=_excuse_path, blank=True)
    sent_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("envoyée par")
    )
    sent_at = models.DateTimeField(_("envoyée le"))
    status = models.CharField(
        _("statut"), max_length=10, choices=ExcuseStatus.choices, default=ExcuseStatus.PENDING
    )
    decided_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("décidée par"),
    )
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    decision_note = models.CharField(_("réponse de l'école"), max_length=255, blank=True)

    objects = ExcuseNoteQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("justificatif d'absence")
        verbose_name_plural = _("justificatifs d'absence")
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")),
                name="excuse_last_day_after_first",
                violation_error_message=_("Le dernier jour précède le premier."),
            ),
            models.CheckConstraint(
                condition=~Q(status=ExcuseStatus.REFUSED) | ~Q(decision_note=""),
                name="excuse_refusal_has_reason",
                violation_error_message=_("Un refus dit pourquoi."),
            ),
        ]

    def __str__(self) -> str:
        return _("%(learner)s, du %(first)s au %(last)s") % {
            "learner": self.learner,
            "first": f"{self.first_day:%d/%m/%Y}",
            "last": f"{self.last_day:%d/%m/%Y}",
        }


class AbsenceNotice(models.Model):
    """The one message a guardian gets for a half-day in which their minor child was
    marked absent without excuse: the row makes it one, however many sessions."""

    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="absence_notices")
    half_day = models.DateTimeField(_("demi-journée"))
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("avis d'absence")
        verbose_name_plural = _("avis d'absence aux familles")
        ordering = ["-half_day"]
        constraints = [
            models.UniqueConstraint(
                fields=["guardian", "half_day"], name="one_notice_per_guardian_and_half_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.guardian} — {self.half_day:%d/%m/%Y %H:%M}"


class CompetencyLevel(models.TextChoices):
    NOT_ACQUIRED = "not_acquired", _("Non acquis")
    IN_PROGRESS = "in_progress", _("En cours d'acquisition")
    ACQUIRED = "acquired", _("Acquis")
    MASTERED = "mastered", _("Maîtrisé")


class EvidenceSource(models.TextChoices):
    SESSION = "session", _("Séance")
    ORDER = "order", _("Commande de l'atelier")
    PLACEMENT = "placement", _("Évaluation de stage")
    ASSESSMENT = "assessment", _("Évaluation du formateur")


class CompetencyEvidenceQuerySet(models.QuerySet["CompetencyEvidence"]):
    def visible_to(self, user: AnyUser) -> CompetencyEvidenceQuerySet:
        return self.filter(learner__in=Learner.objects.visible_to(user))


class CompetencyEvidence(models.Model):
    """One observation of a learner's competency: what the portfolio is made of.

    Whoever assessed (a trainer, a company tutor without an account) is named; the
    source says where it was shown (a session, an order, a placement, an assessment).
    """

    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("apprenant")
    )
    competency = models.ForeignKey(
        Competency, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("compétence")
    )
    level = models.CharField(_("niveau"), max_length=16, choices=CompetencyLevel.choices)
    source = models.CharField(_("source"), max_length=16, choices=EvidenceSource.choices)
    reference = models.CharField(
        _("contexte"), max_length=255, blank=True, help_text=_("Stage, commande, séance…")
    )
    assessor_name = models.CharField(_("évaluateur"), max_length=255)
    assessor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("compte de l'évaluateur"),
    )
    date = models.DateField(_("date"))
    note = models.TextField(_("remarque"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompetencyEvidenceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("preuve de compétence")
        verbose_name_plural = _("preuves de compétences")
        ordering = ["learner", "competency", "-date"]
        indexes = [models.Index(fields=["learner", "competency", "-date"])]

    def __str__(self) -> str:
        return f"{self.learner} — {self.competency.code} : {self.get_level_display()}"


# ---------------------------------------------------------------------------------------
# « Faire pour apprendre »: workshop orders from companies, time logs, inspection.
# ---------------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Déposée")
    REVIEWED = "reviewed", _("Étudiée")
    ACCEPTED = "accepted", _("Acceptée")
    DECLINED = "declined", _("Déclinée")
    PLANNED = "planned", _("Planifiée")
    IN_PRODUCTION = "in_production", _("En production")
    QUALITY_CONTROL = "quality_control", _("En contrôle qualité")
    DELIVERED = "delivered", _("Livrée")
    CLOSED = "closed", _("Close")


# Each move of an order, and who makes it. Quality control may send parts back to
# production (a non-conformity to rework).
ORDER_MOVES: dict[tuple[str, str], frozenset[str]] = {
    (OrderStatus.SUBMITTED, OrderStatus.REVIEWED): frozenset({Role.STAFF}),
    (OrderStatus.REVIEWED, OrderStatus.ACCEPTED): frozenset({Role.STAFF}),
    (OrderStatus.SUBMITTED, OrderStatus.DECLINED): frozenset({Role.STAFF}),
    (OrderStatus.REVIEWED, OrderStatus.DECLINED): frozenset({Role.STAFF}),
    (OrderStatus.ACCEPTED, OrderStatus.PLANNED): frozenset({Role.STAFF}),
    (OrderStatus.PLANNED, OrderStatus.IN_PRODUCTION): frozenset({Role.STAFF, Role.TRAINER}),
    (OrderStatus.IN_PRODUCTION, OrderStatus.QUALITY_CONTROL): frozenset({Role.STAFF, Role.TRAINER}),
    (OrderStatus.QUALITY_CONTROL, OrderStatus.IN_PRODUCTION): frozenset({Role.STAFF, Role.TRAINER}),
    (OrderStatus.QUALITY_CONTROL, OrderStatus.DELIVERED): frozenset({Role.STAFF}),
    (OrderStatus.DELIVERED, OrderStatus.CLOSED): frozenset({Role.STAFF}),
}


# An order's way from its submission to its closing, when nothing is declined or sent
# back: the moves of ORDER_MOVES one after the other.
ORDER_PATH: tuple[OrderStatus, ...] = (
    OrderStatus.SUBMITTED,
    OrderStatus.REVIEWED,
    OrderStatus.ACCEPTED,
    OrderStatus.PLANNED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.QUALITY_CONTROL,
    OrderStatus.DELIVERED,
    OrderStatus.CLOSED,
)


# What the apps above courses add to an order's page (billing: its quote, delivery
# notes and invoices): each takes the request and the order, returns HTML or "".
OrderSection = Callable[[Any, "WorkshopOrder"], str]
order_sections: Registry[OrderSection] = Registry()


def sees_prices(user: AnyUser) -> bool:
    """The money of an order is the school's and its customer's: trainers and learners
    work on the order without seeing its price."""
    return role_of(user) in (Role.STAFF, Role.PARTNER)


class OrderQuerySet(models.QuerySet["WorkshopOrder"]):
    def visible_to(self, user: AnyUser) -> OrderQuerySet:
        role = role_of(user)
        if role in (Role.STAFF, Role.TRAINER):
            return self.all()
        if role == Role.PARTNER:
            return self.filter(company__in=Company.objects.visible_to(user))
        if role in (Role.LEARNER, Role.GUARDIAN):
            return self.filter(learners__in=Learner.objects.visible_to(user)).distinct()
        return self.none()


def _drawing_path(order: WorkshopOrder, filename: str) -> str:
    return f"orders/{order.company_id}/{filename}"


class WorkshopOrder(models.Model):
    """Parts a company orders from the school's workshop, made by the pupils."""

    company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("entreprise"),
    )
    reference = models.CharField(_("référence de la pièce"), max_length=100)
    description = models.TextField(_("description"))
    drawing = models.FileField(_("plan"), upload_to=_drawing_path)
    material = models.CharField(_("matière"), max_length=120)
    quantity = models.PositiveIntegerField(_("quantité"), validators=[MinValueValidator(1)])
    tolerances = models.TextField(_("tolérances et remarques"), blank=True)
    requested_date = models.DateField(_("livraison souhaitée le"))
    target_price = models.DecimalField(
        _("prix cible (€ HT)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    price = models.DecimalField(
        _("prix convenu (€ HT)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    planned_start = models.DateField(_("début prévu"), null=True, blank=True)
    planned_end = models.DateField(_("fin prévue"), null=True, blank=True)
    decline_reason = models.TextField(_("motif du refus"), blank=True)
    status = models.CharField(
        _("statut"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.SUBMITTED
    )
    supervisor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervised_orders",
        limit_choices_to={"role": Role.TRAINER},
        verbose_name=_("formateur responsable"),
    )
    sessions = models.ManyToManyField(
        Session, blank=True, related_name="orders", verbose_name=_("séances de production")
    )
    learners = models.ManyToManyField(
        Learner, blank=True, related_name="orders", verbose_name=_("apprenants affectés")
    )
    competencies = models.ManyToManyField(
        Competency, blank=True, related_name="orders", verbose_name=_("compétences mobilisées")
    )
    delivered_quantity = models.PositiveIntegerField(_("quantité livrée"), default=0)
    material_cost = models.DecimalField(
        _("coût de la matière (€ HT)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Ce que la matière a coûté à l'école : la marge de la commande en dépend."),
    )
    placed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("déposée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = OrderQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    if TYPE_CHECKING:
        events: RelatedManager[OrderEvent]
        time_logs: RelatedManager[TimeLog]

    class Meta:
        verbose_name = _("commande de l'atelier")
        verbose_name_plural = _("commandes de l'atelier")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1),
                name="order_quantity_positive",
                violation_error_message=_("La quantité est d'au moins une pièce."),
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="order_decline_has_reason",
                violation_error_message=_("Un refus doit être motivé."),
            ),
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gte=F("planned_start")),
                name="order_planned_end_after_start",
                violation_error_message=_("La fin prévue précède le début prévu."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} × {self.quantity} — {self.company}"

    def may_move(self, status: str, user: AnyUser) -> bool:
        roles = ORDER_MOVES.get((self.status, status), frozenset())
        if role_of(user) not in roles:
            return False
        # A trainer moves the orders they supervise, not another trainer's.
        return role_of(user) != Role.TRAINER or self.supervisor_id == getattr(user, "pk", None)

    def next_statuses(self) -> list[str]:
        return [to for (frm, to) in ORDER_MOVES if frm == self.status]


class OrderEvent(models.Model):
    """Who moved an order, when, from what to what: the order's timeline."""

    order = models.ForeignKey(WorkshopOrder, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices)
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("étape de commande")
        verbose_name_plural = _("étapes de commande")
        ordering = ["order", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.order} : {self.get_to_status_display()}"


class Operation(models.TextChoices):
    TURNING = "turning", _("Tournage")
    MILLING = "milling", _("Fraisage")
    DRILLING = "drilling", _("Perçage")
    GRINDING = "grinding", _("Rectification")
    PROGRAMMING = "programming", _("Programmation")
    INSPECTION = "inspection", _("Contrôle")
    DEBURRING = "deburring", _("Ébavurage")
    SETUP = "setup", _("Réglage")


class TimeLogQuerySet(models.QuerySet["TimeLog"]):
    def visible_to(self, user: AnyUser) -> TimeLogQuerySet:
        role = role_of(user)
        if role == Role.STAFF:
            return self.all()
        if role == Role.TRAINER:
            # A learner's hours are theirs: a trainer sees those of the learners they
            # teach, and every log of the orders they supervise.
            return self.filter(
                Q(learner__in=Learner.objects.visible_to(user)) | Q(order__supervisor=user)
            )
        if role in (Role.LEARNER, Role.GUARDIAN):
            return self.filter(learner__in=Learner.objects.visible_to(user))
        return self.none()


class TimeLog(models.Model):
    """Hours a learner spent on an order during a session, and what came of them."""

    order = models.ForeignKey(
        WorkshopOrder,
        on_delete=models.PROTECT,
        related_name="time_logs",
        verbose_name=_("commande"),
    )
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="time_logs", verbose_name=_("séance")
    )
    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, related_name="time_logs", verbose_name=_("apprenant")
    )
    hours = models.DecimalField(
        _("heures"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25"))],
    )
    operation = models.CharField(_("opération"), max_length=16, choices=Operation.choices)
    machine = models.ForeignKey(
        Machine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="time_logs",
        verbose_name=_("machine"),
    )
    parts_made = models.PositiveIntegerField(_("pièces réalisées"), default=0)
    parts_scrapped = models.PositiveIntegerField(_("pièces rebutées"), default=0)
    logged_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("saisi par")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TimeLogQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("temps passé")
        verbose_name_plural = _("temps passés")
        ordering = ["-session__start", "learner"]

    def __str__(self) -> str:
        return f"{self.learner} — {self.order.reference} — {self.hours} h"


@dataclass(frozen=True)
class InspectionRow:
    characteristic: Characteristic
    values: list[Measurement]

    @property
    def conforms(self) -> bool:
        return all(measure.conforms for measure in self.values)


@dataclass(frozen=True)
class InspectionReport:
    """An inspection read back: each characteristic with its measures, and whether
    the parts conform (every measure within its tolerance)."""

    rows: list[InspectionRow]

    @property
    def parts(self) -> list[int]:
        return sorted({m.part_number for row in self.rows for m in row.values})

    @property
    def conforms(self) -> bool:
        return bool(self.rows) and all(row.conforms for row in self.rows)

    @property
    def nonconforming(self) -> int:
        return sum(1 for row in self.rows for m in row.values if not m.conforms)


class Inspection(models.Model):
    """The order's inspection report: characteristics measured on sampled parts."""

    order = models.OneToOneField(
        WorkshopOrder,
        on_delete=models.PROTECT,
        related_name="inspection",
        verbose_name=_("commande"),
    )
    inspected_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("contrôlé par")
    )
    inspected_on = models.DateField(_("contrôlé le"), default=timezone.localdate)
    notes = models.TextField(_("observations"), blank=True)
    countersigned_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contresigné par"),
    )
    countersigned_at = models.DateTimeField(_("contresigné le"), null=True, blank=True)
    document = models.OneToOneField(
        "school.IssuedDocument",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspection",
        verbose_name=_("rapport de contrôle"),
    )

    history = HistoricalRecords()

    if TYPE_CHECKING:
        characteristics: RelatedManager[Characteristic]

    class Meta:
        verbose_name = _("rapport de contrôle")
        verbose_name_plural = _("rapports de contrôle")

    def __str__(self) -> str:
        return _("Contrôle — %(order)s") % {"order": self.order}

    def report(self) -> InspectionReport:
        # Prefetch "characteristics__measurements" to read many reports in two queries.
        if "characteristics" in getattr(self, "_prefetched_objects_cache", {}):
            characteristics = list(self.characteristics.all())
        else:
            characteristics = list(self.characteristics.prefetch_related("measurements"))
        return InspectionReport(
            [InspectionRow(c, list(c.measurements.all())) for c in characteristics]
        )


class Characteristic(models.Model):
    """A dimension to check: nominal value and its deviations, as on the drawing
    (Ø20 H7: 0 / +0.021; Ø25 g6: −0.020 / −0.007, both below the nominal)."""

    inspection = models.ForeignKey(
        Inspection, on_delete=models.CASCADE, related_name="characteristics"
    )
    name = models.CharField(_("caractéristique"), max_length=120)
    nominal = models.DecimalField(_("cote nominale"), max_digits=10, decimal_places=4)
    lower_tolerance = models.DecimalField(_("écart inférieur"), max_digits=8, decimal_places=4)
    upper_tolerance = models.DecimalField(_("écart supérieur"), max_digits=8, decimal_places=4)
    unit = models.CharField(_("unité"), max_length=10, default="mm")
    order = models.PositiveSmallIntegerField(default=0)

    if TYPE_CHECKING:
        measurements: RelatedManager[Measurement]

    class Meta:
        verbose_name = _("caractéristique contrôlée")
        verbose_name_plural = _("caractéristiques contrôlées")
        ordering = ["inspection", "order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lower_tolerance__lte=F("upper_tolerance")),
                name="tolerance_lower_below_upper",
                violation_error_message=_(
                    "L'écart inférieur doit être plus petit que l'écart supérieur."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.nominal} {self.lower_tolerance:+}/{self.upper_tolerance:+}"

    @property
    def minimum(self) -> Decimal:
        return self.nominal + self.lower_tolerance

    @property
    def maximum(self) -> Decimal:
        return self.nominal + self.upper_tolerance

    def conforms(self, value: Decimal) -> bool:
        return self.minimum <= value <= self.maximum


class Measurement(models.Model):
    characteristic = models.ForeignKey(
        Characteristic, on_delete=models.CASCADE, related_name="measurements"
    )
    part_number = models.PositiveSmallIntegerField(_("pièce n°"))
    value = models.DecimalField(_("valeur mesurée"), max_digits=10, decimal_places=4)

    class Meta:
        verbose_name = _("mesure")
        verbose_name_plural = _("mesures")
        ordering = ["characteristic", "part_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["characteristic", "part_number"],
                name="one_measure_per_part_and_characteristic",
                violation_error_message=_("Cette pièce a déjà une mesure pour cette cote."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.characteristic.name} #{self.part_number} = {self.value}"

    @property
    def conforms(self) -> bool:
        return self.characteristic.conforms(self.value)


def customer_documents(user: AnyUser) -> Q:
    """A partner sees the inspection reports of their company's orders once delivered."""
    if role_of(user) != Role.PARTNER:
        return Q(pk__in=[])
    return Q(
        inspection__order__company__in=Company.objects.visible_to(user),
        inspection__order__status__in=[OrderStatus.DELIVERED, OrderStatus.CLOSED],
    )
