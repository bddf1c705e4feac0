"""Demo assessment for ``manage.py seed_demo``, every row written by the services:

- the demo learner's cohort has its first term, two tests in the workshop courses
  (marked and assessed by competency, published), a CCF situation of unit EP2 assessed,
  published and locked (its jury held), the trainers' and the head trainer's comments,
  and the term's bulletins issued for the whole class;
- the demo parent has sent an excuse note the staff have not answered yet;
- the second-year cohort's CCF EP2 situation held in PFMP: its grid e-mailed to the
  tutor of the placement it was held in (the demo partner), who filled it.

Idempotent: a cohort that already has its term is left alone.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.management.base import OutputWrapper
from django.utils import timezone

from courses.absences import excuse_send
from courses.models import Competency, CompetencyLevel, Course, ExcuseNote, Session
from internships.models import Placement
from school import batches
from school.demo import GUARDIAN_EMAIL, LEARNER_EMAIL, STAFF_EMAIL, TRAINER_EMAIL
from school.models import Enrolment, Learner, User

from . import services
from .models import CCFUnit, Scale, Situation, SituationKind, Term
from .services import Entry

LEVELS = [
    CompetencyLevel.IN_PROGRESS,
    CompetencyLevel.ACQUIRED,
    CompetencyLevel.ACQUIRED,
    CompetencyLevel.MASTERED,
    CompetencyLevel.NOT_ACQUIRED,
]
COURSE_COMMENTS = [
    "Travail soigné, réglages maîtrisés.",
    "Des progrès ; attention au contrôle des cotes.",
    "Bonne autonomie sur machine.",
    "Doit gagner en rigueur sur la préparation.",
]


def _term_dates(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first term of this school year: from 1 September to the Christmas holidays."""
    year = today.year if today.month >= 9 else today.year - 1
    return datetime.date(year, 9, 1), datetime.date(year, 12, 18)


def seed_assessments(stdout: OutputWrapper) -> None:
    staff = User.objects.get(email=STAFF_EMAIL)
    _ccf_in_placement(staff, stdout)
    learner = Learner.objects.filter(user__email=LEARNER_EMAIL).first()
    enrolment = (
        Enrolment.objects.active().filter(learner=learner).select_related("cohort").first()
        if learner
        else None
    )
    if learner is None or enrolment is None:
        return
    cohort = enrolment.cohort
    today = timezone.localdate()
    start, end = _term_dates(today)
    if Term.objects.filter(cohort=cohort).exists():
        return
    term = services.term_save(
        by=staff,
        cohort=cohort,
        name="1er trimestre",
        start_date=start,
        end_date=end,
        council_date=min(end, today + datetime.timedelta(days=7)),
    )
    class_ = list(
        Learner.objects.filter(
            pk__in=Enrolment.objects.active().filter(cohort=cohort).values("learner")
        ).order_by("last_name", "first_name")
    )
    taught = list(
        Session.objects.filter(cohort=cohort, start__date__lt=today)
        .values_list("course", "trainer")
        .distinct()
        .order_by("course")
    )
    competencies = list(
        Competency.objects.filter(block__programme=cohort.programme_id).order_by("code")
    )
    if not taught or len(competencies) < 3:
        return
    written = 0
    for rank, (course_id, trainer_id) in enumerate(taught[:2]):
        course = Course.objects.get(pk=course_id)
        trainer = User.objects.get(pk=trainer_id)
        situation = services.situation_save(
            by=trainer,
            cohort=cohort,
            course=course,
            title=f"Contrôle — {course.title}",
            date=today - datetime.timedelta(days=16 - 7 * rank),
            kind=SituationKind.SUMMATIVE,
            scale=Scale.BOTH,
            coefficient=Decimal(2 - rank),
            weights={competencies[rank].pk: 60, competencies[rank + 1].pk: 40},
        )
        _results(situation, trainer, [competencies[rank], competencies[rank + 1]], rank)
        services.situation_publish(situation=situation, by=trainer)
        for index, someone in enumerate(class_[:4]):
            services.comment_save(
                term=term,
                learner=someone,
                course=course,
                text=COURSE_COMMENTS[(index + rank) % len(COURSE_COMMENTS)],
                by=trainer,
            )
        written += 1
    unit, _created = CCFUnit.objects.get_or_create(
        programme=cohort.programme,
        code="EP2",
        defaults={"title": "Réalisation d'usinages", "coefficient": Decimal(9)},
    )
    first_course, first_trainer = taught[0]
    trainer = User.objects.get(pk=first_trainer)
    ccf = services.situation_save(
        by=trainer,
        cohort=cohort,
        course=Course.objects.get(pk=first_course),
        ccf_unit=unit,
        title="CCF EP2 — situation 1 en atelier",
        date=today - datetime.timedelta(days=10),
        kind=SituationKind.CCF,
        scale=Scale.LEVELS,
        weights={competencies[0].pk: 40, competencies[1].pk: 30, competencies[2].pk: 30},
    )
    _results(ccf, trainer, competencies[:3], 2, marks=False)
    services.situation_publish(situation=ccf, by=trainer)
    services.situation_lock(situation=ccf, by=staff)
    head = cohort.head_trainer or staff
    services.comment_save(
        term=term,
        learner=learner,
        course=None,
        text="Un trimestre sérieux et régulier ; à poursuivre en PFMP.",
        by=head,
    )
    batches.batch_create(kind="bulletin", cohort=cohort, by=staff, start=start, end=end)
    parent = User.objects.filter(email=GUARDIAN_EMAIL).first()
    if parent is not None and not ExcuseNote.objects.filter(learner=learner).exists():
        excuse_send(
            learner=learner,
            first_day=today - datetime.timedelta(days=3),
            last_day=today - datetime.timedelta(days=3),
            reason="Rendez-vous chez l'orthodontiste",
            by=parent,
        )
    stdout.write(
        f"Évaluations : {written + 1} situations, bulletins de « {term.name} » pour {cohort}."
    )


PFMP_TITLE = "CCF EP2 — situation 2 en entreprise"


def _ccf_in_placement(staff: User, stdout: OutputWrapper) -> None:
    """A CCF situation held during a past placement, its grid sent to the tutor and
    filled by them from their partner account."""
    placement = (
        Placement.objects.filter(
            status__in=services.GRID_PLACEMENTS, end_date__lt=timezone.localdate()
        )
        .select_related("learner", "tutor__user")
        .order_by("start_date", "pk")
        .first()
    )
    enrolment = (
        Enrolment.objects.filter(learner=placement.learner).select_related("cohort").first()
        if placement
        else None
    )
    if placement is None or enrolment is None or placement.tutor is None:
        return
    cohort = enrolment.cohort
    competencies = list(
        Competency.objects.filter(block__programme=cohort.programme_id).order_by("code")[:3]
    )
    if len(competencies) < 3 or Situation.objects.filter(cohort=cohort, title=PFMP_TITLE).exists():
        return
    unit, _created = CCFUnit.objects.get_or_create(
        programme=cohort.programme,
        code="EP2",
        defaults={"title": "Réalisation d'usinages", "coefficient": Decimal(9)},
    )
    situation = services.situation_save(
        by=staff,
        cohort=cohort,
        ccf_unit=unit,
        title=PFMP_TITLE,
        date=placement.start_date + datetime.timedelta(days=10),
        kind=SituationKind.CCF,
        in_placement=True,
        scale=Scale.LEVELS,
        weights=dict(zip([c.pk for c in competencies], [40, 30, 30], strict=True)),
        assessors=list(User.objects.filter(email=TRAINER_EMAIL)),
    )
    grid = services.placement_grid_send(situation=situation, placement=placement, by=staff)
    tutor = placement.tutor
    services.placement_grid_record(
        grid=grid,
        entry=Entry(
            learner=placement.learner_id,
            levels={
                competency.pk: LEVELS[(1 + offset) % len(LEVELS)]
                for offset, competency in enumerate(competencies)
            },
            comment="Autonome sur le centre d'usinage ; autocontrôle à systématiser.",
        ),
        tutor_name=f"{tutor.first_name} {tutor.last_name}",
        by=tutor.user,
    )
    stdout.write(
        f"CCF en PFMP : la grille de {placement.learner} remplie par son tuteur ({tutor})."
    )


def _results(
    situation: Situation,
    by: User,
    competencies: list[Competency],
    seed: int,
    *,
    marks: bool = True,
) -> None:
    entries = []
    assessed = Learner.objects.filter(services.in_cohort(situation)).order_by(
        "last_name", "first_name"
    )
    for index, someone in enumerate(assessed):
        if (index + seed) % 11 == 5:
            entries.append(Entry(learner=someone.pk, status="excused"))
            continue
        mark = Decimal(8 + (index * 7 + seed * 3) % 12) + Decimal("0.5") * ((index + seed) % 2)
        entries.append(
            Entry(
                learner=someone.pk,
                mark=mark if marks else None,
                levels={
                    competency.pk: LEVELS[(index + seed + offset) % len(LEVELS)]
                    for offset, competency in enumerate(competencies)
                },
            )
        )
    services.results_record(situation=situation, entries=entries, by=by)
