"""How long a learner's one-year calendar feed takes, in full and when answered 304.

Run from the project root: ``DEBUG=1 .venv/bin/python benchmarks/calendar_feed.py``.
It builds its own SQLite database in the temporary directory, so the working database
is untouched.
"""

from __future__ import annotations

import contextlib
import datetime
import statistics
import time
from collections.abc import Callable, Iterator

from _setup import cap_programme, django_on_sqlite

DATABASE = django_on_sqlite("bench_calendar.sqlite3")

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from courses.models import Course, CourseKind, Machine, MachineKind, Room, RoomKind, Session  # noqa: E402
from school.models import Cohort, Enrolment, Learner, Role, User  # noqa: E402

SESSIONS = 1_000
RUNS = 20


def build_learner_year() -> str:
    """A learner whose cohort has ~1,000 sessions from two months ago to a year ahead;
    answers the path of their feed."""
    programme = cap_programme()
    trainers = [
        User.objects.create_user(
            f"formateur{n}@metaltech.test",
            role=Role.TRAINER,
            first_name="Formateur",
            last_name=str(n),
        )
        for n in range(4)
    ]
    today = timezone.localdate()
    cohort = Cohort.objects.create(
        programme=programme,
        name="CAP 2026",
        start_date=today - datetime.timedelta(days=90),
        end_date=today + datetime.timedelta(days=700),
    )
    user = User.objects.create_user("eleve@metaltech.test", role=Role.LEARNER, first_name="Léa")
    learner = Learner.objects.create(
        user=user, first_name="Léa", last_name="Martin", birth_date=datetime.date(2010, 3, 14)
    )
    Enrolment.objects.create(learner=learner, cohort=cohort, start_date=cohort.start_date)
    courses = [
        Course.objects.create(
            programme=programme,
            code=f"M{n}",
            title=title,
            kind=CourseKind.WORKSHOP,
            planned_hours=120,
        )
        for n, title in enumerate(["Tournage", "Fraisage", "Programmation CN", "Métrologie"])
    ]
    rooms = [Room.objects.create(name=f"Atelier {n}", kind=RoomKind.WORKSHOP) for n in range(1, 4)]
    machines = [
        Machine.objects.create(name=f"Tour CN {n}", kind=MachineKind.CNC_LATHE, room=rooms[0])
        for n in range(1, 4)
    ]
    zone = timezone.get_default_timezone()
    first_day = today - datetime.timedelta(days=60)
    # Four half-day sessions on each of ~250 days spread over the window.
    slots = [(8, 10), (10, 12), (13, 15), (15, 17)]
    sessions = []
    for n in range(SESSIONS):
        day = first_day + datetime.timedelta(days=(n // len(slots)) * 425 // 250)
        start_hour, end_hour = slots[n % len(slots)]
        sessions.append(
            Session(
                course=courses[n % len(courses)],
                cohort=cohort,
                trainer=trainers[n % len(trainers)],
                room=rooms[n % len(rooms)],
                start=datetime.datetime.combine(day, datetime.time(start_hour), tzinfo=zone),
                end=datetime.datetime.combine(day, datetime.time(end_hour), tzinfo=zone),
                status="cancelled" if n % 40 == 0 else "planned",
            )
        )
    Session.objects.bulk_create(sessions)
    through = Session.machines.through
    through.objects.bulk_create(
        through(session_id=session.pk, machine_id=machines[n % len(machines)].pk)
        for n, session in enumerate(Session.objects.order_by("pk"))
        if n % 2 == 0
    )
    return f"/calendar/{user.get_calendar_token()}.ics"


@contextlib.contextmanager
def counting_queries() -> Iterator[list[str]]:
    # Each request closes its connection, which empties connection.queries: count the
    # statements as they run instead.
    statements: list[str] = []

    def record(execute: Callable[..., object], sql: str, *args: object) -> object:
        statements.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(record):
        yield statements


def median_ms(request: Callable[[], object]) -> float:
    durations = []
    for _run in range(RUNS):
        started = time.perf_counter()
        request()
        durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations)


def main() -> None:
    call_command("migrate", verbosity=0)
    path = build_learner_year()
    # The test client's host name is "testserver"; DEBUG's default ALLOWED_HOSTS has localhost.
    client = Client(HTTP_HOST="localhost")

    with counting_queries() as queries:
        first = client.get(path)
    etag = first.get("ETag", "")
    with counting_queries() as conditional_queries:
        conditional = client.get(path, HTTP_IF_NONE_MATCH=etag)
    if (first.status_code, conditional.status_code) != (200, 304):
        raise SystemExit(f"unexpected answers: {first.status_code}, {conditional.status_code}")
    events = first.content.count(b"BEGIN:VEVENT")

    full = median_ms(lambda: client.get(path))
    not_modified = median_ms(lambda: client.get(path, HTTP_IF_NONE_MATCH=etag))
    print(f"feed of {events} events, {len(first.content) / 1024:.0f} KiB")
    print(f"full render : {full:7.1f} ms median of {RUNS} ({len(queries)} queries)")
    print(
        f"304         : {not_modified:7.1f} ms median of {RUNS} ({len(conditional_queries)} queries)"
    )
    print(f"ratio 304 / full: {not_modified / full:.3f}")


if __name__ == "__main__":
    main()
