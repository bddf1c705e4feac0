"""Issuing the attestation de fin de formation for a cohort of 200 learners, three ways:

(a) naive: for each learner in turn, read their data (the kind's context, as the
    bulk path does) and render it with one ``HTML(...).write_pdf()``;
(b) the bulk path as staff launch it: a batch, run by two real ``db_worker`` processes
    (one per core), each rendering its tasks as WeasyPrint bundles, numbering, storing
    and validating every document in the register;
(floor) one single WeasyPrint document holding the 200 attestations.

It prints the three figures and the two ratios the school asked for: (a) / (b), to be
at least 3, and (b)'s time per page over the floor's, to be at most 1.2. (a) does the
same job as (b) but numbering and storing, which cost (b) alone; its rendering time
alone, without reading the data, is printed too, with its own ratio.

Run from the project root, PostgreSQL on 127.0.0.1 (the workers are other processes and
must share the database): ``.venv/bin/python benchmarks/attestations_bulk.py``.
It creates and drops its own database (``BENCH_DATABASE_URL`` to use another server).
"""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
DATABASE = "metaltech_bench_attestations"
MEDIA = tempfile.mkdtemp(prefix="bench-attestations-")
# Production settings (DEBUG off: no query log, no template debugging), for this
# process and the workers alike.
WORKER_ENV = {
    **os.environ,
    "DATABASE_URL": f"{SERVER}/{DATABASE}",
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "EMAIL_URL": "consolemail://",
    "TASKS_BACKEND": "database",
    "MEDIA_ROOT": MEDIA,
}
os.environ.update(WORKER_ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "school.settings")

import psycopg  # noqa: E402


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        server.execute(f"CREATE DATABASE {DATABASE}")


recreate_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from weasyprint import HTML  # noqa: E402

from courses.models import (  # noqa: E402
    Attendance,
    Competency,
    CompetencyBlock,
    Course,
    CourseKind,
    Room,
    RoomKind,
    Session,
)
from school import documents, services  # noqa: E402
from school.batches import batch_create  # noqa: E402
from school.documents import Draft  # noqa: E402
from school.models import (  # noqa: E402
    Cohort,
    DocumentBatchItem,
    DocumentStatus,
    Enrolment,
    IssuedDocument,
    Learner,
    Programme,
    Role,
    User,
)

LEARNERS = 200
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
KIND = "attestation_fin_formation"

FIRST_NAMES = ["Léa", "Hugo", "Inès", "Lucas", "Chloé", "Nathan", "Manon", "Théo", "Jade", "Enzo"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"]
BLOCKS = {
    "B1": ("Préparer une production", ["Analyser un dessin de définition", "Choisir les outils",
           "Établir la gamme d'usinage", "Régler la machine", "Préparer le poste"]),
    "B2": ("Réaliser en tournage et fraisage", ["Usiner sur tour conventionnel",
           "Usiner sur fraiseuse", "Conduire un tour CN", "Conduire un centre d'usinage",
           "Modifier un programme ISO"]),
    "B3": ("Contrôler et rendre compte", ["Mesurer au pied à coulisse et au micromètre",
           "Contrôler sur marbre", "Renseigner une fiche d'autocontrôle",
           "Rendre compte d'une non-conformité", "Respecter les règles de sécurité"]),
}  # fmt: skip
COURSES = [
    ("TOUR1", "Tournage conventionnel", CourseKind.WORKSHOP, ["B1", "B2"]),
    ("FRAI1", "Fraisage conventionnel", CourseKind.WORKSHOP, ["B2"]),
    ("CN1", "Programmation et conduite CN", CourseKind.WORKSHOP, ["B2"]),
    ("METRO", "Métrologie", CourseKind.TECHNOLOGY, ["B3"]),
    ("TECHNO", "Technologie de fabrication", CourseKind.TECHNOLOGY, ["B1"]),
    ("PSE", "Prévention santé environnement", CourseKind.GENERAL, ["B3"]),
]


def build_cohort() -> Cohort:
    """A CAP cohort of 200 learners with a year of six modules, each attended."""
    call_command("migrate", verbosity=0)
    programme = Programme.objects.create(
        title="CAP Conducteur d'installations de production",
        code="cap-cip",
        level="3",
        rncp_code="RNCP37123",
        objectives="Usiner des pièces sur tour et fraiseuse, conventionnels et à commande "
        "numérique. Contrôler leur conformité et en rendre compte.",
        total_hours=2100,
        placement_weeks_min=12,
        placement_weeks_max=16,
    )
    competencies = {}
    for code, (title, items) in BLOCKS.items():
        block = CompetencyBlock.objects.create(programme=programme, code=code, title=title)
        competencies[code] = [
            Competency.objects.create(block=block, code=f"C{code[1]}.{n}", title=item)
            for n, item in enumerate(items, start=1)
        ]
    cohort = Cohort.objects.create(
        programme=programme,
        name="CAP CIP 2025-2027",
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2027, 6, 30),
    )
    trainer = User.objects.create_user(
        "formateur@metaltech.test", role=Role.TRAINER, first_name="Marc", last_name="Lefèvre"
    )
    room = Room.objects.create(name="Atelier 1", kind=RoomKind.WORKSHOP)
    zone = timezone.get_default_timezone()
    sessions = []
    for n, (code, title, kind, blocks) in enumerate(COURSES):
        course = Course.objects.create(
            programme=programme, code=code, title=title, kind=kind, planned_hours=120
        )
        course.competencies.set([c for block in blocks for c in competencies[block]])
        day = datetime.date(2025, 9, 8) + datetime.timedelta(days=n)
        sessions.append(
            Session.objects.create(
                course=course,
                cohort=cohort,
                trainer=trainer,
                room=room,
                start=datetime.datetime.combine(day, datetime.time(8), tzinfo=zone),
                end=datetime.datetime.combine(day, datetime.time(12), tzinfo=zone),
            )
        )
    learners = Learner.objects.bulk_create(
        Learner(
            first_name=FIRST_NAMES[n % len(FIRST_NAMES)],
            last_name=f"{LAST_NAMES[n % len(LAST_NAMES)]}-{n:03d}",
            birth_date=datetime.date(2009, 1, 1) + datetime.timedelta(days=n * 3),
        )
        for n in range(LEARNERS)
    )
    Enrolment.objects.bulk_create(
        Enrolment(learner=learner, cohort=cohort, start_date=cohort.start_date)
        for learner in learners
    )
    Attendance.objects.bulk_create(
        Attendance(session=session, learner=learner, status="present")
        for session in sessions
        for learner in learners
    )
    return cohort


def enrolments_of(cohort: Cohort) -> list[Enrolment]:
    return list(cohort.enrolments.select_related("learner", "cohort__programme").order_by("pk"))


def draft(enrolment: Enrolment, n: int) -> Draft:
    """The document (b) issues for this enrolment, with a number of its own: nothing
    is registered, (a) and the floor only render."""
    return Draft(
        services.document_prepare(KIND, enrolment).context,
        f"MT-2000-{n:06d}",
        timezone.now(),
        f"bench-{n:06d}-0123456789abcdefghijkl",
    )


def naive(enrolments: list[Enrolment]) -> tuple[float, float, int]:
    """Total time, time spent rendering alone, pages (counted once the clock stopped)."""
    kind = documents.get_kind(KIND)
    pdfs, rendering = [], 0.0
    started = time.perf_counter()
    for n, enrolment in enumerate(enrolments, start=1):
        one = draft(enrolment, n)
        render_started = time.perf_counter()
        pdfs.append(
            HTML(
                string=documents.bundle_html(kind, [one]),
                base_url=documents.base_url(),
                url_fetcher=documents.StaticOnlyURLFetcher(),
            ).write_pdf(pdf_variant="pdf/a-3b")
        )
        rendering += time.perf_counter() - render_started
    elapsed = time.perf_counter() - started
    return elapsed, rendering, sum(len(PdfReader(io.BytesIO(pdf)).pages) for pdf in pdfs)


def floor(drafts: list[Draft]) -> tuple[float, int]:
    kind = documents.get_kind(KIND)
    started = time.perf_counter()
    document = HTML(
        string=documents.bundle_html(kind, drafts),
        base_url=documents.base_url(),
        url_fetcher=documents.StaticOnlyURLFetcher(),
    ).render()
    document.write_pdf(pdf_variant="pdf/a-3b")
    return time.perf_counter() - started, len(document.pages)


@contextlib.contextmanager
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """The deployment's workers, one per core, started before the first click."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    processes = [
        subprocess.Popen(
            [*manage, "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.05"],
            env=WORKER_ENV,
        )
        for _ in range(WORKERS)
    ]
    try:
        time.sleep(5)  # Django and WeasyPrint imported, the queue polled
        yield processes
    finally:
        for process in processes:
            process.terminate()
            process.wait()


def bulk(cohort: Cohort, processes: list[subprocess.Popen[bytes]]) -> tuple[float, int]:
    """From the click to the last document valid in the register."""
    staff, _ = User.objects.get_or_create(
        email="secretariat@metaltech.test", defaults={"role": Role.STAFF}
    )
    started = time.perf_counter()
    batch = batch_create(kind=KIND, cohort=cohort, by=staff)
    items = DocumentBatchItem.objects.filter(batch=batch)
    while items.filter(document__status=DocumentStatus.VALID).count() < LEARNERS:
        if any(process.poll() is not None for process in processes):
            raise SystemExit("a worker stopped")
        if items.exclude(error="").exists():
            raise SystemExit(f"failures: {list(items.exclude(error='').values('error'))}")
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    issued = IssuedDocument.objects.filter(batch_item__batch=batch).order_by("sequence")
    sequences = list(issued.values_list("sequence", flat=True))
    first = sequences[0]
    assert sequences == list(range(first, first + LEARNERS)), "numbers skipped"  # noqa: S101
    pages = sum(len(PdfReader(document.file.path).pages) for document in issued)
    return elapsed, pages


def main() -> None:
    cohort = build_cohort()
    enrolments = enrolments_of(cohort)
    drafts = [draft(enrolment, n) for n, enrolment in enumerate(enrolments, start=1)]
    # Warm up: the first rendering of a process loads fonts and code.
    documents.render_many(documents.get_kind(KIND), drafts[:2])

    # Rounds taken in turn, medians kept: a shared machine's noise falls on all three.
    runs: dict[str, list[tuple[float, int]]] = {"naive": [], "render": [], "floor": [], "bulk": []}
    with workers() as processes:
        for _round in range(ROUNDS):
            total, rendering, pages = naive(enrolments)
            runs["naive"].append((total, pages))
            runs["render"].append((rendering, pages))
            runs["floor"].append(floor(drafts))
            runs["bulk"].append(bulk(cohort, processes))
    seconds = {name: statistics.median(s for s, _pages in values) for name, values in runs.items()}
    pages = {name: values[0][1] for name, values in runs.items()}
    per_page = {name: seconds[name] / pages[name] for name in runs}

    print(
        f"Attestation de fin de formation, {LEARNERS} apprenants, {os.cpu_count()} cœurs, "
        f"médiane de {ROUNDS} tours"
    )
    for name, label in [
        ("naive", "(a) naïf : lecture + un write_pdf par apprenant"),
        ("render", "    dont le rendu seul"),
        ("bulk", f"(b) lot : {WORKERS} db_worker, numéros, fichiers"),
        ("floor", "plancher : un document unique"),
    ]:
        spread = ", ".join(f"{s:.1f}" for s, _pages in runs[name])
        print(
            f"{label:48s} {seconds[name]:6.1f} s  {pages[name]} pages  "
            f"{per_page[name] * 1000:5.1f} ms/page  (tours : {spread} s)"
        )
    ratios = [a / b for (a, _), (b, _) in zip(runs["naive"], runs["bulk"], strict=True)]
    print(
        f"rapport (a) / (b)                : {seconds['naive'] / seconds['bulk']:5.2f} ×  "
        f"(objectif ≥ 3 ; par tour : {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    print(f"rapport (a, rendu seul) / (b)    : {seconds['render'] / seconds['bulk']:5.2f} ×")
    print(
        f"rapport (b) / plancher, par page : {per_page['bulk'] / per_page['floor']:5.2f} ×  "
        "(objectif ≤ 1,2)"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        django.db.connections.close_all()
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as server:
            server.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
