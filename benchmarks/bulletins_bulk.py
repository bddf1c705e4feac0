"""The term bulletins of a cohort of 30, issued as a batch, against the attestations de
fin de formation of the same cohort issued the same way: the cost per page of a
bulletin as a ratio of the attestation's (the issue asks for the figure, not a target).

Both batches run through ``school.batches`` with the immediate task backend (in this
process, one chunk after another), on a SQLite database of their own: the ratio
compares the two kinds' contexts and layouts, the engine and the register being the
same. Each is run ``BENCH_ROUNDS`` times (default 3), alternately; medians are printed.

Run from the project root: ``.venv/bin/python benchmarks/bulletins_bulk.py``.
"""

from __future__ import annotations

import datetime
import os
import secrets
import statistics
import time
from decimal import Decimal

from _setup import cap_programme, django_on_sqlite

# Production settings (DEBUG off: no query log, no template debugging).
os.environ.update(
    {
        "TASKS_BACKEND": "immediate",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "EMAIL_URL": "consolemail://",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
)
DATABASE = django_on_sqlite("metaltech_bench_bulletins.sqlite3")

from django.core.management import call_command  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from assessments import services  # noqa: E402
from assessments.models import Scale, SituationKind, Term  # noqa: E402
from assessments.services import Entry  # noqa: E402
from courses.models import Competency, CompetencyBlock, Course, CourseKind, Room, Session  # noqa: E402
from school.batches import batch_create  # noqa: E402
from school.models import Cohort, Enrolment, IssuedDocument, Learner, Role, User  # noqa: E402

LEARNERS = 30
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
START, END = datetime.date(2026, 9, 1), datetime.date(2026, 12, 18)


def build() -> Cohort:
    staff = User.objects.create_user(email="bench@metaltech.test", role=Role.STAFF)
    trainer = User.objects.create_user(email="prof@metaltech.test", role=Role.TRAINER)
    programme = cap_programme()
    cohort = Cohort.objects.create(
        programme=programme,
        name="CAP bench",
        start_date=START,
        end_date=datetime.date(2028, 6, 30),
        head_trainer=trainer,
    )
    block = CompetencyBlock.objects.create(programme=programme, code="B2", title="Réaliser")
    competencies = [
        Competency.objects.create(block=block, code=f"C2.{n}", title=f"Compétence {n}")
        for n in range(4)
    ]
    room = Room.objects.create(name="Atelier", kind="workshop")
    learners = []
    for n in range(LEARNERS):
        learner = Learner.objects.create(
            first_name=f"Prénom{n}", last_name=f"Nom{n:02d}", birth_date=datetime.date(2010, 3, 1)
        )
        Enrolment.objects.create(learner=learner, cohort=cohort, start_date=START)
        learners.append(learner)
    for index, (code, title) in enumerate(
        [("TOUR", "Tournage"), ("FRAI", "Fraisage"), ("METRO", "Métrologie")]
    ):
        course = Course.objects.create(
            programme=programme, code=code, title=title, kind=CourseKind.WORKSHOP, planned_hours=120
        )
        Session.objects.create(
            course=course,
            cohort=cohort,
            trainer=trainer,
            room=room,
            start=datetime.datetime(2026, 10, 5 + index, 7, tzinfo=datetime.UTC),
            end=datetime.datetime(2026, 10, 5 + index, 11, tzinfo=datetime.UTC),
        )
        for k in range(2):
            situation = services.situation_save(
                by=trainer,
                cohort=cohort,
                course=course,
                title=f"Contrôle {title} {k + 1}",
                date=datetime.date(2026, 11, 2 + 7 * k),
                kind=SituationKind.SUMMATIVE,
                scale=Scale.BOTH,
                coefficient=Decimal(1 + k),
                weights={competencies[index].pk: 50, competencies[index + 1].pk: 50},
            )
            services.results_record(
                situation=situation,
                entries=[
                    Entry(
                        learner=learner.pk,
                        mark=str(8 + (n + k) % 12),
                        levels={
                            competencies[index].pk: "acquired",
                            competencies[index + 1].pk: "in_progress",
                        },
                    )
                    for n, learner in enumerate(learners)
                ],
                by=trainer,
            )
    Term.objects.create(cohort=cohort, name="1er trimestre", start_date=START, end_date=END)
    del staff
    return cohort


def run(kind: str, cohort: Cohort, **parameters: datetime.date) -> tuple[float, int]:
    staff = User.objects.get(email="bench@metaltech.test")
    began = time.perf_counter()
    batch_create(kind=kind, cohort=cohort, by=staff, **parameters)
    elapsed = time.perf_counter() - began
    issued = IssuedDocument.objects.filter(kind=kind).order_by("-pk")[:LEARNERS]
    pages = 0
    for document in issued:
        with document.file.open("rb") as file:
            pages += len(PdfReader(file).pages)
    return elapsed, pages


def main() -> None:
    call_command("migrate", verbosity=0)
    cohort = build()
    bulletin, attestation = [], []
    for _round in range(ROUNDS):
        seconds, pages = run("attestation_fin_formation", cohort)
        attestation.append((seconds, pages))
        seconds, pages = run("bulletin", cohort, start=START, end=END)
        bulletin.append((seconds, pages))
    a_time = statistics.median(s for s, _p in attestation)
    b_time = statistics.median(s for s, _p in bulletin)
    a_pages, b_pages = attestation[0][1], bulletin[0][1]
    print(f"Cohort of {LEARNERS}, {ROUNDS} rounds, medians:")
    print(f"  attestations: {a_time:.2f} s, {a_pages} pages, {a_time / a_pages * 1000:.0f} ms/page")
    print(f"  bulletins:    {b_time:.2f} s, {b_pages} pages, {b_time / b_pages * 1000:.0f} ms/page")
    print(f"  per-page cost, bulletin / attestation: {(b_time / b_pages) / (a_time / a_pages):.2f}")
    print(f"  per-document cost, bulletin / attestation: {b_time / a_time:.2f}")
    DATABASE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
