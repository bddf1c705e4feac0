"""Assessment: the situations in which learners are assessed (formative, summative,
CCF), their results, the terms they are reported in, and the comments of the
conseil de classe.

A result's competency levels become the learner's competency evidence when the
situation is published (``services.situation_publish``): the portfolio's rule (the
latest evidence gives the level) then reads them like any other observation, and a
later correction changes that evidence row, never adds a second one.

Marks are ``Decimal``; a mark out of any scale is brought to /20 for averages, and a
situation assessed by levels alone has the mark its grid gives (``LEVEL_POINTS``).
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, cast

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from courses.models import (
    Competency,
    CompetencyEvidence,
    CompetencyLevel,
    Course,
    Session,
)
from internships.models import Placement
from school.models import AnyUser, Cohort, Learner, Programme, Role, User, role_of

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager

TWENTY = Decimal("20")
HUNDREDTH = Decimal("0.01")

# What a level is worth on a CCF grid: the share of a competency's weight it earns.
# (Non acquis 0, en cours 1/3, acquis 2/3, maîtrisé all: the grids of the CAP and Bac
# pro machining diplomas.)
LEVEL_POINTS: dict[str, Decimal] = {
    CompetencyLevel.NOT_ACQUIRED: Decimal(0),
    CompetencyLevel.IN_PROGRESS: Decimal(1) / 3,
    CompetencyLevel.ACQUIRED: Decimal(2) / 3,
    CompetencyLevel.MASTERED: Decimal(1),
}


def to_hundredth(mark: Decimal) -> Decimal:
    return mark.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def shown(number: Decimal) -> str:
    """A mark as the French write it: « 14,5 », « 20 » (never « 2E+1 »)."""
    return f"{number.normalize():f}".replace(".", ",")


class Term(models.Model):
    """A period a cohort's bulletin reports (trimestre, semestre), with its conseil de
    classe."""

    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, related_name="terms", verbose_name=_("promotion")
    )
    name = models.CharField(_("nom"), max_length=80)
    start_date = models.DateField(_("début"))
    end_date = models.DateField(_("fin"))
    council_date = models.DateField(_("conseil de classe"), null=True, blank=True)

    class Meta:
        verbose_name = _("période")
        verbose_name_plural = _("périodes")
        ordering = ["cohort", "start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "name"],
                name="term_name_unique_per_cohort",
                violation_error_message=_("Cette promotion a déjà une période de ce nom."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")),
                name="term_ends_after_start",
                violation_error_message=_("La fin de la période doit suivre son début."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} — {self.cohort}"


class CCFUnit(models.Model):
    """A unit of the diploma assessed by CCF (EP1, U31…), with its coefficient: the
    programme's grid, which the proposed marks follow."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="ccf_units", verbose_name=_("formation")
    )
    code = models.CharField(_("code"), max_length=12)
    title = models.CharField(_("intitulé"), max_length=200)
    coefficient = models.DecimalField(
        _("coefficient"),
        max_digits=4,
        decimal_places=1,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.1"))],
    )

    class Meta:
        verbose_name = _("unité certificative")
        verbose_name_plural = _("unités certificatives")
        ordering = ["programme", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="ccf_unit_code_unique_per_programme",
                violation_error_message=_("Cette formation a déjà une unité avec ce code."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class SituationKind(models.TextChoices):
    FORMATIVE = "formative", _("Formative")
    SUMMATIVE = "summative", _("Sommative")
    CCF = "ccf", _("CCF")


class Scale(models.TextChoices):
    LEVELS = "levels", _("Niveaux de compétence")
    MARK = "mark", _("Note")
    BOTH = "both", _("Niveaux et note")


class SituationQuerySet(models.QuerySet["Situation"]):
    def visible_to(self, user: AnyUser) -> SituationQuerySet:
        """Staff all; a trainer the situations they assess, those of the courses they
        teach the cohort, and all of the cohorts they head (the conseil de classe); a
        learner or guardian the published ones of their cohorts."""
        role = role_of(user)
        if role == Role.STAFF:
            return self.all()
        if role == Role.TRAINER:
            trainer = cast(User, user)
            teaches = Session.objects.filter(
                trainer=trainer, cohort=OuterRef("cohort"), course=OuterRef("course")
            )
            return self.filter(
                Q(assessors=trainer) | Q(cohort__head_trainer=trainer) | Exists(teaches)
            ).distinct()
        if role in (Role.LEARNER, Role.GUARDIAN):
            return self.published().filter(cohort__in=Cohort.objects.visible_to(user))
        return self.none()

    def published(self) -> SituationQuerySet:
        return self.filter(published_at__isnull=False)


class Situation(models.Model):
    """A situation of assessment: a test, a workshop task, a CCF situation (in the
    workshop or during a PFMP), for one cohort."""

    cohort = models.ForeignKey(
        Cohort, on_delete=models.PROTECT, related_name="situations", verbose_name=_("promotion")
    )
    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        related_name="situations",
        null=True,
        blank=True,
        verbose_name=_("module"),
    )
    ccf_unit = models.ForeignKey(
        CCFUnit,
        on_delete=models.PROTECT,
        related_name="situations",
        null=True,
        blank=True,
        verbose_name=_("unité certificative"),
    )
    title = models.CharField(_("intitulé"), max_length=200)
    date = models.DateField(_("date"))
    kind = models.CharField(_("nature"), max_length=12, choices=SituationKind.choices)
    in_placement = models.BooleanField(
        _("en PFMP"), default=False, help_text=_("Évaluée par le tuteur en entreprise.")
    )
    scale = models.CharField(_("échelle"), max_length=8, choices=Scale.choices)
    max_mark = models.DecimalField(
        _("noté sur"),
        max_digits=5,
        decimal_places=2,
        default=TWENTY,
        validators=[MinValueValidator(Decimal(1)), MaxValueValidator(Decimal(100))],
    )
    coefficient = models.DecimalField(
        _("coefficient"),
        max_digits=4,
        decimal_places=1,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    competencies = models.ManyToManyField(
        Competency,
        through="SituationCompetency",
        related_name="situations",
        verbose_name=_("compétences évaluées"),
    )
    assessors = models.ManyToManyField(
        User,
        blank=True,
        related_name="assessed_situations",
        limit_choices_to={"role": Role.TRAINER},
        verbose_name=_("évaluateurs"),
    )
    jury_date = models.DateField(_("date du jury"), null=True, blank=True)
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)
    locked_at = models.DateTimeField(_("verrouillée le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SituationQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["created_at"])

    if TYPE_CHECKING:
        weights: RelatedManager[SituationCompetency]
        results: RelatedManager[Result]

    class Meta:
        verbose_name = _("situation d'évaluation")
        verbose_name_plural = _("situations d'évaluation")
        ordering = ["cohort", "-date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=SituationKind.CCF) | Q(ccf_unit__isnull=False),
                name="ccf_situation_has_its_unit",
                violation_error_message=_("Une situation de CCF relève d'une unité certificative."),
            ),
            models.CheckConstraint(
                condition=Q(kind=SituationKind.CCF) | Q(in_placement=False),
                name="only_ccf_is_assessed_in_placement",
                violation_error_message=_("Seule une situation de CCF s'évalue en PFMP."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.date:%d/%m/%Y})"

    @property
    def has_levels(self) -> bool:
        return self.scale in (Scale.LEVELS, Scale.BOTH)

    @property
    def has_mark(self) -> bool:
        return self.scale in (Scale.MARK, Scale.BOTH)

    def is_locked(self, today: datetime.date | None = None) -> bool:
        """Locked by hand, or past its jury: a CCF mark the jury saw never changes."""
        today = today or timezone.localdate()
        return self.locked_at is not None or (self.jury_date is not None and today > self.jury_date)

    def can_be_changed_by(self, user: AnyUser) -> bool:
        role = role_of(user)
        if role == Role.STAFF:
            return True
        return role == Role.TRAINER and self.assessors.filter(pk=user.pk).exists()


class SituationCompetency(models.Model):
    """A competency a situation assesses, and its weight in the situation's mark (in
    percent: a situation's weights sum to 100)."""

    situation = models.ForeignKey(Situation, on_delete=models.CASCADE, related_name="weights")
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="+")
    weight = models.PositiveSmallIntegerField(
        _("poids (%)"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("compétence évaluée")
        verbose_name_plural = _("compétences évaluées")
        ordering = ["situation", "competency"]
        constraints = [
            models.UniqueConstraint(
                fields=["situation", "competency"], name="competency_once_per_situation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.competency.code} ({self.weight} %)"


class ResultStatus(models.TextChoices):
    ASSESSED = "assessed", _("Évalué")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Absent excusé")
    EXEMPT = "exempt", _("Dispensé")


class ResultQuerySet(models.QuerySet["Result"]):
    def visible_to(self, user: AnyUser) -> ResultQuerySet:
        """The results of the situations one sees; a learner or guardian only their
        child's, a partner only the PFMP grids their company's tutors filled."""
        role = role_of(user)
        if role == Role.PARTNER:
            return self.filter(placement_grid__placement__in=Placement.objects.visible_to(user))
        situations = Situation.objects.visible_to(user)
        if role in (Role.LEARNER, Role.GUARDIAN):
            return self.filter(
                situation__in=situations, learner__in=Learner.objects.visible_to(user)
            )
        return self.filter(situation__in=situations)


class Result(models.Model):
    """A learner's result in a situation: a status, a mark and/or levels per competency."""

    situation = models.ForeignKey(
        Situation, on_delete=models.CASCADE, related_name="results", verbose_name=_("situation")
    )
    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, related_name="results", verbose_name=_("apprenant")
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=ResultStatus.choices, default=ResultStatus.ASSESSED
    )
    mark = models.DecimalField(
        _("note"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    comment = models.CharField(_("appréciation"), max_length=500, blank=True)
    assessor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("saisi par"),
    )
    assessor_name = models.CharField(_("évaluateur"), max_length=255)
    entered_at = models.DateTimeField(_("saisi le"))

    objects = ResultQuerySet.as_manager()
    history = HistoricalRecords()

    if TYPE_CHECKING:
        levels: RelatedManager[ResultLevel]

    class Meta:
        verbose_name = _("résultat")
        verbose_name_plural = _("résultats")
        ordering = ["situation", "learner__last_name", "learner__first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["situation", "learner"],
                name="one_result_per_learner_and_situation",
                violation_error_message=_("Cet apprenant a déjà un résultat ici."),
            ),
            models.CheckConstraint(
                condition=Q(status=ResultStatus.ASSESSED) | Q(mark__isnull=True),
                name="result_not_assessed_has_no_mark",
                violation_error_message=_("Un absent ou un dispensé n'a pas de note."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} — {self.situation}"


class ResultLevel(models.Model):
    """The level a learner showed in one competency of the situation. Once the situation
    is published, ``evidence`` is that level in the learner's portfolio."""

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="levels")
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("niveau"), max_length=16, choices=CompetencyLevel.choices)
    evidence = models.OneToOneField(
        CompetencyEvidence,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assessment",
        verbose_name=_("preuve du portfolio"),
    )

    history = HistoricalRecords(excluded_fields=["evidence"])

    class Meta:
        verbose_name = _("niveau évalué")
        verbose_name_plural = _("niveaux évalués")
        ordering = ["result", "competency"]
        constraints = [
            models.UniqueConstraint(
                fields=["result", "competency"], name="one_level_per_result_and_competency"
            )
        ]

    def __str__(self) -> str:
        return f"{self.competency.code} : {self.get_level_display()}"


class PlacementGridQuerySet(models.QuerySet["PlacementGrid"]):
    def visible_to(self, user: AnyUser) -> PlacementGridQuerySet:
        """Staff all; a trainer those of the situations they see; a partner those of
        their company's placements (the grids its tutors fill); families none (they
        read the result once published)."""
        role = role_of(user)
        if role == Role.STAFF:
            return self.all()
        if role == Role.TRAINER:
            return self.filter(situation__in=Situation.objects.visible_to(user))
        if role == Role.PARTNER:
            return self.filter(placement__in=Placement.objects.visible_to(user))
        return self.none()


class PlacementGrid(models.Model):
    """A CCF situation in PFMP sent to a learner's tutor by a single-use link (the
    tutor's evaluation's mechanism): the tutor fills the grid, which becomes the
    learner's result."""

    situation = models.ForeignKey(
        Situation, on_delete=models.CASCADE, related_name="grids", verbose_name=_("situation")
    )
    placement = models.ForeignKey(
        Placement, on_delete=models.CASCADE, related_name="ccf_grids", verbose_name=_("stage")
    )
    result = models.OneToOneField(
        Result,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="placement_grid",
        verbose_name=_("résultat"),
    )
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    sent_to = models.EmailField(_("envoyée à"))
    sent_at = models.DateTimeField(_("envoyée le"))
    expires_at = models.DateTimeField(_("lien valable jusqu'au"))
    submitted_at = models.DateTimeField(_("remplie le"), null=True, blank=True)
    tutor_name = models.CharField(_("remplie par"), max_length=255, blank=True)

    objects = PlacementGridQuerySet.as_manager()

    class Meta:
        verbose_name = _("grille de CCF en PFMP")
        verbose_name_plural = _("grilles de CCF en PFMP")
        ordering = ["situation", "placement"]
        constraints = [
            models.UniqueConstraint(
                fields=["situation", "placement"], name="one_grid_per_situation_and_placement"
            )
        ]

    def __str__(self) -> str:
        return f"{self.situation} — {self.placement}"

    @property
    def is_open(self) -> bool:
        return (
            self.submitted_at is None
            and bool(self.token_hash)
            and (self.expires_at > timezone.now())
        )


class TermCommentQuerySet(models.QuerySet["TermComment"]):
    def visible_to(self, user: AnyUser) -> TermCommentQuerySet:
        role = role_of(user)
        if role == Role.STAFF:
            return self.all()
        if role == Role.TRAINER:
            return self.filter(term__cohort__in=Cohort.objects.taught_by(cast(User, user)))
        return self.none()  # families read the comments in the issued bulletin


class TermComment(models.Model):
    """A trainer's comment on a learner's term, course by course; without a course, the
    head trainer's overall comment (the conseil de classe's)."""

    term = models.ForeignKey(
        Term, on_delete=models.CASCADE, related_name="comments", verbose_name=_("période")
    )
    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="term_comments", verbose_name=_("apprenant")
    )
    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("module"),
    )
    text = models.TextField(_("appréciation"), max_length=1000)
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("auteur")
    )
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = TermCommentQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("appréciation")
        verbose_name_plural = _("appréciations")
        ordering = ["term", "learner", "course"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "learner", "course"],
                condition=Q(course__isnull=False),
                name="one_comment_per_course",
            ),
            models.UniqueConstraint(
                fields=["term", "learner"],
                condition=Q(course__isnull=True),
                name="one_overall_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} — {self.term}"
