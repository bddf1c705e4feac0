"""Load benchmark: a school network's mix of requests against gunicorn + PostgreSQL + Redis.

On the large data set (``manage.py seed_large`` into the database ``LOAD_DATABASE``,
default ``metaltech_large``), it starts gunicorn (2 workers of 4 threads) on loopback and runs Locust
headless twice:

1. **the mix** — after 20 s of the same mix not counted (warm-up), 20 concurrent people, each pausing 1–3 s between requests: learners
   reading their week and polling their calendar feed, trainers opening roll calls and
   marking learners, partners listing applications through the API, staff opening their
   dashboard. Printed: requests, failures, p50 / p95 / p99 and throughput per endpoint.
   Target: p95 under 100 ms for schedule, feed and roll-call requests.
2. **saturation** — one request kind at a time, 8 clients with no pause, for the
   framework's floor (a minimal Django view, ``/healthz/``, through the same middleware)
   and for each endpoint: each one's throughput over the floor's. Target: feed and
   schedule at least a third of the floor's.

Run from the project root: ``.venv/bin/python benchmarks/load.py`` (about 3 minutes).
Everything listens on 127.0.0.1; the load is bounded in clients and time. The roll-call
marks write to the database given: use a throwaway copy of the data set.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("LOAD_DATABASE", "metaltech_large")
PORT = int(os.environ.get("LOAD_PORT", "8765"))
URL = f"http://127.0.0.1:{PORT}"
WORK = Path(tempfile.mkdtemp(prefix="bench-load-"))
MIX_USERS, MIX_SECONDS = 20, int(os.environ.get("LOAD_MIX_SECONDS", "60"))
WARMUP_SECONDS = int(os.environ.get("LOAD_WARMUP_SECONDS", "20"))
SATURATION_USERS, SATURATION_SECONDS = 8, int(os.environ.get("LOAD_SATURATION_SECONDS", "15"))
SATURATED = ["floor", "schedule", "feed", "roll_call", "applications", "dashboard"]
FAILURES: list[str] = []  # the mix's, as Locust describes them
CLASS_OF = {
    "floor": "Floor",
    "schedule": "Learner",
    "feed": "Learner",
    "roll_call": "Trainer",
    "roll_call_mark": "Trainer",
    "applications": "Partner",
    "dashboard": "Staff",
}
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "school.settings",
    "DATABASE_URL": f"{SERVER}/{DATABASE}",
    "REDIS_URL": os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/3"),
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "EMAIL_URL": "memorymail://",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "STATIC_ROOT": str(WORK / "static"),
    "LOG_LEVEL": "WARNING",
    # The rate limits protect a school from abuse, not from its own benchmark.
    "RATE_LIMIT_LOGIN": "1000000/hour",
}


# --- the people (run inside Django, in a child process) ------------------------------


def prepare_people(target: Path) -> None:
    """Browser sessions, tokens and roll calls for the people Locust plays."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from rest_framework.authtoken.models import Token

    from courses.attendance import participants
    from courses.models import Session, SessionStatus
    from school.models import EnrolmentStatus, Learner, Role, User

    def browser(user: User) -> dict[str, str]:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        if user.role in (Role.STAFF, Role.TRAINER):
            device, _ = TOTPDevice.objects.get_or_create(
                user=user, confirmed=True, defaults={"name": "banc d'essai"}
            )
            store[DEVICE_ID_SESSION_KEY] = device.persistent_id
        store.create()
        # A CSRF secret of 32 characters is also a valid token for its own cookie.
        return {"session": store.session_key, "csrf": secrets.token_hex(16)}

    learners = (
        Learner.objects.filter(user__isnull=False, enrolments__status=EnrolmentStatus.ACTIVE)
        .select_related("user")
        .order_by("?")[:60]
    )
    now = timezone.now()
    trainers = []
    for trainer in User.objects.filter(role=Role.TRAINER, is_active=True).order_by("?")[:20]:
        sessions = []
        past = Session.objects.filter(trainer=trainer, start__lt=now).exclude(
            status=SessionStatus.CANCELLED
        )
        for session in past.order_by("-start")[:5]:
            ids = list(participants(session).values_list("pk", flat=True)[:30])
            if ids:
                sessions.append({"id": session.pk, "learners": ids})
        if sessions:
            trainers.append({**browser(trainer), "sessions": sessions})
    partners = [
        {"token": Token.objects.get_or_create(user=user)[0].key}
        for user in User.objects.filter(role=Role.PARTNER, is_active=True).order_by("?")[:20]
    ]
    staff = [browser(user) for user in User.objects.filter(role=Role.STAFF, is_active=True)[:3]]
    people = {
        "learners": [
            {**browser(learner.user), "feed": learner.user.get_calendar_path()}
            for learner in learners
        ],
        "trainers": trainers,
        "partners": partners,
        "staff": staff,
    }
    for kind, rows in people.items():
        if not rows:
            raise SystemExit(f"Aucun {kind} dans {DATABASE} : lancez d'abord seed_large.")
    target.write_text(json.dumps(people))


# --- the run -----------------------------------------------------------------------


def manage(*args: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=ENV, check=True)


@contextlib.contextmanager
def gunicorn() -> Iterator[None]:
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "school.wsgi",
            "--workers=2",
            # Threads: a slow page (a staff dashboard) does not hold up the quick ones.
            "--threads=4",
            f"--bind=127.0.0.1:{PORT}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=ENV,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{URL}/healthz/", timeout=1).status == 200:  # noqa: S310
                    break
            time.sleep(0.2)
        else:
            raise SystemExit("gunicorn ne répond pas.")
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def locust(
    name: str, classes: list[str], users: int, seconds: int, tags: list[str] | None = None
) -> dict[str, dict[str, float]]:
    prefix = WORK / name
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "benchmarks" / "locustfile.py"),
        "--headless",
        f"--users={users}",
        f"--spawn-rate={users}",
        f"--run-time={seconds}s",
        f"--host={URL}",
        f"--csv={prefix}",
        "--only-summary",
        "--loglevel=WARNING",
        *(["--tags", *tags] if tags else []),
        *classes,
    ]
    env = {**os.environ, "LOAD_PEOPLE": str(WORK / "people.json")}
    if tags:
        env["LOAD_SATURATE"] = "1"
    subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True)
    if name == "mix":
        with open(f"{prefix}_failures.csv", encoding="utf-8") as failures:
            FAILURES.extend(
                f"{row['Method']} {row['Name']} ×{row['Occurrences']} : {row['Error']}"
                for row in csv.DictReader(failures)
            )
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats:
        return {
            row["Name"]: {
                "count": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "p50": float(row["50%"]),
                "p95": float(row["95%"]),
                "p99": float(row["99%"]),
                "rps": float(row["Requests/s"]),
            }
            for row in csv.DictReader(stats)
        }


def main() -> None:
    print(f"Base {DATABASE}, gunicorn 2 workers, Redis, 127.0.0.1:{PORT}")
    redis.Redis.from_url(ENV["REDIS_URL"]).flushdb()  # no cached feed from an earlier run
    manage("collectstatic", "--noinput", "-v0")
    subprocess.run(
        [str(BIN / "python"), __file__, "--prepare", str(WORK / "people.json")],
        cwd=ROOT,
        env=ENV,
        check=True,
    )
    with gunicorn():
        # Warm-up, not counted: the same mix for WARMUP_SECONDS, so that the figures are
        # those of a server in service (code and templates loaded in every worker
        # thread, the staff's follow-up and the feeds already rendered once in the
        # cache), not of its first minute after a restart.
        locust("warmup", ["Learner", "Trainer", "Partner", "Staff"], MIX_USERS, WARMUP_SECONDS)
        mix = locust("mix", ["Learner", "Trainer", "Partner", "Staff"], MIX_USERS, MIX_SECONDS)
        saturation = {
            kind: locust(
                f"sat-{kind}", [CLASS_OF[kind]], SATURATION_USERS, SATURATION_SECONDS, [kind]
            )
            for kind in SATURATED
        }

    print(f"\n1. Mélange réaliste : {MIX_USERS} clients, pauses de 1 à 3 s, {MIX_SECONDS} s")
    print(
        f"{'requête':<16}{'nombre':>8}{'échecs':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>8}"
    )
    for name, row in sorted(mix.items()):
        print(
            f"{name:<16}{row['count']:>8.0f}{row['failures']:>8.0f}{row['p50']:>9.0f}"
            f"{row['p95']:>9.0f}{row['p99']:>9.0f}{row['rps']:>8.1f}"
        )
    for failure in FAILURES:
        print(f"  échec : {failure}")
    floor = saturation["floor"]["floor"]["rps"]
    print(
        f"\n2. Saturation : {SATURATION_USERS} clients sans pause, {SATURATION_SECONDS} s par requête"
    )
    print(f"{'requête':<16}{'req/s':>8}{'p95 ms':>9}{'échecs':>8}{'/ plancher':>12}")
    for kind in SATURATED:
        row = saturation[kind][kind]
        print(
            f"{kind:<16}{row['rps']:>8.1f}{row['p95']:>9.0f}{row['failures']:>8.0f}"
            f"{row['rps'] / floor:>11.2f}×"
        )
    print("\nObjectifs :")
    for kind in ("schedule", "feed", "roll_call", "roll_call_mark"):
        p95 = mix.get(kind, {}).get("p95", float("nan"))
        print(f"  p95 {kind:<15} {p95:>5.0f} ms  (< 100 ms) {'atteint' if p95 < 100 else 'MANQUÉ'}")
    for kind in ("feed", "schedule"):
        ratio = saturation[kind][kind]["rps"] / floor
        print(
            f"  débit {kind:<13} {ratio:>5.2f} × plancher (≥ 0,33) {'atteint' if ratio >= 1 / 3 else 'MANQUÉ'}"
        )
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 3 and sys.argv[1] == "--prepare":
        prepare_people(Path(sys.argv[2]))
    else:
        main()
