"""Creating 5,000 sessions as weekly series with the set-based conflict check, against
checking the same sessions one by one.

Run from the project root: ``DEBUG=1 .venv/bin/python benchmarks/series_conflicts.py``.
It builds its own SQLite database in the temporary directory, so the working database
is untouched.

Five cohorts each get a series of 1,000 Monday-morning sessions (our series are weekly,
so 1,000 of them reach far into the future: the size is the issue's, the calendar is not
meant to be realistic). The timetable already holds each cohort's Monday afternoons
(5,000 sessions), plus 50 sessions that put each series' trainer elsewhere on one of
its Mondays. Some learners are minors on machines, so the cover check has work too.

1. the set-based check (``courses.scheduling.problems``, one pass per series) and a
   per-candidate reference (a few queries for each session) check the same 5,000
   candidates, and must find the same 50 conflicts;
2. the 50 conflicting sessions are cancelled and ``series_create`` writes the 5,000
   sessions (check and writes).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from _setup import cap_programme, django_on_sqlite

DATABASE = django_on_sqlite("bench_series_conflicts.sqlite3")

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from courses import scheduling  # noqa: E402
from courses.models import (  # noqa: E402
    ClosureKind,
    ClosurePeriod,
    Course,
    CourseKind,
    Derogation,
    Machine,
    MachineKind,
    MedicalFitness,
    Room,
    RoomKind,
    SafetyTraining,
    Session,
    SessionStatus,
)
from courses.scheduling import Candidate  # noqa: E402
from courses.services import series_create  # noqa: E402
from school.models import Cohort, Enrolment, Learner, Programme, Role, User  # noqa: E402

COHORTS = 5
SESSIONS_PER_SERIES = 1_000
LEARNERS_PER_COHORT = 12
MINORS_PER_COHORT = 4
TRAPS_PER_COHORT = 10
FIRST_MONDAY = datetime.date(2026, 9, 7)
MORNING = (datetime.time(8), datetime.time(12))
AFTERNOON = (datetime.time(13), datetime.time(17))


def number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")  # French thousands: 5 000


@dataclass
class Measure:
    seconds: float = 0.0
    queries: int = 0


@contextmanager
def measured() -> Iterator[Measure]:
    """Times the block and counts the statements it sends, without logging them."""
    measure = Measure()

    def count(execute: Callable[..., Any], *args: Any) -> Any:
        measure.queries += 1
        return execute(*args)

    started = time.perf_counter()
    with connection.execute_wrapper(count):
        yield measure
    measure.seconds = time.perf_counter() - started


def seed_closures() -> None:
    """Holidays and fixed public holidays, year after year, as the staff would enter them."""
    closures = []
    for year in range(FIRST_MONDAY.year, FIRST_MONDAY.year + 26):
        for name, start, end in (
            ("Vacances d'hiver", (2, 14), (3, 1)),
            ("Vacances de printemps", (4, 18), (5, 3)),
            ("Vacances d'été", (7, 4), (8, 31)),
            ("Vacances de la Toussaint", (10, 18), (11, 2)),
            ("Vacances de Noël", (12, 19), (12, 31)),
        ):
            closures.append(
                ClosurePeriod(
                    name=name,
                    kind=ClosureKind.SCHOOL_HOLIDAYS,
                    start_date=datetime.date(year, *start),
                    end_date=datetime.date(year, *end),
                )
            )
        for month, day in ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11)):
            holiday = datetime.date(year, month, day)
            closures.append(
                ClosurePeriod(
                    name="Jour férié",
                    kind=ClosureKind.PUBLIC_HOLIDAY,
                    start_date=holiday,
                    end_date=holiday,
                )
            )
    ClosurePeriod.objects.bulk_create(closures)


def seed_cohort(n: int, programme: Programme) -> dict[str, Any]:
    trainer = User.objects.create_user(
        f"formateur{n}@metaltech.test", role=Role.TRAINER, first_name="Formateur", last_name=str(n)
    )
    cohort = Cohort.objects.create(
        programme=programme,
        name=f"Promotion {n}",
        start_date=FIRST_MONDAY,
        end_date=FIRST_MONDAY.replace(year=FIRST_MONDAY.year + 2),
    )
    room = Room.objects.create(name=f"Atelier {n}", kind=RoomKind.WORKSHOP)
    machine = Machine.objects.create(name=f"Tour CN {n}", kind=MachineKind.CNC_LATHE, room=room)
    learners = Learner.objects.bulk_create(
        Learner(
            first_name=f"Apprenant {i}",
            last_name=f"Promotion {n}",
            # Minors until 2030: the cover check has four years of sessions to look at.
            birth_date=datetime.date(2012 if i < MINORS_PER_COHORT else 2000, 1, 1 + i),
        )
        for i in range(LEARNERS_PER_COHORT)
    )
    Enrolment.objects.bulk_create(
        Enrolment(learner=learner, cohort=cohort, start_date=FIRST_MONDAY) for learner in learners
    )
    for learner in learners[:MINORS_PER_COHORT]:
        MedicalFitness.objects.bulk_create(
            MedicalFitness(
                learner=learner,
                issued_on=datetime.date(year, 9, 1),
                valid_until=datetime.date(year + 1, 8, 31),
            )
            for year in range(2026, 2030)
        )
        SafetyTraining.objects.create(
            learner=learner, machine_kind=MachineKind.CNC_LATHE, trained_on=FIRST_MONDAY
        )
    course = Course.objects.create(
        programme=programme,
        code=f"TOUR{n}",
        title=f"Tournage {n}",
        kind=CourseKind.WORKSHOP,
        planned_hours=120,
    )
    return {
        "trainer": trainer,
        "cohort": cohort,
        "room": room,
        "machine": machine,
        "course": course,
    }


def series_dates() -> list[datetime.date]:
    """The first 1,000 open Mondays from FIRST_MONDAY."""
    far = FIRST_MONDAY.replace(year=FIRST_MONDAY.year + 30)
    return scheduling.weekly_dates(weekday=0, first_date=FIRST_MONDAY, last_date=far)[
        :SESSIONS_PER_SERIES
    ]


def seed_timetable(cast: dict[str, Any], dates: list[datetime.date], traps: Cohort) -> None:
    """The cohort's Monday afternoons, and its trainer away one morning in ten weeks."""
    afternoons = [
        Session(
            course=cast["course"],
            cohort=cast["cohort"],
            trainer=cast["trainer"],
            room=cast["room"],
            start=scheduling.local_datetime(day, AFTERNOON[0]),
            end=scheduling.local_datetime(day, AFTERNOON[1]),
        )
        for day in dates
    ]
    Session.objects.bulk_create(afternoons)
    Session.machines.through.objects.bulk_create(
        Session.machines.through(session_id=session.pk, machine_id=cast["machine"].pk)
        for session in afternoons
    )
    elsewhere = Room.objects.get_or_create(name="Salle de cours", kind=RoomKind.CLASSROOM)[0]
    Session.objects.bulk_create(
        Session(
            course=cast["course"],
            cohort=traps,
            trainer=cast["trainer"],
            room=elsewhere,
            start=scheduling.local_datetime(day, datetime.time(10)),
            end=scheduling.local_datetime(day, datetime.time(11)),
        )
        for day in dates[:: SESSIONS_PER_SERIES // TRAPS_PER_COHORT]
    )


def candidates(cast: dict[str, Any], dates: list[datetime.date]) -> list[Candidate]:
    return [
        Candidate(
            course=cast["course"],
            cohort=cast["cohort"],
            trainer=cast["trainer"],
            room=cast["room"],
            start=scheduling.local_datetime(day, MORNING[0]),
            end=scheduling.local_datetime(day, MORNING[1]),
            machines=(cast["machine"],),
        )
        for day in dates
    ]


def reference_problems(candidate: Candidate) -> list[str]:
    """The rules of the check, asked of the database for one session at a time: what a
    first version does, and what the set-based check is measured against."""
    found = []
    overlapping = Session.objects.active().between(candidate.start, candidate.end)
    found += [f"trainer: {s}" for s in overlapping.filter(trainer=candidate.trainer)]
    found += [f"room: {s}" for s in overlapping.filter(room=candidate.room)]
    for machine in candidate.machines:
        found += [f"machine: {s}" for s in overlapping.filter(machines=machine)]
    ours = {learner.pk for learner in candidate.learners}
    for session in overlapping.filter(cohort=candidate.cohort).prefetch_related("learners"):
        theirs = {learner.pk for learner in session.learners.all()}
        if not ours or not theirs or ours & theirs:
            found.append(f"cohort: {session}")
    if not candidate.machines:
        return found
    day = candidate.day
    learners = candidate.learners or [
        enrolment.learner
        for enrolment in Enrolment.objects.active()
        .filter(cohort=candidate.cohort)
        .select_related("learner")
    ]
    for learner in learners:
        if not learner.is_minor_on(day):
            continue
        fit = MedicalFitness.objects.filter(
            learner=learner, issued_on__lte=day, valid_until__gte=day
        ).exists()
        for machine in candidate.machines:
            derogation = any(d.covers(machine.kind, day) for d in Derogation.objects.all())
            trained = SafetyTraining.objects.filter(
                learner=learner, machine_kind=machine.kind, trained_on__lte=day
            ).exists()
            if not (derogation and fit and trained):
                found.append(f"cover: {learner} on {machine}")
    return found


def main() -> None:
    call_command("migrate", verbosity=0)
    settings.DEBUG = False  # no query log: it would weigh on the one-by-one check most
    programme = cap_programme()
    seed_closures()
    for declared_on in (datetime.date(2026, 8, 25), datetime.date(2029, 8, 1)):
        Derogation.objects.create(declared_on=declared_on, machine_kinds=[MachineKind.CNC_LATHE])
    traps = Cohort.objects.create(
        programme=programme,
        name="Autre promotion",
        start_date=FIRST_MONDAY,
        end_date=FIRST_MONDAY.replace(year=FIRST_MONDAY.year + 2),
    )
    dates = series_dates()
    casts = [seed_cohort(n, programme) for n in range(COHORTS)]
    for cast in casts:
        seed_timetable(cast, dates, traps)
    planned = [candidates(cast, dates) for cast in casts]
    total = sum(map(len, planned))
    already = Session.objects.count()

    with measured() as set_based, transaction.atomic():
        set_based_found = [scheduling.problems(series) for series in planned]
    with measured() as one_by_one:
        one_by_one_found = [
            reference_problems(candidate) for series in planned for candidate in series
        ]
    found = sum(map(len, set_based_found)), sum(map(len, one_by_one_found))
    if found != (COHORTS * TRAPS_PER_COHORT,) * 2:
        raise SystemExit(f"The two checks disagree with the seeded conflicts: {found}")

    Session.objects.filter(cohort=traps).update(status=SessionStatus.CANCELLED)
    with measured() as creating:
        for cast in casts:
            series_create(
                course=cast["course"],
                cohort=cast["cohort"],
                trainer=cast["trainer"],
                room=cast["room"],
                machines=[cast["machine"]],
                weekday=0,
                start_time=MORNING[0],
                end_time=MORNING[1],
                first_date=dates[0],
                last_date=dates[-1],
            )
    created = Session.objects.filter(series__isnull=False).count()
    if created != total:
        raise SystemExit(f"{created} sessions created instead of {total}")

    print(
        f"Séries avec contrôle des conflits — SQLite, {COHORTS} promotions × "
        f"{number(SESSIONS_PER_SERIES)} séances, {number(already)} séances déjà planifiées, "
        f"{COHORTS * MINORS_PER_COHORT} mineurs sur machine\n"
    )
    rows = (
        ("contrôle ensembliste (par série)", set_based, found[0]),
        ("contrôle séance par séance", one_by_one, found[1]),
    )
    for label, figures, problems in rows:
        print(
            f"  {label:<34} {figures.seconds:7.2f} s  {number(figures.queries):>7} requêtes  "
            f"{problems} conflits trouvés"
        )
    print(f"  {'rapport':<34} {one_by_one.seconds / set_based.seconds:7.1f} ×\n")
    print(
        f"  {'series_create, ' + number(total) + ' séances':<34} {creating.seconds:7.2f} s  "
        f"{number(creating.queries):>7} requêtes  "
        f"({creating.seconds / total * 1000:.2f} ms par séance, contrôle et écriture)"
    )
    DATABASE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
