"""``manage.py seed_large`` at its smallest scale (one school): the rows in proportion to
the network's, every rule the services would enforce, and a second run refused."""

from __future__ import annotations

import datetime
import hashlib
import io
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models, transaction
from django.db.models import F, Max, Min

from companies.models import Company, Contact
from courses.models import (
    Attendance,
    ClosurePeriod,
    Session,
    SessionStatus,
    TimeLog,
    WorkshopOrder,
)
from courses.scheduling import Candidate, local, problems
from internships.models import (
    AgreementVersion,
    Placement,
    PlacementStatus,
    ScheduleSlot,
    Signature,
    working_time_problems,
)
from school.demo import DEMO_PASSWORD
from school.models import (
    Cohort,
    DocumentCounter,
    Enrolment,
    Guardian,
    IssuedDocument,
    Learner,
    Role,
    User,
)
from tests.factories import UserFactory
from tests.module_scope import kept_for_the_module

# The module builds its rows once (a module-scoped fixture): under pytest-xdist, all
# its tests run on one worker instead of each worker building them again.
pytestmark = pytest.mark.xdist_group("seed_large")

PARIS = ZoneInfo("Europe/Paris")
# A Thursday morning of the second school year: sessions behind and ahead.
NOW = datetime.datetime(2026, 11, 26, 10, 30, tzinfo=PARIS)


def seed(schools: int = 2, *options: str) -> str:
    out = io.StringIO()
    call_command("seed_large", "--schools", str(schools), *options, stdout=out)
    return out.getvalue()


FIRST = "nogent.metaltech.test"  # the domain of the first school's people


def fingerprint_of_the_first_school() -> str:
    """Its rows by their natural values, not their ids."""
    mine = {"learner__email__endswith": FIRST}
    rows = [
        *User.objects.filter(email__endswith=FIRST)
        .order_by("email")
        .values_list("email", "role", "first_name"),
        *Learner.objects.filter(email__endswith=FIRST)
        .order_by("email")
        .values_list("email", "birth_date"),
        *Session.objects.filter(trainer__email__endswith=FIRST)
        .order_by("start", "room__name", "course__code")
        .values_list("start", "room__name", "course__code", "trainer__email", "status"),
        *Attendance.objects.filter(**mine)
        .order_by("session__start", "session__room__name", "learner__email")
        .values_list("learner__email", "status")
        .iterator(),
        # The order is total on what is compared: a learner may have a cancelled and a
        # new placement with one company from one day (a tie PostgreSQL broke one way
        # or the other as its plans changed under load: the CI's flake of 07/12).
        *Placement.objects.filter(**mine)
        .order_by("learner__email", "start_date", "company__siret", "end_date", "status")
        .values_list("learner__email", "company__siret", "start_date", "end_date", "status"),
        *TimeLog.objects.filter(**mine)
        .order_by("session__start", "learner__email", "order__reference")
        .values_list("order__reference", "learner__email", "hours")
        .iterator(),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@dataclass
class Seeded:
    output: str
    alone: str  # the first school's fingerprint, built alone
    with_another: str  # and built with a second school


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any) -> Iterator[Seeded]:
    """One school alone (rolled back), then two schools, kept for the module in a
    transaction rolled back at its end."""

    def build() -> Seeded:
        # Each run at the same instant: with the clock ticking, the second (twice the
        # work) would begin later on a loaded machine, and a session not yet started
        # for the first could have started for the second.
        with transaction.atomic(), time_machine.travel(NOW, tick=False):
            seed(1)
            alone = fingerprint_of_the_first_school()
            transaction.set_rollback(True)
        with time_machine.travel(NOW, tick=False):
            output = seed(2)
        return Seeded(output, alone, fingerprint_of_the_first_school())

    yield from kept_for_the_module(django_db_blocker, NOW, build)


@pytest.fixture
def school(seeded: Seeded, db: None) -> Seeded:
    return seeded


def test_two_schools_are_a_fifteenth_of_the_network(school: Seeded) -> None:
    counts = {
        "cohorts": Cohort.objects.count(),
        "learners": Learner.objects.count(),
        "enrolments": Enrolment.objects.count(),
        "companies": Company.objects.count(),
        "trainers": User.objects.filter(role=Role.TRAINER).count(),
    }
    assert counts == {
        "cohorts": 8,
        "learners": 200,
        "enrolments": 200,
        "companies": 40,
        "trainers": 26,
    }
    # At thirty schools: ≥ 150 000 sessions, 10 000 placements, ~20 000 time logs (a
    # school's count varies with its draw), ~900 000 roll-call lines.
    assert 10_000 <= Session.objects.count() <= 11_000
    assert Placement.objects.count() >= 667
    assert TimeLog.objects.count() >= 1200
    assert Attendance.objects.count() >= 55_000
    assert Contact.objects.filter(user__role=Role.PARTNER).count() == Contact.objects.count()


def test_it_prints_its_steps_and_a_count_of_each_table(school: Seeded) -> None:
    assert "Emploi du temps" in school.output
    assert "Terminé en" in school.output
    assert f"Séances{' ' * 20}" in school.output


def test_a_schools_rows_depend_on_the_seed_only(school: Seeded) -> None:
    assert school.alone == school.with_another


def test_a_second_run_refuses_and_adds_nothing(school: Seeded) -> None:
    before = Session.objects.count()

    with pytest.raises(CommandError, match="déjà"):
        seed(2, "--force")

    assert Session.objects.count() == before


def test_every_cohort_has_twenty_five_learners_and_every_minor_a_guardian(school: Seeded) -> None:
    assert set(Counter(Enrolment.objects.values_list("cohort_id", flat=True)).values()) == {25}
    assert (
        Guardian.objects.filter(user__isnull=False).count()
        == User.objects.filter(role=Role.GUARDIAN).count()
    )
    for learner in Learner.objects.prefetch_related("guardians", "enrolments__cohort"):
        since = max(learner.enrolments.all()[0].cohort.start_date, datetime.date(2025, 9, 1))
        if learner.is_minor_on(since):
            ranks = sorted(guardian.rank for guardian in learner.guardians.all())
            assert ranks in ([1], [1, 2]), learner
            assert learner.guardians.get(rank=1).user.role == Role.GUARDIAN


def test_sessions_are_half_days_of_school_weekdays(school: Seeded) -> None:
    closed = {
        start + datetime.timedelta(days=n)
        for start, end in ClosurePeriod.objects.values_list("start_date", "end_date")
        for n in range((end - start).days + 1)
    }
    hours = Counter()
    for start, end in Session.objects.values_list("start", "end"):
        start, end = local(start), local(end)
        assert start.weekday() < 5 and start.date() not in closed, start
        hours[(start.time(), end.time())] += 1
    assert set(hours) == {
        (datetime.time(8), datetime.time(12)),
        (datetime.time(13, 30), datetime.time(16, 30)),
    }
    span = Session.objects.aggregate(first=Min("start"), last=Max("end"))
    assert local(span["first"]).date() == datetime.date(2025, 9, 1)
    assert local(span["last"]).date() == datetime.date(2027, 7, 2)


def test_no_trainer_room_or_machine_is_in_two_places_nor_a_learner_in_two_sessions(
    school: Seeded,
) -> None:
    """Every session as the timetable holds it, past ones included, in one sweep."""
    busy: dict[tuple[str, int, datetime.datetime], int] = {}
    clashes = []
    members = defaultdict(list)
    for session_id, learner_id in Session.learners.through.objects.values_list(
        "session_id", "learner_id"
    ):
        members[session_id].append(learner_id)
    machines = defaultdict(list)
    for session_id, machine_id in Session.machines.through.objects.values_list(
        "session_id", "machine_id"
    ):
        machines[session_id].append(machine_id)
    cohort_learners = defaultdict(list)
    for cohort_id, learner_id in Enrolment.objects.values_list("cohort_id", "learner_id"):
        cohort_learners[cohort_id].append(learner_id)
    for pk, trainer, room, cohort, start in Session.objects.active().values_list(
        "pk", "trainer_id", "room_id", "cohort_id", "start"
    ):
        keys = [("trainer", trainer), ("room", room)]
        keys += [("machine", machine) for machine in machines[pk]]
        keys += [("learner", learner) for learner in members[pk] or cohort_learners[cohort]]
        for kind, key in keys:
            if (other := busy.setdefault((kind, key, start), pk)) != pk:
                clashes.append((kind, key, start, other, pk))
    assert clashes == []


def test_the_timetables_own_check_finds_nothing_against_the_sessions_to_come(
    school: Seeded,
) -> None:
    """The check every session write goes through (overlaps, groups, a minor's machine
    cover, placements), given the next eight weeks of sessions as if written now."""
    ahead = list(
        Session.objects.active()
        .filter(start__gte=NOW, start__lt=NOW + datetime.timedelta(weeks=8))
        .select_related("course", "cohort", "trainer", "room")
        .prefetch_related("learners", "machines__room")
    )
    candidates = [
        Candidate.of(
            session, learners=tuple(session.learners.all()), machines=tuple(session.machines.all())
        )
        for session in ahead
    ]

    assert len(candidates) > 500
    assert problems(candidates, exclude=[session.pk for session in ahead]) == []


def test_placements_fall_in_weeks_the_learners_cohort_has_no_session(school: Seeded) -> None:
    taught = {
        (cohort, local(start).date())
        for cohort, start in Session.objects.active().values_list("cohort_id", "start")
    }
    cohort_of = dict(Enrolment.objects.values_list("learner_id", "cohort_id"))
    clashes = [
        (learner, start + datetime.timedelta(days=n))
        for learner, start, end in Placement.objects.current().values_list(
            "learner_id", "start_date", "end_date"
        )
        for n in range((end - start).days + 1)
        if (cohort_of[learner], start + datetime.timedelta(days=n)) in taught
    ]
    assert clashes == []


def test_placements_keep_the_working_time_of_minors_and_their_signers(school: Seeded) -> None:
    statuses = Counter(Placement.objects.values_list("status", flat=True))
    assert set(statuses) == set(PlacementStatus.values)
    placements = Placement.objects.select_related("learner", "tutor__user", "signatory__user")
    for placement in placements.prefetch_related("slots", "versions__signatures")[:120]:
        slots = list(placement.slots.all())
        assert working_time_problems(slots, minor=placement.learner_is_minor) == []
        for version in placement.versions.all():
            roles = [signature.role for signature in version.signatures.all()]
            assert roles == [signer.role for signer in placement.signers()], placement
    assert AgreementVersion.objects.filter(status="signed", signatures__signed_at=None).count() == 0
    assert ScheduleSlot.objects.count() == 10 * Placement.objects.count()
    assert not Signature.objects.filter(user__isnull=False).exclude(email=F("user__email"))


def sample(model: type[models.Model], size: int) -> list[Any]:
    """Rows picked at random, the same ones each run."""
    ids = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
    return list(model._default_manager.filter(pk__in=random.Random(0).sample(ids, size)))


def test_rows_pass_their_models_validation(school: Seeded) -> None:
    for model in (Company, Placement, WorkshopOrder, Session, Attendance, Learner, Guardian):
        for row in sample(model, 15):
            row.full_clean()


def test_roll_calls_cover_the_past_sessions_and_only_them(school: Seeded) -> None:
    past = Session.objects.filter(end__lte=NOW, status=SessionStatus.DONE)
    assert past.filter(attendance_validated_at__isnull=True).count() == 0
    assert not Attendance.objects.filter(session__start__gte=NOW).exists()
    statuses = Counter(Attendance.objects.values_list("status", flat=True))
    assert statuses["present"] > 0.8 * sum(statuses.values())
    assert {"late", "absent", "excused"} <= set(statuses)
    for session in sample(Session, 60):
        if session.status != SessionStatus.DONE:
            continue
        expected = set(session.learners.values_list("pk", flat=True)) or set(
            Enrolment.objects.filter(cohort=session.cohort, start_date__lte=session.start.date())
            .exclude(end_date__lt=session.start.date())
            .values_list("learner_id", flat=True)
        )
        lines = set(session.attendances.values_list("learner_id", flat=True))
        assert lines <= expected and len(lines) >= len(expected) - 2, session


def test_document_numbers_follow_each_other_without_gaps(school: Seeded) -> None:
    for year, last in DocumentCounter.objects.values_list("year", "last"):
        sequences = sorted(
            IssuedDocument.objects.filter(year=year).values_list("sequence", flat=True)
        )
        assert sequences == list(range(1, last + 1))


def test_every_account_opens_with_the_demo_password(school: Seeded) -> None:
    for user in sample(User, 3):
        assert user.check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_a_database_with_other_data_is_refused_without_force(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Whether or not the module's school is there yet: only the other data counts here.
    monkeypatch.setattr("school.management.commands.seed_large.is_loaded", lambda network: False)
    UserFactory(email="quelqu.un@metaltech.test")
    sessions = Session.objects.count()

    with pytest.raises(CommandError, match="--force"):
        seed()

    assert Session.objects.count() == sessions
