"""Writing assessments: a situation and its grid, a class's results in one go, their
publication (levels become portfolio evidence), the lock, the term's comments.

Each write is one transaction that locks the situation first: two trainers saving the
grid at once are saved one after the other, and a lock or a jury date reached while one
waited is seen.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from courses.models import (
    Competency,
    CompetencyEvidence,
    CompetencyLevel,
    Course,
    EvidenceSource,
    Session,
)
from courses.scheduling import local
from internships.models import Placement, PlacementQuerySet, PlacementStatus, hash_token
from school.db import save_checked
from school.models import Cohort, Enrolment, Learner, Role, User, role_of
from school.notifications import absolute_url, notify

from .models import (
    PlacementGrid,
    Result,
    ResultLevel,
    ResultStatus,
    Scale,
    Situation,
    SituationCompetency,
    SituationKind,
    Term,
    TermComment,
    shown,
)


def _staff_only(by: User) -> None:
    if role_of(by) != Role.STAFF:
        raise PermissionDenied(_("Seule l'équipe de l'école fait cette opération."))


def _locked_situation(situation: Situation) -> Situation:
    situation = (
        Situation.objects.select_for_update(of=("self",))
        .select_related("cohort__programme", "course")
        .get(pk=situation.pk)
    )
    if situation.is_locked():
        raise ValidationError(
            _("La situation « %(title)s » est verrouillée : plus aucune modification.")
            % {"title": situation.title}
        )
    return situation


# ---------------------------------------------------------------------------------------
# The situation and its grid
# ---------------------------------------------------------------------------------------


@transaction.atomic
def situation_save(
    *,
    by: User,
    situation: Situation | None = None,
    weights: Mapping[int, int],
    assessors: Sequence[User] = (),
    **fields: Any,
) -> Situation:
    """Create or change a situation with its competencies' weights (percent, summing to
    100) and its assessors. A trainer writes the situations of the courses they teach
    and assesses them; the staff any."""
    if situation is not None:
        situation = _locked_situation(situation)
        if not situation.can_be_changed_by(by):
            raise PermissionDenied(_("Vous n'évaluez pas cette situation."))
    else:
        situation = Situation()
    for name, value in fields.items():
        setattr(situation, name, value)
    if situation.jury_date is not None and situation.jury_date < timezone.localdate():
        raise ValidationError({"jury_date": _("La date du jury est passée.")})
    _check_grid(situation, weights)
    if role_of(by) == Role.TRAINER:
        teaches = Session.objects.filter(
            trainer=by, cohort=situation.cohort, course=situation.course
        ).exists()
        if not teaches and situation.cohort.head_trainer_id != by.pk:
            raise PermissionDenied(_("Vous n'enseignez pas ce module à cette promotion."))
        assessors = [*assessors, by] if by not in assessors else assessors
    if any(role_of(user) != Role.TRAINER for user in assessors):
        raise ValidationError({"assessors": _("Les évaluateurs sont des formateurs.")})
    save_checked(situation)
    situation.weights.all().delete()
    SituationCompetency.objects.bulk_create(
        SituationCompetency(situation=situation, competency_id=competency, weight=weight)
        for competency, weight in weights.items()
    )
    situation.assessors.set(assessors)
    return situation


def _check_grid(situation: Situation, weights: Mapping[int, int]) -> None:
    programme = situation.cohort.programme
    if situation.course is not None and situation.course.programme_id != programme.pk:
        raise ValidationError({"course": _("Ce module n'est pas de la formation de la promotion.")})
    if situation.ccf_unit is not None and situation.ccf_unit.programme_id != programme.pk:
        raise ValidationError(
            {"ccf_unit": _("Cette unité n'est pas de la formation de la promotion.")}
        )
    if situation.kind != SituationKind.CCF and situation.course is None:
        raise ValidationError({"course": _("Une évaluation hors CCF relève d'un module.")})
    if situation.scale != Scale.MARK or weights:
        if not weights:
            raise ValidationError(
                {"weights": _("Une évaluation par niveaux porte sur au moins une compétence.")}
            )
        known = set(
            Competency.objects.filter(pk__in=weights, block__programme=programme).values_list(
                "pk", flat=True
            )
        )
        if known != set(weights):
            raise ValidationError(
                {"weights": _("Ces compétences ne sont pas du référentiel de la formation.")}
            )
        check_weights(weights)


def check_weights(weights: Mapping[int, int]) -> None:
    """Each weight between 1 and 100 %, all summing to 100 % (the admin's inline too)."""
    if any(not 1 <= weight <= 100 for weight in weights.values()):
        raise ValidationError({"weights": _("Chaque poids est entre 1 et 100 %.")})
    total = sum(weights.values())
    if total != 100:
        raise ValidationError(
            {
                "weights": _("Les poids des compétences font %(total)d %%, pas 100 %%.")
                % {"total": total}
            }
        )


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One learner's line of the grid, as typed."""

    learner: int
    status: str = ResultStatus.ASSESSED
    mark: Decimal | str | None = None
    levels: dict[int, str] = field(default_factory=dict)
    comment: str = ""


def in_cohort(situation: Situation) -> Q:
    """The learners a situation assesses: enrolled in its cohort on its date."""
    enrolled = Enrolment.objects.filter(
        cohort=situation.cohort_id, start_date__lte=situation.date
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=situation.date))
    return Q(pk__in=enrolled.values("learner"))


@transaction.atomic
def results_record(
    *, situation: Situation, entries: Iterable[Entry], by: User | None, assessor_name: str = ""
) -> list[Result]:
    """Save a class's lines in one go: every line is checked before any is written, so
    a mark above the scale on the last line leaves the first ones as they were. With an
    ``assessor_name``, the lines are a tutor's (``by`` their account, if they have one)."""
    situation = _locked_situation(situation)
    if assessor_name == "" and (by is None or not situation.can_be_changed_by(by)):
        raise PermissionDenied(_("Vous n'évaluez pas cette situation."))
    entries = list(entries)
    learners = Learner.objects.filter(in_cohort(situation)).in_bulk(
        [entry.learner for entry in entries]
    )
    weights = set(situation.weights.values_list("competency_id", flat=True))
    checked = [_checked(situation, entry, learners, weights) for entry in entries]
    if len({entry.learner for entry in entries}) != len(entries):
        raise ValidationError(_("Un apprenant figure deux fois dans la saisie."))
    existing = {
        result.learner_id: result
        for result in Result.objects.select_for_update(of=("self",))
        .filter(situation=situation)
        .prefetch_related("levels__evidence")
    }
    name = assessor_name or (by.get_full_name() or by.email if by else "")
    now = timezone.now()
    results = []
    for entry, mark in checked:
        known = existing.get(entry.learner)
        result = known or Result(situation=situation, learner_id=entry.learner)
        result.status = entry.status
        result.mark = mark
        result.comment = entry.comment.strip()
        result.assessor = by if assessor_name == "" else None
        result.assessor_name = name
        result.entered_at = now
        result._history_user = by  # type: ignore[attr-defined]
        save_checked(result)
        _levels_save(
            situation,
            result,
            entry.levels if entry.status == ResultStatus.ASSESSED else {},
            known=known is not None,
        )
        results.append(result)
    return results


def _checked(
    situation: Situation, entry: Entry, learners: Mapping[int, Learner], weights: set[int]
) -> tuple[Entry, Decimal | None]:
    learner = learners.get(entry.learner)
    if learner is None:
        raise ValidationError(
            _("L'apprenant n° %(id)s n'est pas de la promotion évaluée à cette date.")
            % {"id": entry.learner}
        )
    if entry.status not in ResultStatus.values:
        raise ValidationError(
            {"status": _("Statut inconnu : « %(status)s ».") % {"status": entry.status}}
        )
    mark = _mark(entry.mark, learner)
    if entry.status != ResultStatus.ASSESSED:
        if mark is not None or entry.levels:
            raise ValidationError(
                _("%(learner)s est « %(status)s » : ni note ni niveau.")
                % {"learner": learner, "status": ResultStatus(entry.status).label}
            )
        return entry, None
    if situation.has_mark:
        if mark is None:
            raise ValidationError(_("Il manque la note de %(learner)s.") % {"learner": learner})
        if not Decimal(0) <= mark <= situation.max_mark:
            raise ValidationError(
                _("La note de %(learner)s (%(mark)s) n'est pas entre 0 et %(max)s.")
                % {"learner": learner, "mark": shown(mark), "max": shown(situation.max_mark)}
            )
    elif mark is not None:
        raise ValidationError(_("Cette situation s'évalue par niveaux, sans note."))
    if situation.has_levels:
        if set(entry.levels) != weights:
            raise ValidationError(
                _("Donnez un niveau à %(learner)s pour chaque compétence de la situation.")
                % {"learner": learner}
            )
        if any(level not in CompetencyLevel.values for level in entry.levels.values()):
            raise ValidationError(_("Niveau inconnu pour %(learner)s.") % {"learner": learner})
    elif entry.levels:
        raise ValidationError(_("Cette situation se note, sans niveaux."))
    return entry, mark


def _mark(value: Decimal | str | None, learner: Learner) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        mark = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise ValidationError(
            _("« %(value)s » n'est pas une note (%(learner)s).")
            % {"value": value, "learner": learner}
        ) from None
    if not mark.is_finite() or mark != mark.quantize(Decimal("0.01")):
        raise ValidationError(
            _("Une note a deux décimales au plus (%(learner)s).") % {"learner": learner}
        )
    return mark


def _levels_save(
    situation: Situation, result: Result, levels: Mapping[int, str], *, known: bool
) -> None:
    # A known result's levels were read with it; a new one has none yet.
    current = {level.competency_id: level for level in result.levels.all()} if known else {}
    for competency, line in current.items():
        if competency not in levels:
            if line.evidence is not None:
                line.evidence.delete()
            line.delete()
    for competency, level in levels.items():
        line = current.get(competency) or ResultLevel(result=result, competency_id=competency)
        line.level = level
        line.save()
        if situation.published_at is not None:
            _evidence_sync(situation, result, line)


def _evidence_sync(situation: Situation, result: Result, line: ResultLevel) -> None:
    """The level as portfolio evidence: written at publication, changed with the level
    later, never a second row."""
    evidence = line.evidence or CompetencyEvidence(
        learner_id=result.learner_id,
        competency_id=line.competency_id,
        source=EvidenceSource.ASSESSMENT,
    )
    evidence.level = line.level
    evidence.reference = str(situation)[:255]
    evidence.assessor = result.assessor
    evidence.assessor_name = result.assessor_name
    evidence.date = situation.date
    evidence.save()
    if line.evidence_id != evidence.pk:
        line.evidence = evidence
        line.save(update_fields=["evidence"])


@transaction.atomic
def situation_publish(*, situation: Situation, by: User) -> Situation:
    """Learners and families see the results from now on; the levels enter the portfolio."""
    situation = _locked_situation(situation)
    if not situation.can_be_changed_by(by):
        raise PermissionDenied(_("Vous n'évaluez pas cette situation."))
    if situation.published_at is not None:
        raise ValidationError(_("Ces résultats sont déjà publiés."))
    if not situation.results.exists():
        raise ValidationError(_("Aucun résultat à publier."))
    situation.published_at = timezone.now()
    situation.save(update_fields=["published_at"])
    for line in ResultLevel.objects.filter(result__situation=situation).select_related(
        "result", "evidence"
    ):
        _evidence_sync(situation, line.result, line)
    return situation


@transaction.atomic
def situation_lock(*, situation: Situation, by: User) -> Situation:
    """Lock a situation for good (its jury is held): no result changes after."""
    _staff_only(by)
    situation = _locked_situation(situation)
    situation.locked_at = timezone.now()
    situation.save(update_fields=["locked_at"])
    return situation


# ---------------------------------------------------------------------------------------
# CCF in PFMP: the tutor fills the grid from a single-use link
# ---------------------------------------------------------------------------------------

# A placement whose convention is signed, under way or over: the tutor has seen the work.
GRID_PLACEMENTS = (
    PlacementStatus.SIGNED,
    PlacementStatus.IN_PROGRESS,
    PlacementStatus.COMPLETED,
    PlacementStatus.EVALUATED,
)


def grid_placements(situation: Situation) -> PlacementQuerySet:
    """The placements a CCF situation in PFMP is held in: the assessed learners', with a
    signed convention, whose period holds the situation's date."""
    return Placement.objects.filter(
        learner__in=Learner.objects.filter(in_cohort(situation)),
        status__in=GRID_PLACEMENTS,
        start_date__lte=situation.date,
        end_date__gte=situation.date,
    )


@transaction.atomic
def placement_grid_send(*, situation: Situation, placement: Placement, by: User) -> PlacementGrid:
    """E-mail the placement's tutor the situation's grid by a fresh single-use link; a
    link sent again voids the one before. The situation's row lock orders two sends."""
    situation = _locked_situation(situation)
    if not situation.can_be_changed_by(by):
        raise PermissionDenied(_("Vous n'évaluez pas cette situation."))
    if not situation.in_placement:
        raise ValidationError(_("Cette situation ne s'évalue pas en PFMP."))
    held = (
        grid_placements(situation)
        .select_for_update(of=("self",))
        .select_related("tutor__user", "learner", "company")
        .filter(pk=placement.pk)
        .first()
    )
    if held is None:
        raise ValidationError(
            _(
                "Le stage de %(learner)s ne couvre pas le %(date)s, ou sa convention n'est "
                "pas signée : pas de grille à envoyer."
            )
            % {"learner": placement.learner, "date": f"{situation.date:%d/%m/%Y}"}
        )
    grid = PlacementGrid.objects.filter(situation=situation, placement=held).first()
    if grid is not None and grid.submitted_at is not None:
        raise ValidationError(
            _("Le tuteur de %(learner)s a déjà rempli cette grille.") % {"learner": held.learner}
        )
    email = held.tutor.mail_address if held.tutor else ""
    if not email:
        raise ValidationError(
            _("Le stage de %(learner)s n'a pas de tuteur avec une adresse e-mail.")
            % {"learner": held.learner}
        )
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    grid = grid or PlacementGrid(situation=situation, placement=held)
    grid.token_hash = hash_token(token)
    grid.sent_to = email
    grid.sent_at = now
    grid.expires_at = now + datetime.timedelta(days=settings.EVALUATION_LINK_DAYS)
    grid.save()
    notify(
        [email],
        _("Évaluation de %(learner)s : %(title)s") % {"learner": held.learner, "title": situation},
        _(
            "Bonjour,\n\n%(learner)s passe pendant son stage chez %(company)s une épreuve "
            "de son diplôme en contrôle en cours de formation : « %(title)s ». Merci de "
            "remplir sa grille d'évaluation, depuis votre téléphone si vous le souhaitez "
            "(lien personnel, à usage unique, valable jusqu'au %(expires)s) :\n%(url)s\n"
        )
        % {
            "learner": held.learner,
            "company": held.company,
            "title": situation,
            "expires": f"{local(grid.expires_at):%d/%m/%Y}",
            "url": absolute_url(reverse("placement-grid-link", args=[token])),
        },
    )
    return grid


def placement_grids_send(*, situation: Situation, by: User) -> tuple[int, list[str]]:
    """Send the grid to every tutor who has not had it yet: how many were sent, and why
    the others were not (each send stands alone: a tutor without address stops no one)."""
    sent: list[PlacementGrid] = []
    refusals: list[str] = []
    waiting = grid_placements(situation).exclude(ccf_grids__situation=situation)
    for placement in waiting.select_related("learner").order_by("learner__last_name", "pk"):
        try:
            sent.append(placement_grid_send(situation=situation, placement=placement, by=by))
        except ValidationError as error:
            refusals.extend(error.messages)
    # A refusal of the situation itself (locked, not in PFMP) is said once, not per tutor.
    return len(sent), list(dict.fromkeys(refusals))


def placement_grid_for_link(token: str) -> PlacementGrid | None:
    """The grid an e-mailed link opens while it may; else None (the page's 404)."""
    return (
        PlacementGrid.objects.filter(
            token_hash=hash_token(token), submitted_at__isnull=True, expires_at__gt=timezone.now()
        )
        .select_related("situation__cohort", "placement__learner", "placement__company")
        .first()
    )


@transaction.atomic
def placement_grid_record(
    *, grid: PlacementGrid, entry: Entry, tutor_name: str, by: User | None = None
) -> PlacementGrid:
    """The tutor's grid, once: it becomes the learner's result (the class grid's rules:
    scale, levels for every competency, lock), and the link dies with it."""
    grid = PlacementGrid.objects.select_for_update().get(pk=grid.pk)
    if not grid.is_open:
        raise ValidationError(_("Cette grille n'est plus ouverte."))
    placement = Placement.objects.get(pk=grid.placement_id)
    if placement.status == PlacementStatus.CANCELLED or entry.learner != placement.learner_id:
        raise ValidationError(_("Cette grille n'est plus ouverte."))
    if not tutor_name.strip():
        raise ValidationError({"tutor_name": _("Indiquez votre nom.")})
    [result] = results_record(
        situation=grid.situation, entries=[entry], by=by, assessor_name=tutor_name.strip()
    )
    grid.result = result
    grid.tutor_name = tutor_name.strip()
    grid.submitted_at = timezone.now()
    grid.token_hash = ""
    grid.save(update_fields=["result", "tutor_name", "submitted_at", "token_hash"])
    return grid


# ---------------------------------------------------------------------------------------
# Terms and the conseil de classe
# ---------------------------------------------------------------------------------------


@transaction.atomic
def term_save(*, by: User, term: Term | None = None, **fields: Any) -> Term:
    _staff_only(by)
    term = term or Term()
    for name, value in fields.items():
        setattr(term, name, value)
    # Lock the cohort: two terms saved at once must still not overlap.
    Cohort.objects.select_for_update().get(pk=term.cohort_id)
    overlapping = Term.objects.filter(
        cohort=term.cohort_id, start_date__lte=term.end_date, end_date__gte=term.start_date
    ).exclude(pk=term.pk)
    if term.start_date and term.end_date and overlapping.exists():
        raise ValidationError(
            _("Cette période chevauche « %(other)s ».") % {"other": overlapping.first()}
        )
    save_checked(term)
    return term


def may_comment(user: User, term: Term, course: Course | None) -> bool:
    """A trainer comments on the courses they teach the cohort; the overall comment is
    the head trainer's; the staff may write either."""
    role = role_of(user)
    if role == Role.STAFF:
        return True
    if role != Role.TRAINER:
        return False
    if course is None:
        return term.cohort.head_trainer_id == user.pk
    return Session.objects.filter(trainer=user, cohort=term.cohort_id, course=course).exists()


@transaction.atomic
def comment_save(
    *, term: Term, learner: Learner, course: Course | None, text: str, by: User
) -> TermComment | None:
    """Write (or, with an empty text, remove) one comment of the conseil de classe."""
    term = Term.objects.select_related("cohort").get(pk=term.pk)
    if not may_comment(by, term, course):
        raise PermissionDenied(_("Cette appréciation n'est pas la vôtre à écrire."))
    if not Enrolment.objects.filter(cohort=term.cohort, learner=learner).exists():
        raise ValidationError(
            _("%(learner)s n'est pas de la promotion %(cohort)s.")
            % {"learner": learner, "cohort": term.cohort}
        )
    if course is not None and course.programme_id != term.cohort.programme_id:
        raise ValidationError({"course": _("Ce module n'est pas de la formation de la promotion.")})
    # Ordered by pk alone: the model's ordering joins the nullable course, and PostgreSQL
    # refuses FOR UPDATE on the nullable side of an outer join.
    existing = (
        TermComment.objects.select_for_update()
        .filter(term=term, learner=learner, course=course)
        .order_by("pk")
    )
    text = text.strip()
    if not text:
        existing.delete()
        return None
    comment = existing.first() or TermComment(term=term, learner=learner, course=course)
    comment.text = text
    comment.author = by
    save_checked(comment)
    return comment
