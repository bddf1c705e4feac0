"""A class assessed: a cohort of learners, a course its trainer teaches, two
competencies of the programme's framework, and helpers to write a situation."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assessments import services
from assessments.models import CCFUnit, Scale, Situation, SituationKind, Term
from courses.models import Competency, Course
from school.models import Cohort, Learner, Role, User
from tests.factories import (
    CohortFactory,
    CompetencyBlockFactory,
    CompetencyFactory,
    CourseFactory,
    EnrolmentFactory,
    LearnerFactory,
    SessionFactory,
    UserFactory,
)

DAY = datetime.date(2026, 11, 16)


@dataclass
class Class:
    cohort: Cohort
    learners: list[Learner]
    course: Course
    competencies: list[Competency]
    trainer: User
    staff: User
    term: Term
    unit: CCFUnit

    def situation(self, *, by: User | None = None, **fields: Any) -> Situation:
        values: dict[str, Any] = {
            "cohort": self.cohort,
            "course": self.course,
            "title": "Contrôle tournage",
            "date": DAY,
            "kind": SituationKind.SUMMATIVE,
            "scale": Scale.BOTH,
            "max_mark": Decimal(20),
        }
        values.update(fields)
        weights = values.pop("weights", {self.competencies[0].pk: 60, self.competencies[1].pk: 40})
        return services.situation_save(by=by or self.trainer, weights=weights, **values)

    def ccf(self, **fields: Any) -> Situation:
        return self.situation(kind=SituationKind.CCF, ccf_unit=self.unit, **fields)


def a_class(size: int = 3, *, staff: User | None = None) -> Class:
    cohort = CohortFactory()
    trainer = UserFactory(role=Role.TRAINER)
    course = CourseFactory(programme=cohort.programme, code="TOUR", title="Tournage")
    block = CompetencyBlockFactory(programme=cohort.programme)
    competencies = [
        CompetencyFactory(block=block, code="C2.1", title="Régler le tour"),
        CompetencyFactory(block=block, code="C2.2", title="Contrôler la pièce"),
    ]
    # The trainer teaches the course to the cohort (in its team): what lets them assess it.
    cohort.trainers.add(trainer)
    SessionFactory(cohort=cohort, course=course, trainer=trainer)
    learners = [
        EnrolmentFactory(cohort=cohort, learner=LearnerFactory(last_name=f"Élève{n:02d}")).learner
        for n in range(size)
    ]
    term = Term.objects.create(
        cohort=cohort,
        name="1er trimestre",
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2026, 12, 18),
    )
    unit = CCFUnit.objects.create(
        programme=cohort.programme, code="EP2", title="Réalisation en usinage", coefficient=9
    )
    return Class(
        cohort=cohort,
        learners=learners,
        course=course,
        competencies=competencies,
        trainer=trainer,
        staff=staff or UserFactory(role=Role.STAFF),
        term=term,
        unit=unit,
    )


def levels(world: Class, first: str, second: str) -> dict[int, str]:
    return {world.competencies[0].pk: first, world.competencies[1].pk: second}
