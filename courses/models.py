"""The school's week: competency frameworks, courses, rooms and machines, sessions,
machine authorisations for minors, and attendance (émargement)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from school.models import (
    AnyUser,
    Cohort,
    Enrolment,
    Learner,
    Programme,
    Role,
    User,
    role_of,
)

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


class SessionQuerySet(models.QuerySet["Session"]):
    def active(self) -> SessionQuerySet:
        return self.exclude(status=SessionStatus.CANCELLED)

    def between(self, start: datetime.datetime, end: datetime.datetime) -> SessionQuerySet:
        return self.filter(start__lt=end, end__gt=start)

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
        group = Session.learners.through.objects.filter(session_id=OuterRef("pk"))
        day = TruncDate("start", tzinfo=timezone.get_default_timezone())
        enrolled = Enrolment.objects.filter(
            learner__in=learners, cohort_id=OuterRef("cohort_id"), start_date__lte=OuterRef("day")
        ).filter(Q(end_date__isnull=True) | Q(end_date__gte=OuterRef("day")))
        return self.alias(day=day).filter(
            Exists(group.filter(learner__in=learners)) | (~Exists(group) & Exists(enrolled))
        )


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
            )
        ]
        indexes = [
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
        unknown = sorted(set(self.machine_kinds or []) - set(MachineKind.values))
        if not isinstance(self.machine_kinds, list) or unknown:
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
