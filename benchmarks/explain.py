"""Do the hot paths use indexes on the large data set? PostgreSQL's EXPLAIN says.

Runs the real code of each path against the large data set (``manage.py seed_large``
into ``LOAD_DATABASE``, default ``metaltech_large``), captures every SELECT it sends, and
asks PostgreSQL for each one's plan: a sequential scan of ``courses_session`` or
``courses_attendance`` (hundreds of thousands of rows) fails the run. Paths: the
timetable conflict check, a learner's and a trainer's week, a calendar feed (its ETag
aggregate and its body), a roll call, the staff and trainer dashboards, and the scopes
the authorisation matrix relies on (a learner's, a guardian's, a partner's lists).

Run from the project root: ``.venv/bin/python benchmarks/explain.py``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("LOAD_DATABASE", "metaltech_large")
os.environ.update(
    DATABASE_URL=f"{SERVER}/{DATABASE}",
    DEBUG="1",  # the test client serves static files from the finders
    SECRET_KEY=secrets.token_urlsafe(50),
    ALLOWED_HOSTS="testserver",
    DJANGO_SETTINGS_MODULE="school.settings",
)

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from courses import scheduling  # noqa: E402
from courses.models import Session  # noqa: E402
from school.models import EnrolmentStatus, Guardian, Learner, Role, User  # noqa: E402

# The tables large enough that a sequential scan of them is a fault on a hot path.
BIG = {"courses_session", "courses_attendance", "courses_session_learners"}


def client_of(user: User) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    if user.role in (Role.STAFF, Role.TRAINER):
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, confirmed=True, defaults={"name": "banc d'essai"}
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def paths() -> Iterator[tuple[str, Callable[[], Any]]]:
    now = timezone.now()
    learner = (
        Learner.objects.filter(user__isnull=False, enrolments__status=EnrolmentStatus.ACTIVE)
        .select_related("user")
        .first()
    )
    session = (
        Session.objects.filter(start__lt=now, trainer__isnull=False).order_by("-start").first()
    )
    if learner is None or session is None:
        raise SystemExit(f"Base {DATABASE} vide : lancez d'abord manage.py seed_large.")
    trainer = session.trainer
    staff = User.objects.filter(role=Role.STAFF, is_active=True).first()
    guardian = Guardian.objects.filter(user__isnull=False).select_related("user").first()
    partner = User.objects.filter(role=Role.PARTNER, is_active=True).first()

    yield (
        "conflict check (a session moved by an hour)",
        lambda: scheduling.problems(
            [
                dataclasses.replace(
                    scheduling.Candidate.of(session),
                    start=session.start + datetime.timedelta(hours=1),
                    end=session.end + datetime.timedelta(hours=1),
                )
            ],
            exclude=[session.pk],
        ),
    )
    yield "learner's week", lambda: client_of(learner.user).get("/emploi-du-temps/")
    yield "trainer's week", lambda: client_of(trainer).get("/emploi-du-temps/")
    yield "calendar feed", lambda: client_of(learner.user).get(learner.user.get_calendar_path())
    yield "roll call", lambda: client_of(trainer).get(f"/seances/{session.pk}/emargement/")
    yield "staff dashboard", lambda: client_of(staff).get("/")
    yield "trainer dashboard", lambda: client_of(trainer).get("/")
    yield "learner's sessions (API)", lambda: client_of(learner.user).get("/api/v1/sessions/")
    yield "learner's attendance (API)", lambda: client_of(learner.user).get("/api/v1/attendance/")
    if guardian:
        yield "guardian's sessions (API)", lambda: client_of(guardian.user).get("/api/v1/sessions/")
    if partner:
        yield (
            "partner's applications (API)",
            lambda: client_of(partner).get("/api/v1/applications/"),
        )


def seq_scans(plan: dict[str, Any]) -> Iterator[str]:
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in BIG:
        yield plan["Relation Name"]
    for child in plan.get("Plans", []):
        yield from seq_scans(child)


def main() -> None:
    print(f"Base {DATABASE} : plans des requêtes des chemins chauds")
    with connection.cursor() as cursor:
        for table in sorted(BIG):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 — fixed names
            print(f"  {table:<28} {cursor.fetchone()[0]:>9} lignes")
    failures = 0
    for name, run in paths():
        # Rolled back: the conflict check locks rows, and nothing here is meant to stay.
        with CaptureQueriesContext(connection) as captured, transaction.atomic():
            run()
            transaction.set_rollback(True)
        selects = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
        found: list[str] = []
        with connection.cursor() as cursor:
            for sql in selects:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                scans = list(seq_scans(plan[0]["Plan"]))
                if scans and os.environ.get("EXPLAIN_VERBOSE"):
                    print(f"    {sql[:600]}")
                found += scans
        failures += bool(found)
        verdict = (
            "index" if not found else "PARCOURS SÉQUENTIEL de " + ", ".join(sorted(set(found)))
        )
        print(f"  {name:<38} {len(selects):>3} SELECT  {verdict}")
    print("Aucun parcours séquentiel des séances ni de l'émargement." if not failures else "")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
