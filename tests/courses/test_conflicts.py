"""The one conflict check: a session never overlaps another for the same trainer, room,
machine, cohort or learner, and the refusal names the session in the way."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from courses import scheduling
from courses.models import Session, SessionStatus
from courses.scheduling import Candidate
from courses.services import session_cancel, session_create, session_update
from school.models import EnrolmentStatus, Role
from tests.factories import (
    CohortFactory,
    CourseFactory,
    EnrolmentFactory,
    LearnerFactory,
    MachineFactory,
    RoomFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def at(hour: int, minute: int = 0, day: int = 12) -> datetime.datetime:
    return datetime.datetime(2027, 1, day, hour, minute, tzinfo=PARIS)


class Cast:
    """Marc teaches « Tournage » to the whole CAP cohort, on 12/01/2027 from 8 h to 12 h,
    in Atelier 1 on Tour CN 2. Everyone else is free. The learners are adults, so no
    machine cover is needed here (see test_authorisations)."""

    def __init__(self) -> None:
        self.marc = UserFactory(first_name="Marc", last_name="Aubertin", role=Role.TRAINER)
        self.sophie = UserFactory(first_name="Sophie", last_name="Lenoir", role=Role.TRAINER)
        self.workshop = RoomFactory(name="Atelier 1")
        self.classroom = RoomFactory(name="Salle 2", kind="classroom")
        self.lathe = MachineFactory(name="Tour CN 2", room=self.workshop)
        self.other_lathe = MachineFactory(name="Tour CN 3", room=self.workshop)
        self.cap = CohortFactory(name="CAP CIP 2026-2028")
        # One programme for both: the cast is about resources, not about frameworks.
        self.bac = CohortFactory(name="Bac pro TRPM 2026-2029", programme=self.cap.programme)
        adult = datetime.date(2007, 5, 2)
        self.lea = LearnerFactory(first_name="Léa", last_name="Morel", birth_date=adult)
        self.hugo = LearnerFactory(first_name="Hugo", last_name="Petit", birth_date=adult)
        self.ines = LearnerFactory(first_name="Inès", last_name="Garnier", birth_date=adult)
        self.noah = LearnerFactory(first_name="Noah", last_name="Roux", birth_date=adult)
        for learner in (self.lea, self.hugo, self.ines, self.noah):
            EnrolmentFactory(learner=learner, cohort=self.cap)
        self.turning = CourseFactory(title="Tournage", programme=self.cap.programme)
        self.milling = CourseFactory(title="Fraisage CN", programme=self.cap.programme)
        self.tournage = SessionFactory(
            course=self.turning,
            cohort=self.cap,
            trainer=self.marc,
            room=self.workshop,
            machines=[self.lathe],
            start=at(8),
            end=at(12),
        )

    def create(self, **overrides: Any) -> Session:
        """A session at the same time as « Tournage » that shares nothing with it, but
        for ``overrides``."""
        fields: dict[str, Any] = {
            "course": self.milling,
            "cohort": self.bac,
            "trainer": self.sophie,
            "room": self.classroom,
            "start": at(8),
            "end": at(12),
        }
        return session_create(**{**fields, **overrides})


@pytest.fixture
def cast() -> Cast:
    return Cast()


def refusal(attempt: Any) -> list[str]:
    sessions = Session.objects.count()
    with pytest.raises(ValidationError) as refused:
        attempt()
    assert Session.objects.count() == sessions
    return refused.value.messages


def test_a_session_that_shares_nothing_is_created_with_its_group_and_machines(
    cast: Cast,
) -> None:
    session = cast.create(cohort=cast.cap, learners=[cast.lea], start=at(13), end=at(17))

    assert list(session.learners.all()) == [cast.lea]
    assert session.status == SessionStatus.PLANNED
    assert session.sequence == 0


def test_the_same_trainer_at_the_same_time_is_refused_naming_the_session(cast: Cast) -> None:
    assert refusal(lambda: cast.create(trainer=cast.marc)) == [
        "Le formateur Marc Aubertin est déjà en « Tournage » le 12/01 de 8 h à 12 h."
    ]


def test_the_same_room_at_the_same_time_is_refused_naming_the_session(cast: Cast) -> None:
    assert refusal(lambda: cast.create(room=cast.workshop)) == [
        "La salle Atelier 1 est déjà occupée par « Tournage » le 12/01 de 8 h à 12 h."
    ]


def test_a_shared_machine_is_refused_naming_the_session(cast: Cast) -> None:
    Session.objects.filter(pk=cast.tournage.pk).update(room=cast.classroom)  # share only the lathe

    messages = refusal(lambda: cast.create(room=cast.workshop, machines=[cast.lathe]))

    assert messages == [
        "La machine Tour CN 2 est déjà réservée pour « Tournage » le 12/01 de 8 h à 12 h."
    ]


def test_the_same_cohort_is_refused_naming_the_session(cast: Cast) -> None:
    assert refusal(lambda: cast.create(cohort=cast.cap)) == [
        "La promotion CAP CIP 2026-2028 a déjà « Tournage » le 12/01 de 8 h à 12 h."
    ]


def test_a_group_is_refused_when_its_whole_cohort_has_a_session(cast: Cast) -> None:
    assert refusal(lambda: cast.create(cohort=cast.cap, learners=[cast.lea])) == [
        "La promotion CAP CIP 2026-2028 a déjà « Tournage » le 12/01 de 8 h à 12 h."
    ]


def test_a_group_sharing_learners_with_another_group_names_them(cast: Cast) -> None:
    cast.tournage.learners.set([cast.lea, cast.hugo, cast.ines])

    messages = refusal(
        lambda: cast.create(cohort=cast.cap, learners=[cast.noah, cast.lea, cast.hugo])
    )

    assert messages == ["Léa Morel et Hugo Petit ont déjà « Tournage » le 12/01 de 8 h à 12 h."]


def test_one_shared_learner_is_named_alone(cast: Cast) -> None:
    cast.tournage.learners.set([cast.lea, cast.hugo])

    messages = refusal(lambda: cast.create(cohort=cast.cap, learners=[cast.lea, cast.noah]))

    assert messages == ["Léa Morel a déjà « Tournage » le 12/01 de 8 h à 12 h."]


def test_the_whole_cohort_is_refused_naming_the_group_already_busy(cast: Cast) -> None:
    cast.tournage.learners.set([cast.lea, cast.hugo, cast.noah])

    messages = refusal(lambda: cast.create(cohort=cast.cap))

    assert messages == [
        "Léa Morel, Hugo Petit et Noah Roux ont déjà « Tournage » le 12/01 de 8 h à 12 h."
    ]


def test_two_disjoint_groups_of_one_cohort_may_work_at_once(cast: Cast) -> None:
    cast.tournage.learners.set([cast.lea, cast.hugo])

    session = cast.create(cohort=cast.cap, learners=[cast.ines, cast.noah])

    assert set(session.learners.all()) == {cast.ines, cast.noah}


def test_every_kind_of_conflict_is_listed_at_once(cast: Cast) -> None:
    messages = refusal(
        lambda: session_create(
            course=cast.milling,
            cohort=cast.cap,
            trainer=cast.marc,
            room=cast.workshop,
            machines=[cast.lathe],
            start=at(10),
            end=at(11),
        )
    )

    assert messages == [
        "Le formateur Marc Aubertin est déjà en « Tournage » le 12/01 de 8 h à 12 h.",
        "La salle Atelier 1 est déjà occupée par « Tournage » le 12/01 de 8 h à 12 h.",
        "La machine Tour CN 2 est déjà réservée pour « Tournage » le 12/01 de 8 h à 12 h.",
        "La promotion CAP CIP 2026-2028 a déjà « Tournage » le 12/01 de 8 h à 12 h.",
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [(at(7), at(8, 30)), (at(11, 59), at(13)), (at(9), at(10)), (at(7), at(13))],
    ids=["overlapping its start", "overlapping its end", "inside it", "around it"],
)
def test_any_overlap_is_refused(
    cast: Cast, start: datetime.datetime, end: datetime.datetime
) -> None:
    assert len(refusal(lambda: cast.create(room=cast.workshop, start=start, end=end))) == 1


@pytest.mark.parametrize(
    ("start", "end"), [(at(12), at(13, 30)), (at(6), at(8))], ids=["just after", "just before"]
)
def test_back_to_back_sessions_are_allowed(
    cast: Cast, start: datetime.datetime, end: datetime.datetime
) -> None:
    session = cast.create(
        trainer=cast.marc,
        room=cast.workshop,
        machines=[cast.lathe],
        cohort=cast.cap,
        start=start,
        end=end,
    )

    assert session.pk


def test_the_refusal_names_the_minutes_of_the_session_in_the_way(cast: Cast) -> None:
    SessionFactory(course=cast.milling, room=cast.classroom, start=at(13, 30), end=at(17, 15))

    messages = refusal(lambda: cast.create(start=at(14), end=at(15)))

    assert messages == [
        "La salle Salle 2 est déjà occupée par « Fraisage CN » le 12/01 de 13 h 30 à 17 h 15."
    ]


def test_a_cancelled_session_conflicts_with_nothing(cast: Cast) -> None:
    session_cancel(session=cast.tournage)

    session = cast.create(trainer=cast.marc, room=cast.workshop, cohort=cast.cap)

    assert session.pk


def test_cancelling_bumps_the_version_once(cast: Cast) -> None:
    cancelled = session_cancel(session=cast.tournage)
    again = session_cancel(session=cancelled)

    assert (again.status, again.sequence) == (SessionStatus.CANCELLED, 1)


def test_a_session_that_took_place_cannot_be_cancelled(cast: Cast) -> None:
    Session.objects.filter(pk=cast.tournage.pk).update(status=SessionStatus.DONE)

    assert refusal(lambda: session_cancel(session=cast.tournage)) == [
        "Cette séance a eu lieu : elle ne peut plus être annulée."
    ]


def test_a_learner_not_in_training_in_the_cohort_is_refused(cast: Cast) -> None:
    outsider = LearnerFactory(first_name="Jade", last_name="Fabre")
    EnrolmentFactory(learner=outsider, cohort=cast.bac)
    suspended = LearnerFactory(first_name="Tom", last_name="Blanc")
    EnrolmentFactory(learner=suspended, cohort=cast.cap, status=EnrolmentStatus.SUSPENDED)

    messages = refusal(
        lambda: cast.create(
            cohort=cast.cap, learners=[outsider, suspended], start=at(14), end=at(15)
        )
    )

    assert messages == [
        "Jade Fabre n'est pas en formation dans la promotion CAP CIP 2026-2028.",
        "Tom Blanc n'est pas en formation dans la promotion CAP CIP 2026-2028.",
    ]


def test_a_machine_of_another_room_is_refused_saying_where_it_is(cast: Cast) -> None:
    assert refusal(lambda: cast.create(machines=[cast.other_lathe])) == [
        "La machine Tour CN 3 est dans la salle Atelier 1, pas dans Salle 2."
    ]


def test_a_machine_out_of_service_is_refused(cast: Cast) -> None:
    cast.other_lathe.is_active = False
    cast.other_lathe.save()

    messages = refusal(
        lambda: cast.create(
            room=cast.workshop, machines=[cast.other_lathe], start=at(14), end=at(15)
        )
    )

    assert messages == ["La machine Tour CN 3 est hors service."]


def test_only_a_trainer_may_run_a_session(cast: Cast) -> None:
    office = UserFactory(first_name="Claire", last_name="Vidal", role=Role.STAFF)

    assert refusal(lambda: cast.create(trainer=office)) == [
        "Claire Vidal n'est pas formateur : seul un formateur anime une séance."
    ]


def test_a_session_must_end_after_it_starts(cast: Cast) -> None:
    assert refusal(lambda: cast.create(start=at(10), end=at(10))) == [
        "La fin de la séance doit suivre son début."
    ]


def test_every_problem_is_listed_together(cast: Cast) -> None:
    office = UserFactory(first_name="Claire", last_name="Vidal", role=Role.STAFF)

    messages = refusal(lambda: cast.create(trainer=office, room=cast.workshop))

    assert messages == [
        "Claire Vidal n'est pas formateur : seul un formateur anime une séance.",
        "La salle Atelier 1 est déjà occupée par « Tournage » le 12/01 de 8 h à 12 h.",
    ]


def test_candidates_written_together_are_checked_against_each_other(cast: Cast) -> None:
    def candidate(start: datetime.datetime, end: datetime.datetime) -> Candidate:
        return Candidate(
            course=cast.milling,
            cohort=cast.bac,
            trainer=cast.sophie,
            room=cast.classroom,
            start=start,
            end=end,
        )

    messages = scheduling.problems([candidate(at(14), at(16)), candidate(at(15), at(17))])

    assert messages == [
        "Le formateur Sophie Lenoir est déjà en « Fraisage CN » le 12/01 de 14 h à 16 h.",
        "La salle Salle 2 est déjà occupée par « Fraisage CN » le 12/01 de 14 h à 16 h.",
        "La promotion Bac pro TRPM 2026-2029 a déjà « Fraisage CN » le 12/01 de 14 h à 16 h.",
    ]


def test_updating_a_session_bumps_its_version_and_keeps_its_own_slot(cast: Cast) -> None:
    updated = session_update(session=cast.tournage, end=at(12, 30), machines=[])

    updated.refresh_from_db()
    assert (updated.end, updated.sequence) == (at(12, 30), 1)
    assert list(updated.machines.all()) == []


def test_updating_a_session_cannot_move_it_onto_a_conflict(cast: Cast) -> None:
    fraisage = cast.create(start=at(14), end=at(17))

    messages = refusal(lambda: session_update(session=fraisage, trainer=cast.marc, start=at(10)))

    assert messages == [
        "Le formateur Marc Aubertin est déjà en « Tournage » le 12/01 de 8 h à 12 h."
    ]
    fraisage.refresh_from_db()
    assert (fraisage.trainer, fraisage.start, fraisage.sequence) == (cast.sophie, at(14), 0)


def test_updating_a_group_is_checked_like_creating_it(cast: Cast) -> None:
    cast.tournage.learners.set([cast.lea])
    group = cast.create(cohort=cast.cap, learners=[cast.hugo])

    messages = refusal(lambda: session_update(session=group, learners=[cast.hugo, cast.lea]))

    assert messages == ["Léa Morel a déjà « Tournage » le 12/01 de 8 h à 12 h."]


def test_a_cancelled_session_cannot_be_updated(cast: Cast) -> None:
    session_cancel(session=cast.tournage)

    assert refusal(lambda: session_update(session=cast.tournage, start=at(9))) == [
        "Cette séance est annulée : elle ne peut plus être modifiée."
    ]


def test_updating_an_unchangeable_field_is_a_programming_error(cast: Cast) -> None:
    with pytest.raises(TypeError):
        session_update(session=cast.tournage, cohort=cast.bac)


@pytest.fixture
def placements_away() -> Iterator[list[str]]:
    """A conflict source as internships would register one, removed afterwards."""
    seen: list[str] = []

    def away(taking_part: Any) -> list[str]:
        seen.extend(str(learner) for _candidate, learners in taking_part for learner in learners)
        return ["Hugo Petit est en stage ce jour-là."]

    scheduling.register_conflict_source(away)
    yield seen
    scheduling._sources.unregister(away)


def test_a_registered_conflict_source_sees_the_participants_and_adds_its_refusal(
    cast: Cast, placements_away: list[str]
) -> None:
    messages = refusal(lambda: cast.create(cohort=cast.cap, start=at(14), end=at(15)))

    assert messages == ["Hugo Petit est en stage ce jour-là."]
    assert sorted(placements_away) == ["Hugo Petit", "Inès Garnier", "Léa Morel", "Noah Roux"]
