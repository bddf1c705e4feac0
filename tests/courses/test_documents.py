"""The documents of the school's week, issued through the register: each PDF holds
every mention DESIGN.md asks of its kind, with the émargement's own figures; what a
learner typed stays text, and the renderer calls nobody."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from courses.attendance import attendance_mark, attendance_sign, attendance_validate
from courses.documents import (
    attendance_context,
    completion_context,
    completion_contexts,
    sign_in_sheet_context,
)
from courses.models import Attendance, Competency, CompetencyBlock, Course, Session, SessionStatus
from school.documents import StaticOnlyURLFetcher, verification_url
from school.models import Cohort, Enrolment, EnrolmentStatus, IssuedDocument, Learner, Role, User
from school.services import document_issue, enrolment_change_status
from tests.factories import (
    CohortFactory,
    CourseFactory,
    EnrolmentFactory,
    LearnerFactory,
    ProgrammeFactory,
    RoomFactory,
    SessionFactory,
    UserFactory,
)

PARIS = ZoneInfo("Europe/Paris")
ISSUED = datetime.datetime(2027, 7, 2, 10, tzinfo=PARIS)

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A time in January 2027, Paris time (the week of Monday the 11th)."""
    return datetime.datetime(2027, 1, day, hour, minute, tzinfo=PARIS)


def text_of(document: IssuedDocument) -> str:
    """The stored PDF's text as a reader copies it, whitespace folded to single spaces."""
    pages = PdfReader(document.file.path).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def issue(kind: str, subject: Any, **parameters: Any) -> IssuedDocument:
    with time_machine.travel(ISSUED, tick=False):
        return document_issue(kind=kind, subject=subject, **parameters)


def assert_engine_mentions(document: IssuedDocument, text: str) -> None:
    """What every document carries: its number, its issue date, the school, the link."""
    assert re.fullmatch(r"MT-2027-\d{6}", document.number)
    assert f"Document n° {document.number}, émis le 02/07/2027." in text
    assert settings.SCHOOL_IDENTITY["name"] in text
    assert f"N° {document.number} — émis le 02/07/2027" in text  # the footer, every page
    assert verification_url(document.verification_code) in text


@dataclass
class Week:
    """A cohort's week of January 2027: Léa was present, late, then excused; Hugo was
    absent, not recorded, then present. One session is cancelled, one is next week."""

    trainer: User
    cohort: Cohort
    lea: Learner
    hugo: Learner
    enrolment: Enrolment
    sessions: list[Session]


def mark(session: Session, learner: Learner, status: str, reason: str = "") -> None:
    # The trainer takes the roll call during the session, as on the tablet.
    with time_machine.travel(session.start + datetime.timedelta(minutes=15), tick=False):
        attendance_mark(
            session=session, learner=learner, status=status, reason=reason, by=session.trainer
        )


@pytest.fixture
def week() -> Week:
    programme = ProgrammeFactory(
        title="CAP Conducteur d'installations de production",
        rncp_code="RNCP37123",
        objectives="Usiner des pièces sur tour et fraiseuse.\nContrôler leur conformité.",
        total_hours=2100,
    )
    trainer = UserFactory(first_name="Paul", last_name="Mercier", role=Role.TRAINER)
    cohort = CohortFactory(name="CAP 2026-2028", programme=programme)
    lea = LearnerFactory(
        first_name="Léa", last_name="Durand", birth_date=datetime.date(2010, 3, 14)
    )
    hugo = LearnerFactory(first_name="Hugo", last_name="Petit")
    enrolment = EnrolmentFactory(learner=lea, cohort=cohort)
    EnrolmentFactory(learner=hugo, cohort=cohort)

    turning = CourseFactory(programme=programme, code="M1", title="Tournage", kind="workshop")
    metrology = CourseFactory(programme=programme, code="M2", title="Métrologie", kind="technology")
    milling = CourseFactory(programme=programme, code="M3", title="Fraisage CN", kind="workshop")
    making = CompetencyBlock.objects.create(programme=programme, code="B1", title="Usiner")
    checking = CompetencyBlock.objects.create(programme=programme, code="B2", title="Contrôler")
    turning.competencies.add(
        Competency.objects.create(block=making, code="C1.1", title="Régler un tour")
    )
    milling.competencies.add(
        Competency.objects.create(block=making, code="C1.2", title="Programmer une fraiseuse CN")
    )
    metrology.competencies.add(
        Competency.objects.create(block=checking, code="C2.1", title="Mesurer au micromètre")
    )

    workshop, classroom = RoomFactory(name="Atelier 1"), RoomFactory(name="Salle 2")

    def plan(course: Course, start: datetime.datetime, **fields: Any) -> Session:
        return SessionFactory(
            course=course,
            cohort=cohort,
            trainer=trainer,
            room=classroom if course == metrology else workshop,
            start=start,
            end=start + datetime.timedelta(hours=4),
            **fields,
        )

    sessions = [
        plan(turning, at(11, 8)),
        plan(metrology, at(12, 8)),
        plan(turning, at(13, 13, 30)),
        plan(turning, at(14, 8), status=SessionStatus.CANCELLED),
        plan(turning, at(18, 8)),
    ]
    monday, tuesday, wednesday, _cancelled, next_monday = sessions
    mark(monday, lea, "present")
    attendance_sign(learner=lea, at=at(11, 8, 5))
    mark(monday, hugo, "absent")
    with time_machine.travel(at(11, 12), tick=False):
        attendance_validate(session=monday, by=trainer)
    mark(tuesday, lea, "late", "bus en retard")
    mark(wednesday, lea, "excused", "rendez-vous médical")
    mark(wednesday, hugo, "present")
    mark(next_monday, lea, "absent")
    return Week(trainer, cohort, lea, hugo, enrolment, sessions)


def test_the_attestation_de_fin_de_formation_says_what_was_followed_and_for_how_long(
    week: Week,
) -> None:
    with time_machine.travel(at(20, 9), tick=False):
        enrolment = enrolment_change_status(
            enrolment=week.enrolment,
            status=EnrolmentStatus.GRADUATED,
            effective_on=datetime.date(2027, 6, 30),
        )

    document = issue("attestation_fin_formation", enrolment)
    text = text_of(document)

    assert_engine_mentions(document, text)
    assert document.learner == week.lea
    assert document.subject == "Attestation de fin de formation — Léa Durand — CAP 2026-2028"
    assert "Attestation de fin de formation" in text
    assert "Nom et prénom : Léa Durand" in text
    assert "Date de naissance : 14/03/2010" in text
    assert "Intitulé : CAP Conducteur d'installations de production" in text
    assert "Niveau : Niveau 3 (CAP)" in text
    assert "Code RNCP : RNCP37123" in text
    assert "Usiner des pièces sur tour et fraiseuse. Contrôler leur conformité." in text
    assert "école de production" in text
    assert "« faire pour apprendre »" in text
    assert "(PFMP)" in text
    assert "Nature des modules suivis : Atelier, Technologie." in text
    assert "Du 01/09/2026 au 30/06/2027." in text
    # Four sessions of 4 h (the cancelled one does not count): present, late, excused, absent.
    assert "Heures prévues au planning : 16 h" in text
    assert "Heures suivies (présences, retards compris) : 8 h" in text
    assert "Durée totale de la formation : 2100 h" in text
    assert "B1 — Usiner" in text
    assert "C1.1 — Régler un tour" in text
    assert "B2 — Contrôler" in text
    assert "C2.1 — Mesurer au micromètre" in text
    # Fraisage CN was never taught to this cohort: its competency is not claimed.
    assert "C1.2" not in text
    assert "livret de compétences" in text
    assert "Fait à Nogent, le 02/07/2027." in text
    assert settings.SCHOOL_IDENTITY["head"] in text


def test_an_enrolment_still_running_is_attested_up_to_the_cohorts_end(week: Week) -> None:
    context = completion_context(week.enrolment)

    assert (context["first_day"], context["last_day"]) == (
        datetime.date(2026, 9, 1),
        datetime.date(2028, 6, 30),
    )


def test_the_attestation_dassiduite_adds_up_the_emargement_over_the_period(week: Week) -> None:
    document = issue(
        "attestation_assiduite",
        week.lea,
        start=datetime.date(2027, 1, 11),
        end=datetime.date(2027, 1, 17),
    )
    text = text_of(document)

    assert_engine_mentions(document, text)
    assert document.learner == week.lea
    assert document.subject == "Attestation d'assiduité — Léa Durand — du 11/01/2027 au 17/01/2027"
    assert "Attestation d'assiduité" in text
    assert "Nom et prénom : Léa Durand" in text
    assert "Date de naissance : 14/03/2010" in text
    assert "Promotion : CAP 2026-2028" in text
    assert "Formation : CAP Conducteur d'installations de production — Niveau 3 (CAP)" in text
    assert "Du 11/01/2027 au 17/01/2027." in text
    # Present, late, excused; the cancelled session and next Monday's absence are out.
    assert "Heures prévues : 12 h" in text
    assert "Heures suivies (présences, retards compris) : 8 h" in text
    assert "Absences justifiées : 4 h" in text
    assert "Absences non justifiées : 0 h" in text
    assert "sans présence relevée" not in text
    assert "Tournage 8 h 4 h 4 h 0 h" in text
    assert "Métrologie 4 h 4 h 0 h 0 h" in text
    assert "Fraisage" not in text
    assert "Fait à Nogent, le 02/07/2027." in text
    assert settings.SCHOOL_IDENTITY["head"] in text


def test_the_attestation_dassiduite_shows_hours_no_one_recorded(week: Week) -> None:
    document = issue(
        "attestation_assiduite",
        week.hugo,
        start=datetime.date(2027, 1, 11),
        end=datetime.date(2027, 1, 17),
    )
    text = text_of(document)

    assert "Heures prévues : 12 h" in text
    assert "Heures suivies (présences, retards compris) : 4 h" in text
    assert "Absences justifiées : 0 h" in text
    assert "Absences non justifiées : 4 h" in text
    assert "Heures sans présence relevée : 4 h" in text
    assert "Tournage 8 h 4 h 0 h 4 h 0 h" in text
    assert "Métrologie 4 h 0 h 0 h 0 h 4 h" in text


def test_a_period_that_ends_before_it_starts_is_refused_and_uses_no_number(
    week: Week,
) -> None:
    with pytest.raises(ValidationError, match="La fin de la période précède son début"):
        issue(
            "attestation_assiduite",
            week.lea,
            start=datetime.date(2027, 1, 17),
            end=datetime.date(2027, 1, 11),
        )

    assert not IssuedDocument.objects.exists()
    assert issue("feuille_emargement", week.cohort, week=datetime.date(2027, 1, 11)).number == (
        "MT-2027-000001"
    )


def test_the_feuille_demargement_lists_the_weeks_sessions_and_each_line(week: Week) -> None:
    document = issue("feuille_emargement", week.cohort, week=datetime.date(2027, 1, 13))
    text = text_of(document)

    assert_engine_mentions(document, text)
    assert document.learner is None
    assert document.subject == "Feuille d'émargement — CAP 2026-2028 — semaine du 11/01/2027"
    assert "Feuille d'émargement" in text
    assert "Promotion : CAP 2026-2028" in text
    assert "Semaine du lundi 11/01/2027 au dimanche 17/01/2027." in text

    monday, tuesday, wednesday = (
        text.index(day) for day in ("Lundi 11/01/2027", "Mardi 12/01/2027", "Mercredi 13/01/2027")
    )
    assert monday < tuesday < wednesday
    assert "Jeudi" not in text  # cancelled
    assert "18/01/2027" not in text  # next week

    on_monday = text[monday:tuesday]
    assert "Lundi 11/01/2027, 08:00–12:00 · Tournage" in on_monday
    assert "Formateur : Paul Mercier · Salle : Atelier 1" in on_monday
    assert "Émargement validé le 11/01/2027 à 12:00 par Paul Mercier." in on_monday
    assert "Léa Durand Présent signé à 08:05" in on_monday
    assert "Hugo Petit Absent —" in on_monday

    on_tuesday = text[tuesday:wednesday]
    assert "Mardi 12/01/2027, 08:00–12:00 · Métrologie" in on_tuesday
    assert "Salle : Salle 2" in on_tuesday
    assert "Émargement non validé par le formateur." in on_tuesday
    assert "Léa Durand En retard (bus en retard) —" in on_tuesday
    assert "Hugo Petit non relevé —" in on_tuesday

    on_wednesday = text[wednesday:]
    assert "Mercredi 13/01/2027, 13:30–17:30 · Tournage" in on_wednesday
    assert "Léa Durand Excusé (rendez-vous médical) —" in on_wednesday
    assert "Hugo Petit Présent —" in on_wednesday


def test_the_feuille_demargement_follows_the_enrolment_dates_and_the_groups(week: Week) -> None:
    with time_machine.travel(at(20, 9), tick=False):
        enrolment_change_status(
            enrolment=week.enrolment,
            status=EnrolmentStatus.WITHDRAWN,
            effective_on=datetime.date(2027, 1, 20),
            reason="Réorientation",
        )
    EnrolmentFactory(
        learner=LearnerFactory(first_name="Nina", last_name="Roux"),
        cohort=week.cohort,
        start_date=datetime.date(2027, 2, 1),
    )
    SessionFactory(cohort=week.cohort, trainer=week.trainer, start=at(15, 8), learners=[week.hugo])

    document = issue("feuille_emargement", week.cohort, week=datetime.date(2027, 1, 17))
    text = text_of(document)

    assert document.subject == "Feuille d'émargement — CAP 2026-2028 — semaine du 11/01/2027"
    # Léa has left since, Nina joined later: the sheet shows that week as it was.
    assert "Léa Durand Présent signé à 08:05" in text
    assert "Léa Durand Excusé (rendez-vous médical)" in text
    assert "Nina Roux" not in text
    # Friday's session is Hugo's group's alone.
    assert text[text.index("Vendredi 15/01/2027") :].count("Léa Durand") == 0
    assert "Hugo Petit non relevé" in text[text.index("Vendredi 15/01/2027") :]


def test_the_feuille_demargement_costs_one_query_per_learner(
    week: Week, django_assert_num_queries: Any
) -> None:
    # The week's sessions, their lines, the cohort's learners; then each one's sessions.
    with django_assert_num_queries(3 + 2):
        sign_in_sheet_context(week.cohort, week=datetime.date(2027, 1, 11))


def test_the_attestation_dassiduite_costs_three_queries_whatever_its_modules(
    week: Week, django_assert_num_queries: Any
) -> None:
    # The learner's enrolments, the period's hours by module (two here), the modules.
    with django_assert_num_queries(3):
        attendance_context(
            week.lea, start=datetime.date(2027, 1, 11), end=datetime.date(2027, 1, 17)
        )


def test_a_class_attestations_read_together_say_what_each_one_alone_says(
    week: Week, django_assert_num_queries: Any
) -> None:
    # Inès left on Tuesday evening: her period differs, her hours are read apart.
    ines = LearnerFactory(first_name="Inès", last_name="Bernard")
    EnrolmentFactory(
        learner=ines,
        cohort=week.cohort,
        end_date=datetime.date(2027, 1, 12),
        status=EnrolmentStatus.WITHDRAWN,
    )
    # (Written straight to the ledger: a departed learner is no longer on the roll call.)
    Attendance.objects.create(session=week.sessions[1], learner=ines, status="present")
    enrolments = list(
        Enrolment.objects.filter(cohort=week.cohort)
        .select_related("learner", "cohort__programme")
        .order_by("learner__last_name")
    )

    # The hours of each period (two here), the modules, their competencies.
    with django_assert_num_queries(2 + 2):
        together = completion_contexts(enrolments)

    alone = [completion_context(enrolment) for enrolment in enrolments]
    assert together == alone
    followed = {context["learner"].first_name: context["courses"] for context in together}
    assert {name: [course.code for course in courses] for name, courses in followed.items()} == {
        "Inès": ["M2"],
        "Léa": ["M1", "M2"],
        "Hugo": ["M1"],
    }
    competencies = {c["learner"].first_name: [x.code for x in c["competencies"]] for c in together}
    assert competencies == {"Inès": ["C2.1"], "Léa": ["C1.1", "C2.1"], "Hugo": ["C1.1"]}


def test_numbers_follow_each_other(week: Week) -> None:
    first = issue("feuille_emargement", week.cohort, week=datetime.date(2027, 1, 25))
    second = issue("feuille_emargement", week.cohort, week=datetime.date(2027, 2, 1))

    assert (first.number, second.number) == ("MT-2027-000001", "MT-2027-000002")
    assert "Aucune séance cette semaine." in text_of(first)


SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=http://example.org/x.png>"


@pytest.fixture
def intruder(monkeypatch: pytest.MonkeyPatch) -> tuple[Enrolment, list[str]]:
    """A learner whose name is HTML, in a cohort with one session; and the list of
    every URL the renderer asks its fetcher for."""
    enrolment = EnrolmentFactory(learner=LearnerFactory(first_name=SCRIPT, last_name=IMAGE))
    SessionFactory(cohort=enrolment.cohort)
    requested: list[str] = []
    fetch = StaticOnlyURLFetcher.fetch

    def recording(self: StaticOnlyURLFetcher, url: str, headers: Any = None) -> Any:
        requested.append(url)
        return fetch(self, url, headers)

    monkeypatch.setattr(StaticOnlyURLFetcher, "fetch", recording)
    return enrolment, requested


@pytest.mark.parametrize(
    ("kind", "subject", "parameters"),
    [
        ("attestation_fin_formation", lambda enrolment: enrolment, {}),
        (
            "attestation_assiduite",
            lambda enrolment: enrolment.learner,
            {"start": datetime.date(2027, 1, 11), "end": datetime.date(2027, 1, 17)},
        ),
        (
            "feuille_emargement",
            lambda enrolment: enrolment.cohort,
            {"week": datetime.date(2027, 1, 12)},
        ),
    ],
)
def test_a_name_written_in_html_is_printed_as_text_and_fetches_nothing(
    intruder: tuple[Enrolment, list[str]], kind: str, subject: Any, parameters: dict[str, Any]
) -> None:
    enrolment, requested = intruder

    text = text_of(issue(kind, subject(enrolment), **parameters))

    # A narrow column may wrap the name: compare the characters, not the line breaks.
    assert "".join((SCRIPT + IMAGE).split()) in "".join(text.split())
    assert requested  # the stylesheet and the QR code went through the fetcher
    assert [url for url in requested if not url.startswith(("file:", "data:"))] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/x.png",
        "https://example.org/x.png",
        "file:///etc/passwd",
        f"file://{settings.BASE_DIR}/db.sqlite3",
        f"file://{settings.BASE_DIR}/school/static/documents/../../settings.py",
    ],
)
def test_the_fetcher_refuses_anything_but_static_files(url: str) -> None:
    with pytest.raises(ValueError, match="Refused"):
        StaticOnlyURLFetcher().fetch(url)


def test_the_fetcher_serves_the_documents_stylesheet() -> None:
    stylesheet = finders.find("documents/document.css")

    response = StaticOnlyURLFetcher().fetch(f"file://{stylesheet}")

    assert b"@page" in response.read()


def test_a_document_is_pdf_a_3(week: Week) -> None:
    document = issue("feuille_emargement", week.cohort, week=datetime.date(2027, 1, 11))

    metadata = PdfReader(document.file.path).trailer["/Root"]["/Metadata"].get_object()
    xmp = metadata.get_data().decode()

    assert re.search(r"pdfaid:part(>|=\")3", xmp)
