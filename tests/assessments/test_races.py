"""Assessment rules hold when two people write at the same instant (PostgreSQL only:
SQLite serialises every write, so there is no race to lose there)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from assessments import services
from assessments.models import PlacementGrid, Result, Scale, Term
from assessments.services import Entry
from internships.models import PlacementStatus, hash_token
from tests.factories import PlacementFactory
from tests.school.test_concurrency import race

from .world import DAY, a_class, levels

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… to run it")


@pytest.mark.parametrize("attempt", range(3))
def test_a_tutors_grid_sent_twice_at_once_is_recorded_once(attempt: int) -> None:
    world = a_class(1)
    situation = world.ccf(in_placement=True, scale=Scale.LEVELS)
    placement = PlacementFactory(
        learner=world.learners[0],
        status=PlacementStatus.IN_PROGRESS,
        start_date=DAY - datetime.timedelta(days=7),
        end_date=DAY + datetime.timedelta(days=7),
    )
    grid = PlacementGrid.objects.create(
        situation=situation,
        placement=placement,
        token_hash=hash_token(f"race-{attempt}"),
        sent_to="tuteur@forges.test",
        sent_at=datetime.datetime.now(tz=datetime.UTC),
        expires_at=datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=30),
    )
    entry = Entry(learner=world.learners[0].pk, levels=levels(world, "acquired", "mastered"))

    outcomes = race(
        *[
            lambda: services.placement_grid_record(grid=grid, entry=entry, tutor_name="Karim")
            for _ in range(2)
        ]
    )

    assert outcomes == ["Cette grille n'est plus ouverte.", "ok"]
    assert Result.objects.filter(situation=situation).count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_trainers_saving_one_learners_line_at_once_leave_one_result(attempt: int) -> None:
    world = a_class(1)
    situation = world.situation()
    learner = world.learners[0].pk

    outcomes = race(
        *[
            lambda mark=mark: services.results_record(
                situation=situation,
                entries=[
                    Entry(learner=learner, mark=mark, levels=levels(world, "acquired", "acquired"))
                ],
                by=world.trainer,
            )
            for mark in ("12", "15")
        ]
    )

    assert outcomes == ["ok", "ok"]  # one after the other: the second corrects the first
    assert Result.objects.filter(situation=situation).count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_overlapping_terms_written_at_once_leave_one(attempt: int) -> None:
    world = a_class(1)
    Term.objects.filter(cohort=world.cohort).delete()

    outcomes = race(
        *[
            lambda name=name: services.term_save(
                by=world.staff,
                cohort=world.cohort,
                name=name,
                start_date=datetime.date(2027, 1, 4),
                end_date=datetime.date(2027, 3, 31),
            )
            for name in ("2e trimestre", "Semestre 2")
        ]
    )

    assert outcomes.count("ok") == 1
    assert any("chevauche" in outcome for outcome in outcomes)
    assert Term.objects.filter(cohort=world.cohort).count() == 1
