"""Every list endpoint of the timetable costs the same for one row and for many."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from courses.models import Attendance, Competency, CompetencyBlock
from school.models import Role
from tests.factories import (
    ClosurePeriodFactory,
    CourseFactory,
    DerogationFactory,
    EnrolmentFactory,
    MachineFactory,
    MedicalFitnessFactory,
    ProgrammeFactory,
    RoomFactory,
    SafetyTrainingFactory,
    SessionFactory,
    UserFactory,
)
from tests.queries import assert_a_list_costs_the_same_for_one_row_and_for_many


def _competency() -> None:
    block = CompetencyBlock.objects.create(
        programme=ProgrammeFactory(), code="B1", title="Préparer"
    )
    Competency.objects.create(block=block, code="C1.1", title="Lire un plan")


def _course_with_competencies() -> None:
    course = CourseFactory()
    block = CompetencyBlock.objects.create(programme=course.programme, code="B1", title="B")
    course.competencies.add(
        Competency.objects.create(block=block, code="C1", title="A"),
        Competency.objects.create(block=block, code="C2", title="B"),
    )


def _attendance_line() -> None:
    session = SessionFactory()
    learner = EnrolmentFactory(cohort=session.cohort).learner
    Attendance.objects.create(session=session, learner=learner, status="present")


ROW_MAKERS: dict[str, Callable[[], Any]] = {
    "competency-blocks": lambda: CompetencyBlock.objects.create(
        programme=ProgrammeFactory(), code="B1", title="Préparer"
    ),
    "competencies": _competency,
    "courses": _course_with_competencies,
    "rooms": RoomFactory,
    "machines": MachineFactory,
    "closures": ClosurePeriodFactory,
    "attendance": _attendance_line,
    "derogations": DerogationFactory,
    "medical-fitnesses": MedicalFitnessFactory,
    "safety-trainings": SafetyTrainingFactory,
}


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ROW_MAKERS)
def test_a_timetable_list_costs_the_same_for_one_row_and_for_many(
    api_as: Any, endpoint: str
) -> None:
    client = api_as(UserFactory(role=Role.STAFF))
    assert_a_list_costs_the_same_for_one_row_and_for_many(
        client, f"/api/v1/{endpoint}/", ROW_MAKERS[endpoint], more=8
    )
