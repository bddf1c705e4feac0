"""The retention policy (manage.py apply_retention): a learner who left long enough ago
becomes a pseudonym that no column of any table, history included, can link back to
them, while every statistic of their cohort reads the same; the other categories are
purged on their own delays; a dry run and a second run change nothing."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from rest_framework.authtoken.models import Token

from courses.attendance import hours_report
from courses.models import Attendance, AttendanceStatus, MedicalFitness
from courses.rhythm import competency_coverage, rhythm_of
from internships import services as placement_services
from internships.follow_up import placement_hours, progress_of
from internships.models import (
    Absence,
    Placement,
    Signature,
    SignatureMethod,
    SignerRole,
    TutorEvaluation,
)
from school import privacy, services
from school.models import (
    Cohort,
    DocumentCounter,
    Enrolment,
    EnrolmentStatus,
    Guardian,
    IssuedDocument,
    Learner,
    Role,
    User,
)
from school.privacy import learner_export
from tests.conftest import World
from tests.factories import (
    ApplicationFactory,
    AttendanceFactory,
    CompetencyEvidenceFactory,
    CompetencyFactory,
    CourseFactory,
    EnrolmentFactory,
    GuardianFactory,
    LearnerFactory,
    MedicalFitnessFactory,
    PlacementFactory,
    SessionFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
LEFT_ON = datetime.date(2028, 6, 30)
# Four years after she left; three years and a day, when her agreement still holds her.
FOUR_YEARS_LATER = datetime.datetime(2032, 7, 1, 9, tzinfo=UTC)
THREE_YEARS_LATER = datetime.datetime(2031, 7, 1, 9, tzinfo=UTC)

# What must be nowhere once she is anonymised (lower case: SQLite lowers ASCII only).
HER = [
    "quenouill",
    "albertine",
    "albertine.q@example.test",
    "sylvie.q@example.test",
    "bruno.q@example.test",
    "06 12 34 56 78",
    "06 98 76 54 32",
    "1234567890a",
    "impasse des tilleuls",
    "203.0.113.7",
    "198.51.100.23",
    "orthophoniste",
]


def remnants(*needles: str) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) where a needle appears, in any column of any table,
    read as text: the database as an attacker with a dump would search it."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            for column in connection.introspection.get_table_description(cursor, table):
                for needle in needles:
                    cursor.execute(
                        f'SELECT COUNT(*) FROM "{table}" '  # noqa: S608 — names from introspection
                        f'WHERE LOWER(CAST("{column.name}" AS TEXT)) LIKE %s',
                        [f"%{needle.lower()}%"],
                    )
                    if cursor.fetchone()[0]:
                        found.append((table, column.name, needle))
    return found


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, as text: equal snapshots, an untouched database."""
    tables = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 — names from introspection
            tables[table] = sorted(repr(row) for row in cursor.fetchall())
    return tables


def statistics(cohort: Cohort) -> dict[str, Any]:
    """What the school reports of a cohort, by the app's own rules."""
    enrolments = Enrolment.objects.filter(cohort=cohort)
    learners = Learner.objects.filter(enrolments__cohort=cohort)
    attendance = Attendance.objects.filter(session__cohort=cohort)
    return {
        "learners": learners.count(),
        "by_status": sorted(enrolments.values_list("status", flat=True)),
        "hours": {
            learner.pk: hours_report(learner=learner).total for learner in learners.order_by("pk")
        },
        "attendance": {
            status: attendance.filter(status=status).count() for status in AttendanceStatus
        },
        "rhythm": rhythm_of(learners, cohort.programme),
        "coverage": [
            (row.competency.pk, row.secured, row.learners)
            for row in competency_coverage(cohort, learners)
        ],
        "placement_weeks": {
            row.learner.pk: row.weeks for row in progress_of(enrolments, datetime.date(2026, 9, 1))
        },
        "placement_hours": placement_hours(learners),
        "placements": sorted(
            Placement.objects.filter(learner__in=learners).values_list(
                "learner", "start_date", "end_date", "status"
            )
        ),
        "register": list(
            IssuedDocument.objects.order_by("year", "series", "sequence").values_list(
                "number", "kind", "sha256", "status", "issued_at", "verification_code"
            )
        ),
        "counters": list(DocumentCounter.objects.values_list("year", "last")),
    }


@dataclass
class Cast:
    world: World
    albertine: Learner
    classmate: Learner
    placement: Placement
    attestation: IssuedDocument
    attestation_pdf: bytes
    sheet: IssuedDocument
    classmate_attestation: IssuedDocument


@pytest.fixture
def cast(world: World) -> Cast:
    """Albertine, 16, in CAP 2026 with a classmate: a term of émargement, evidence, a
    signed placement (electronic and paper signatures), an evaluation, documents, and
    everything the office typed about her; she graduates on 30 June 2028."""
    staff, cohort = world.staff, world.cohort
    with time_machine.travel(datetime.datetime(2027, 1, 4, 9, tzinfo=UTC)):
        albertine = world.learner
        albertine.first_name, albertine.last_name = "Albertine", "Quenouillère"
        albertine.birth_date = datetime.date(2010, 5, 17)
        albertine.email, albertine.phone = "albertine.q@example.test", "06 12 34 56 78"
        albertine.address, albertine.ine = "3 impasse des Tilleuls", "1234567890A"
        albertine.save()
        account = world.learner_user
        account.email, account.first_name, account.last_name = (
            "albertine.q@example.test",
            "Albertine",
            "Quenouillère",
        )
        account.save()
        sylvie = world.guardian
        sylvie.first_name, sylvie.last_name = "Sylvie", "Quenouillère"
        sylvie.email, sylvie.phone = "sylvie.q@example.test", "06 98 76 54 32"
        sylvie.address = "3 impasse des Tilleuls"
        sylvie.save()
        GuardianFactory(
            learner=albertine,
            rank=2,
            relationship=Guardian.Relationship.FATHER,
            first_name="Bruno",
            email="bruno.q@example.test",
        )
        classmate = LearnerFactory(first_name="Noé", last_name="Valdenaire")
        EnrolmentFactory(learner=classmate, cohort=cohort)

        course = CourseFactory(programme=cohort.programme)
        sessions = [
            SessionFactory(
                cohort=cohort,
                course=course,
                trainer=world.trainer,
                start=datetime.datetime(2027, 1, 11 + day, 7, tzinfo=UTC),
            )
            for day in range(3)
        ]
        for session, hers, theirs in zip(
            sessions, ["present", "late", "absent"], ["present", "absent", "present"], strict=True
        ):
            AttendanceFactory(session=session, learner=albertine, status=hers)
            AttendanceFactory(session=session, learner=classmate, status=theirs)
        # Excused afterwards, with a reason that names her: the history keeps both.
        line = Attendance.objects.get(learner=albertine, status="absent")
        line.status, line.reason = "excused", "Rendez-vous chez l'orthophoniste d'Albertine"
        line.save()
        competency = CompetencyFactory(block__programme=cohort.programme)
        CompetencyEvidenceFactory(
            learner=albertine,
            competency=competency,
            note="Albertine règle seule le tour CN",
            reference="Séance de tournage — Quenouillère",
        )
        CompetencyEvidenceFactory(learner=classmate, competency=competency, level="in_progress")
        MedicalFitnessFactory(learner=albertine)
        ApplicationFactory(
            learner=albertine,
            offer__company=world.company,
            message="Bonjour, je suis Albertine Quenouillère, motivée par l'usinage.",
            status="rejected",
            rejection_reason="Albertine préfère un stage plus près de Nogent",
        )

        placement = PlacementFactory(
            learner=albertine,
            company=world.company,
            referent=world.trainer,
            activities="Albertine règle le tour CN et contrôle ses séries.",
            lodging="Chez son oncle, M. Quenouillère",
        )
        version = placement_services.placement_freeze(placement, by=staff)
        addresses = {SignerRole.LEARNER: "203.0.113.7", SignerRole.GUARDIAN: "198.51.100.23"}
        for signature in version.signatures.order_by("order"):
            if signature.role == SignerRole.GUARDIAN and signature.user is None:
                placement_services.signature_record_paper(
                    signature,
                    scan=SimpleUploadedFile(
                        "convention-quenouillere-signee.pdf", b"%PDF-1.4 scan", "application/pdf"
                    ),
                    by=staff,
                )
            else:
                placement_services.signature_sign(
                    signature,
                    by=None,
                    ip_address=addresses.get(signature.role, "192.0.2.10"),
                    user_agent="TabletteQuenouillere/1.0",
                )

    with time_machine.travel(datetime.datetime(2027, 3, 29, 9, tzinfo=UTC)):
        placement_services.placements_advance()
        evaluation = TutorEvaluation.objects.get(placement=placement)
        evaluation.comments = "Albertine Quenouillère : stagiaire sérieuse et autonome."
        evaluation.attendance = "Absente une demi-journée (Albertine chez le dentiste)."
        evaluation.submitted_at = datetime.datetime(2027, 3, 29, 9, tzinfo=UTC)
        evaluation.save()
        Absence.objects.create(
            placement=placement,
            date=datetime.date(2027, 3, 10),
            hours=Decimal("3.5"),
            justified=True,
            reason="Albertine chez l'orthophoniste",
        )
        VisitFactory(placement=placement, notes="Albertine Quenouillère bien intégrée.")
        attestation = services.document_issue(
            kind="attestation_assiduite",
            subject=albertine,
            by=staff,
            start=datetime.date(2027, 1, 11),
            end=datetime.date(2027, 1, 15),
        )
        classmate_attestation = services.document_issue(
            kind="attestation_assiduite",
            subject=classmate,
            by=staff,
            start=datetime.date(2027, 1, 11),
            end=datetime.date(2027, 1, 15),
        )
        sheet = services.document_issue(
            kind="feuille_emargement", subject=cohort, by=staff, week=datetime.date(2027, 1, 11)
        )
        for obj, action, message in [
            (albertine, CHANGE, '[{"changed": {"fields": ["Téléphone"]}}]'),
            (albertine, ADDITION, '[{"added": {"name": "responsable légal", "object": "Sylvie Quenouillère"}}]'),
        ]:  # fmt: skip
            LogEntry.objects.create(
                user=staff,
                content_type=ContentType.objects.get_for_model(Learner),
                object_id=str(obj.pk),
                object_repr=str(obj),
                action_flag=action,
                change_message=message,
            )

    with time_machine.travel(datetime.datetime(2028, 6, 30, 17, tzinfo=UTC)):
        services.enrolment_change_status(
            enrolment=world.enrolment,
            status=EnrolmentStatus.GRADUATED,
            effective_on=LEFT_ON,
            reason="CAP obtenu : bravo Albertine",
            by=staff,
        )
    with attestation.file.open("rb") as pdf:
        attestation_pdf = pdf.read()
    return Cast(
        world,
        albertine,
        classmate,
        placement,
        attestation,
        attestation_pdf,
        sheet,
        classmate_attestation,
    )


@pytest.fixture
def four_years_later() -> Iterator[None]:
    with time_machine.travel(FOUR_YEARS_LATER, tick=False):
        yield


def _at_nine(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(9), tzinfo=UTC)


def run(*options: str) -> str:
    out = io.StringIO()
    call_command("apply_retention", *options, stdout=out)
    return out.getvalue()


def test_a_learner_who_left_four_years_ago_becomes_a_pseudonym_no_column_links_back(
    cast: Cast, four_years_later: None
) -> None:
    # A former pupil tries her old account the week before: the attempt names her.
    AccessAttempt.objects.create(
        username="albertine.q@example.test",
        ip_address="203.0.113.7",
        user_agent="TabletteQuenouillere/1.0",
        http_accept="*/*",
        path_info="/login/",
        get_data="",
        post_data="",
        failures_since_start=1,
    )
    Token.objects.create(user=cast.world.learner_user)
    scan = Signature.objects.get(method=SignatureMethod.PAPER).scan
    assert scan.storage.exists(scan.name) and "quenouillere" in scan.name
    assert remnants(*HER)  # she is everywhere before

    output = run()

    albertine = Learner.objects.get(pk=cast.albertine.pk)
    assert f"Apprenants anonymisés : 1 (n° {albertine.pk})" in output
    assert str(albertine) == f"Apprenant anonymisé #{albertine.pk}"
    assert albertine.birth_date == datetime.date(2010, 1, 1)  # the year, for statistics by age
    assert (albertine.email, albertine.phone, albertine.address, albertine.ine) == ("", "", "", "")
    assert albertine.anonymised_at == FOUR_YEARS_LATER
    assert not albertine.guardians.exists()
    assert [h.history_change_reason for h in Learner.history.filter(id=albertine.pk)] == [
        "Anonymisation (RGPD)"
    ]
    for account in (cast.world.learner_user, cast.world.guardian_user):
        account.refresh_from_db()
        assert not account.is_active and not account.has_usable_password()
        assert account.email == f"anonymise-{account.pk}@anonymise.invalid"
    assert not Token.objects.filter(user=cast.world.learner_user).exists()
    assert not MedicalFitness.objects.filter(learner=albertine).exists()
    # Her PDFs and the cohort's sign-in sheet (her name is printed there) are gone; the
    # paper copy she signed too. Her classmate's attestation stays.
    for document in (cast.attestation, cast.sheet, cast.placement.versions.get().document):
        assert not document.file.storage.exists(document.file.name)
    assert not scan.storage.exists(scan.name)
    assert cast.classmate_attestation.file.storage.exists(cast.classmate_attestation.file.name)

    # The convincing part: not one column of one table, history included, still has her.
    assert remnants(*HER) == []


def test_the_cohort_s_statistics_read_the_same_after_the_anonymisation(
    cast: Cast, four_years_later: None
) -> None:
    before = statistics(cast.world.cohort)
    assert before["learners"] == 2 and before["placement_weeks"][cast.albertine.pk] == Decimal(3)

    run()

    assert Learner.objects.get(pk=cast.albertine.pk).anonymised_at is not None
    assert statistics(cast.world.cohort) == before


def test_a_current_learner_and_their_family_are_untouched(
    cast: Cast, four_years_later: None
) -> None:
    world = cast.world
    durand = Learner.objects.filter(pk=world.other_learner.pk).values().get()
    classmate = Learner.objects.filter(pk=cast.classmate.pk).values().get()
    guardian = Guardian.objects.filter(pk=world.other_guardian.pk).values().get()

    run()

    assert Learner.objects.filter(pk=world.other_learner.pk).values().get() == durand
    assert Learner.objects.filter(pk=cast.classmate.pk).values().get() == classmate
    assert Guardian.objects.filter(pk=world.other_guardian.pk).values().get() == guardian
    assert Learner.history.filter(id=cast.classmate.pk).exists()


def test_a_parent_of_a_younger_pupil_keeps_their_account_and_their_name_there(
    cast: Cast, four_years_later: None
) -> None:
    world = cast.world
    basile = LearnerFactory(first_name="Basile", last_name="Quenouillère")
    EnrolmentFactory(learner=basile, cohort=world.other_cohort)
    guardian = GuardianFactory(
        learner=basile,
        user=world.guardian_user,
        first_name="Sylvie",
        last_name="Quenouillère",
        email="sylvie.q@example.test",
    )

    run()

    assert Learner.objects.get(pk=cast.albertine.pk).anonymised_at is not None
    account = User.objects.get(pk=world.guardian_user.pk)
    assert account.is_active and account.email == world.guardian_user.email
    assert str(Guardian.objects.get(pk=guardian.pk)) == "Sylvie Quenouillère"
    assert str(Learner.objects.get(pk=basile.pk)) == "Basile Quenouillère"


def test_her_documents_still_verify_by_their_hash_under_the_pseudonym(
    cast: Cast, four_years_later: None, client: Any
) -> None:
    run()
    page = f"/verify/{cast.attestation.verification_code}/"

    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert cast.attestation.number in html and cast.attestation.sha256 in html
    assert "Apprenant anonymisé #." in html and "Quenouill" not in html

    # The paper in someone's hand is still recognised, byte for byte.
    upload = SimpleUploadedFile("attestation.pdf", cast.attestation_pdf, "application/pdf")
    response = client.post(page, {"pdf": upload})
    assert "Ce fichier est identique au document enregistré." in response.content.decode()


def test_her_erased_pdf_is_said_gone_not_a_server_error(
    cast: Cast, world: World, four_years_later: None, api_as: Any
) -> None:
    run()

    response = api_as(world.staff).get(f"/api/v1/documents/{cast.attestation.pk}/pdf/")

    assert response.status_code == 410
    assert "effacé avec les données personnelles" in response.json()["detail"]


def test_the_export_of_an_anonymised_learner_holds_no_identity(
    cast: Cast, four_years_later: None
) -> None:
    run()

    with zipfile.ZipFile(io.BytesIO(learner_export(cast.albertine))) as archive:
        assert archive.namelist() == ["donnees.json"]  # her PDFs are gone
        data = json.loads(archive.read("donnees.json"))
    text = json.dumps(data, ensure_ascii=False).lower()
    assert not [needle for needle in HER if needle in text]
    assert data["learner"][0]["last_name"] == f"#{cast.albertine.pk}"
    assert data["guardians"] == []
    assert len(data["attendance"]) == 3 and len(data["placements"]) == 1


def test_a_dry_run_says_what_would_be_done_and_changes_nothing(
    cast: Cast, four_years_later: None
) -> None:
    before = snapshot()

    output = run("--dry-run")

    assert "simulation, rien n'est modifié" in output
    assert f"Apprenants à anonymiser : 1 (n° {cast.albertine.pk})" in output
    assert snapshot() == before
    assert cast.attestation.file.storage.exists(cast.attestation.file.name)


def test_a_second_run_does_nothing(cast: Cast, four_years_later: None) -> None:
    run()
    after_first = snapshot()

    output = run()

    assert "Apprenants anonymisés : 0" in output
    assert snapshot() == after_first


def test_a_learner_is_kept_while_their_signed_agreement_may_be_disputed(cast: Cast) -> None:
    # Three years after she left, her agreement (ended in March 2027) has two to go.
    with time_machine.travel(THREE_YEARS_LATER, tick=False):
        output = run()
    assert "Apprenants anonymisés : 0" in output
    assert (
        "Apprenants gardés plus longtemps (convention de stage encore dans son délai de "
        "conservation) : 1"
    ) in output
    assert Learner.objects.get(pk=cast.albertine.pk).anonymised_at is None

    with time_machine.travel(FOUR_YEARS_LATER, tick=False):
        run()
    assert Learner.objects.get(pk=cast.albertine.pk).anonymised_at is not None


def test_one_learner_s_failure_stops_neither_the_others_nor_the_report(
    cast: Cast, four_years_later: None
) -> None:
    other = LearnerFactory(first_name="Yvon", last_name="Peutetre")
    with time_machine.travel(datetime.datetime(2027, 1, 4, 9, tzinfo=UTC)):
        enrolment = EnrolmentFactory(learner=other, cohort=cast.world.cohort)
    services.enrolment_change_status(
        enrolment=enrolment,
        status=EnrolmentStatus.WITHDRAWN,
        effective_on=datetime.date(2027, 2, 1),
        reason="Déménagement",
    )

    def fails_for_albertine(erasure: Any) -> None:
        if erasure.learner.pk == cast.albertine.pk:
            raise RuntimeError("disque plein")

    privacy.register_anonymiser(fails_for_albertine)
    out = io.StringIO()
    try:
        with pytest.raises(CommandError, match="1 apprenant"):
            call_command("apply_retention", stdout=out)
    finally:
        privacy._anonymisers.unregister(fails_for_albertine)

    assert f"Apprenants anonymisés : 1 (n° {other.pk})" in out.getvalue()
    assert f"échec pour l'apprenant n° {cast.albertine.pk} : disque plein" in out.getvalue()
    assert Learner.objects.get(pk=other.pk).anonymised_at is not None
    # Hers rolled back whole: her name, her guardians, her PDFs are all still there.
    albertine = Learner.objects.get(pk=cast.albertine.pk)
    assert (albertine.last_name, albertine.guardians.count()) == ("Quenouillère", 2)
    assert cast.attestation.file.storage.exists(cast.attestation.file.name)


def test_other_categories_are_purged_on_their_own_delays(world: World) -> None:
    with time_machine.travel(datetime.datetime(2026, 11, 30, 9, tzinfo=UTC)):
        placement = PlacementFactory(learner=world.learner, company=world.company)
        version = placement_services.placement_freeze(placement, by=world.staff)
        signed = version.signatures.get(role=SignerRole.SCHOOL_HEAD)
        placement_services.signature_sign(
            signed, by=world.staff, ip_address="192.0.2.44", user_agent="Firefox"
        )
    links = Signature.objects.exclude(token_hash="")
    assert links.exists()
    # Links last 30 days, then their hash 30 more; login attempts six months.
    with time_machine.travel(datetime.datetime(2027, 1, 28, 9, tzinfo=UTC), tick=False):
        AccessLog.objects.create(
            username="eleve@test.fr",
            ip_address="192.0.2.8",
            user_agent="Firefox",
            http_accept="*/*",
            path_info="/login/",
        )
        run()
        assert links.exists()
    with time_machine.travel(datetime.datetime(2027, 1, 30, 9, tzinfo=UTC), tick=False):
        output = run()
    assert "liens de signature expirés : 4" in output
    assert not links.exists() and not Signature.history.exclude(token_hash="").exists()
    with time_machine.travel(datetime.datetime(2027, 7, 30, 9, tzinfo=UTC), tick=False):
        assert "journal des connexions : 1" in run()
    assert not AccessLog.objects.exists()

    # The school head's IP address outlives the placement by five years, not a day more,
    # though the learner is still here (never anonymised).
    last_day = placement.end_date + datetime.timedelta(
        days=settings.RETENTION_DAYS["signature_evidence"]
    )
    with time_machine.travel(_at_nine(last_day), tick=False):
        run()
        assert Signature.objects.get(pk=signed.pk).ip_address == "192.0.2.44"
    with time_machine.travel(_at_nine(last_day + datetime.timedelta(days=1)), tick=False):
        assert "adresses IP et navigateurs des signatures électroniques : 1" in run()
    assert Signature.objects.get(pk=signed.pk).ip_address is None
    assert not Signature.history.filter(ip_address__isnull=False).exists()
    assert Learner.objects.get(pk=world.learner.pk).anonymised_at is None


def test_the_seeded_demo_ten_years_on_anonymises_everyone_who_left() -> None:
    call_command("seed_demo", verbosity=0)
    staff = User.objects.get(role=Role.STAFF, email="direction@metaltech.test")
    leaving = ["Morel", "Bernard", "Amrani"]  # the demo learner, a finished and a signed PFMP
    for last_name in leaving:
        services.enrolment_change_status(
            enrolment=Enrolment.objects.get(learner__last_name=last_name),
            status=EnrolmentStatus.GRADUATED,
            by=staff,
        )
    left = Learner.objects.filter(
        enrolments__status__in=[EnrolmentStatus.WITHDRAWN, EnrolmentStatus.GRADUATED]
    )
    gone = {learner.pk: learner.last_name for learner in left}
    assert sorted(gone.values()) == ["Amrani", "Bernard", "Lambert", "Morel"]
    addresses = {
        *left.values_list("email", flat=True),
        *User.objects.filter(learner__in=left).values_list("email", flat=True),
        *Guardian.objects.filter(learner__in=left).values_list("email", flat=True),
    } - {""}
    assert {"eleve@metaltech.test", "parent@metaltech.test"} <= addresses
    staying = Learner.objects.exclude(pk__in=gone).count()
    cohorts = list(Cohort.objects.order_by("pk"))

    with time_machine.travel(datetime.datetime(2036, 9, 1, 9, tzinfo=UTC), tick=False):
        before = {cohort.pk: statistics(cohort) for cohort in cohorts}
        output = run()
        after = {cohort.pk: statistics(cohort) for cohort in cohorts}
        assert "Apprenants anonymisés : 0" in run()

    assert f"Apprenants anonymisés : 4 (n° {', n° '.join(map(str, sorted(gone)))})" in output
    assert after == before
    assert Learner.objects.filter(anonymised_at__isnull=False).count() == 4
    assert Learner.objects.filter(anonymised_at__isnull=True).count() == staying
    assert remnants(*gone.values(), *addresses) == []
