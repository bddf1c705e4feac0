"""The learner import: a CSV file → learners enrolled in a cohort, all or nothing."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from school.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Learner,
    Role,
    User,
)
from school.resources import (
    ImportFileError,
    LearnerCSV,
    LearnerImportResult,
    LearnerResource,
)
from tests.clients import Client
from tests.factories import CohortFactory, LearnerFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "nom;prenom;date_naissance;email;telephone;adresse;code_postal;commune;ine"
GOOD_ROWS = [
    "Dupont;Léa;14/03/2010;lea.dupont@example.test;06 12 34 56 78;3 rue des Forges;52800;Nogent;"
    "1234567890A",
    "Martin;Hugo;2009-11-02;hugo.martin@example.test;;;;;",
    "Bernard;Inès;01/09/2008;;;;;;",
]


def csv_bytes(*lines: str, delimiter: str = ";", bom: bool = False) -> bytes:
    text = "\r\n".join(line.replace(";", delimiter) for line in lines) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode()


def import_file(content: bytes, cohort: Cohort | None, **kwargs: object) -> LearnerImportResult:
    dataset = LearnerCSV(encoding="utf-8-sig").create_dataset(content)
    return LearnerResource(default_cohort=cohort).import_data(dataset, **kwargs)


def counts() -> tuple[int, int, int]:
    return Learner.objects.count(), Enrolment.objects.count(), EnrolmentStatusChange.objects.count()


@pytest.fixture
def cohort() -> Cohort:
    return CohortFactory.create(name="CAP CIP 2026")


def test_a_correct_file_imports_every_learner_with_an_active_enrolment_and_its_history(
    cohort: Cohort,
) -> None:
    result = import_file(csv_bytes(HEADER, *GOOD_ROWS), cohort)

    assert result.error_messages() == []
    assert result.summary() == "3 apprenants importés dans « CAP CIP 2026 »."
    lea = Learner.objects.get(email="lea.dupont@example.test")
    assert (lea.last_name, lea.first_name, lea.birth_date) == (
        "Dupont",
        "Léa",
        datetime.date(2010, 3, 14),
    )
    assert (lea.phone, lea.address, lea.postal_code, lea.city, lea.ine) == (
        "06 12 34 56 78",
        "3 rue des Forges",
        "52800",
        "Nogent",
        "1234567890A",
    )
    assert Learner.objects.get(last_name="Martin").birth_date == datetime.date(2009, 11, 2)
    enrolments = Enrolment.objects.filter(cohort=cohort)
    assert enrolments.count() == 3
    assert set(enrolments.values_list("status", flat=True)) == {EnrolmentStatus.ACTIVE}
    history = EnrolmentStatusChange.objects.filter(enrolment__cohort=cohort)
    assert [(c.status, c.reason) for c in history] == [("active", "")] * 3
    assert Learner.history.count() == 3


def test_a_file_with_bad_rows_is_refused_with_one_message_per_bad_row_and_writes_nothing(
    cohort: Cohort,
) -> None:
    LearnerFactory(email="deja.inscrite@example.test")
    before = counts()
    history_before = Learner.history.count()

    result = import_file(
        csv_bytes(
            HEADER + ";promotion",
            "Dupont;Léa;14/03/2010;lea@example.test;;;;;;",
            ";Hugo;02/11/2009;hugo@example.test;;;;;;",
            "Bernard;Inès;31/02/2010;ines@example.test;;;;;;",
            "Petit;Léo;05/05/2010;LEA@example.test;;;;;;",
            "Durand;Chloé;06/06/2010;deja.inscrite@example.test;;;;;;",
            "Moreau;Lucas;07/07/2010;lucas@example.test;;;;;;CAP inconnu",
        ),
        cohort,
    )

    assert result.error_messages() == [
        "Ligne 3 : nom manquant.",
        "Ligne 4 : date de naissance « 31/02/2010 » invalide (format JJ/MM/AAAA).",
        "Ligne 5 : e-mail « LEA@example.test » déjà présent ligne 2 du fichier.",
        "Ligne 6 : Un apprenant a déjà cette adresse e-mail.",
        "Ligne 7 : promotion « CAP inconnu » inconnue.",
    ]
    assert counts() == before
    assert Learner.history.count() == history_before


def test_the_model_rules_refuse_a_row_in_the_office_words(cohort: Cohort) -> None:
    result = import_file(
        csv_bytes(
            "nom;prenom;date_naissance;email;ine",
            "Dupont;Léa;14/03/2999;pas-une-adresse;12AB",
        ),
        cohort,
    )

    assert result.error_messages() == [
        "Ligne 2 : date de naissance « 14/03/2999 » — La date de naissance est dans le futur.",
        "Ligne 2 : e-mail « pas-une-adresse » — Saisissez une adresse e-mail valide.",
        "Ligne 2 : INE « 12AB » — L'INE comporte 11 caractères : 10 chiffres ou lettres puis une "
        "lettre.",
    ]
    assert counts() == (0, 0, 0)


def test_an_empty_date_and_a_row_without_any_cohort_are_refused() -> None:
    result = import_file(csv_bytes("nom;prenom;date_naissance", "Dupont;Léa;"), cohort=None)

    assert result.error_messages() == [
        "Ligne 2 : date de naissance manquante.",
        "Ligne 2 : promotion manquante : remplissez la colonne « promotion » ou choisissez "
        "une promotion par défaut.",
    ]
    assert counts() == (0, 0, 0)


def test_the_promotion_column_overrides_the_default_cohort(cohort: Cohort) -> None:
    other = CohortFactory(name="Bac pro 2025")

    result = import_file(
        csv_bytes(
            "nom;prenom;date_naissance;promotion",
            "Dupont;Léa;14/03/2010;Bac pro 2025",
            "Martin;Hugo;02/11/2009;",
        ),
        cohort,
    )

    assert result.summary() == (
        "2 apprenants importés dans « Bac pro 2025 » (1), « CAP CIP 2026 » (1)."
    )
    assert Enrolment.objects.get(learner__last_name="Dupont").cohort == other
    assert Enrolment.objects.get(learner__last_name="Martin").cohort == cohort


@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize("bom", [True, False])
def test_semicolon_or_comma_files_with_or_without_bom_are_read(
    cohort: Cohort, delimiter: str, bom: bool
) -> None:
    result = import_file(csv_bytes(HEADER, *GOOD_ROWS, delimiter=delimiter, bom=bom), cohort)

    assert result.error_messages() == []
    assert Learner.objects.count() == 3


def test_headers_typed_by_hand_still_name_the_columns(cohort: Cohort) -> None:
    import_file(
        csv_bytes("Nom;Prénom;Date_Naissance;Code postal", "Dupont;Léa;14/03/2010;52800"), cohort
    )

    assert Learner.objects.get().postal_code == "52800"


def test_blank_lines_do_not_shift_the_line_numbers(cohort: Cohort) -> None:
    result = import_file(
        csv_bytes(
            "nom;prenom;date_naissance", "Dupont;Léa;14/03/2010", "", ";;", "Martin;;02/11/2009"
        ),
        cohort,
    )

    assert result.error_messages() == ["Ligne 5 : prénom manquant."]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Le fichier est vide."),
        (csv_bytes("nom;prenom;date_naissance"), "Le fichier ne contient aucun apprenant."),
        (
            csv_bytes("nom;date_naissance;classe", "Dupont;14/03/2010;2nde"),
            "Colonnes inconnues : classe (colonnes possibles : nom, prenom, date_naissance, email, "
            "telephone, adresse, code_postal, commune, ine, promotion). "
            "Colonnes obligatoires absentes : prenom.",
        ),
        (
            csv_bytes("nom;prenom;date_naissance", "Dupont;Léa;14/03/2010;en trop"),
            "Ligne 2 : 4 valeurs pour 3 colonnes ; vérifiez le séparateur et les guillemets.",
        ),
    ],
)
def test_a_file_that_cannot_be_a_learner_list_is_refused_before_any_row(
    content: bytes, message: str
) -> None:
    with pytest.raises(ImportFileError) as refusal:
        LearnerCSV(encoding="utf-8-sig").create_dataset(content)

    assert str(refusal.value) == message


def test_the_sample_file_of_the_guide_imports(cohort: Cohort) -> None:
    CohortFactory(name="Bac pro TRPM 2026-2029")
    sample = Path(settings.BASE_DIR, "docs", "exemple-import-apprenants.csv").read_bytes()

    result = import_file(sample, cohort)

    assert result.error_messages() == []
    assert result.summary() == (
        "5 apprenants importés dans « Bac pro TRPM 2026-2029 » (2), « CAP CIP 2026 » (3)."
    )


def test_five_hundred_rows_import_in_one_call(cohort: Cohort) -> None:
    rows = [
        f"Nom{n};Prénom{n};{1 + n % 28:02d}/{1 + n % 12:02d}/2009;eleve{n}@example.test;;;;;{n:010d}A"
        for n in range(500)
    ]

    result = import_file(csv_bytes(HEADER, *rows), cohort)

    assert result.error_messages() == []
    assert counts() == (500, 500, 500)
    assert cohort.enrolments.active().count() == 500


def test_a_dry_run_checks_the_file_and_writes_nothing(cohort: Cohort) -> None:
    result = import_file(csv_bytes(HEADER, *GOOD_ROWS), cohort, dry_run=True)

    assert result.error_messages() == []
    assert result.summary(dry_run=True) == "3 apprenants seraient importés dans « CAP CIP 2026 »."
    assert counts() == (0, 0, 0)


# --- manage.py import_learners ----------------------------------------------------------


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "apprenants.csv"
    path.write_bytes(content)
    return path


def test_the_command_imports_the_file_into_the_cohort_given_by_name(
    tmp_path: Path, cohort: Cohort
) -> None:
    out = io.StringIO()

    call_command(
        "import_learners",
        write(tmp_path, csv_bytes(HEADER, *GOOD_ROWS)),
        cohort=cohort.name,
        stdout=out,
    )

    assert out.getvalue() == "3 apprenants importés dans « CAP CIP 2026 ».\n"
    assert counts() == (3, 3, 3)


def test_the_command_accepts_the_cohort_id(tmp_path: Path, cohort: Cohort) -> None:
    call_command(
        "import_learners",
        write(tmp_path, csv_bytes(HEADER, *GOOD_ROWS)),
        cohort=str(cohort.pk),
        stdout=io.StringIO(),
    )

    assert Enrolment.objects.filter(cohort=cohort).count() == 3


def test_the_command_refuses_a_bad_file_with_every_message_on_stderr(
    tmp_path: Path, cohort: Cohort
) -> None:
    path = write(tmp_path, csv_bytes(HEADER, GOOD_ROWS[0], "Martin;;31/02/2010;;;;;;"))
    err = io.StringIO()

    with pytest.raises(CommandError, match="Fichier refusé \\(2 problèmes\\)"):
        call_command("import_learners", path, cohort=cohort.name, stderr=err)

    assert err.getvalue().splitlines() == [
        "Ligne 3 : prénom manquant.",
        "Ligne 3 : date de naissance « 31/02/2010 » invalide (format JJ/MM/AAAA).",
    ]
    assert counts() == (0, 0, 0)


def test_the_command_refuses_an_unknown_default_cohort(tmp_path: Path) -> None:
    path = write(tmp_path, csv_bytes(HEADER, *GOOD_ROWS))

    with pytest.raises(CommandError, match="Promotion « CAP 2099 » introuvable"):
        call_command("import_learners", path, cohort="CAP 2099")

    assert counts() == (0, 0, 0)


def test_the_command_explains_a_file_not_saved_as_utf8(tmp_path: Path, cohort: Cohort) -> None:
    path = write(
        tmp_path, "nom;prenom;date_naissance\r\nDupont;Léa;14/03/2010\r\n".encode("cp1252")
    )

    with pytest.raises(CommandError, match="n'est pas encodé en UTF-8"):
        call_command("import_learners", path, cohort=cohort.name)


def test_the_command_dry_run_writes_nothing(tmp_path: Path, cohort: Cohort) -> None:
    out = io.StringIO()

    call_command(
        "import_learners",
        write(tmp_path, csv_bytes(HEADER, *GOOD_ROWS)),
        cohort=cohort.name,
        dry_run=True,
        stdout=out,
    )

    assert "3 apprenants seraient importés" in out.getvalue()
    assert counts() == (0, 0, 0)


# --- the admin's import page ------------------------------------------------------------

IMPORT_URL = "/admin/school/learner/import/"
CONFIRM_URL = "/admin/school/learner/process_import/"


@pytest.fixture
def staff() -> User:
    return UserFactory.create(role=Role.STAFF)


@pytest.fixture
def staff_client(client: Client, staff: User, settings: Any, tmp_path: Path) -> Client:
    settings.MEDIA_ROOT = tmp_path  # the uploaded file waits there for the confirmation
    client.force_login(staff)
    return client


def upload(staff_client: Client, content: bytes, cohort: Cohort | None) -> Any:
    return staff_client.post(
        IMPORT_URL,
        {
            "import_file": SimpleUploadedFile("apprenants.csv", content, content_type="text/csv"),
            "format": "0",
            "cohort": cohort.pk if cohort else "",
        },
    )


def test_the_admin_refuses_a_bad_file_showing_each_row_message_and_writes_nothing(
    staff_client: Client, cohort: Cohort
) -> None:
    response = upload(
        staff_client, csv_bytes(HEADER, GOOD_ROWS[0], ";Hugo;31/02/2010;;;;;;"), cohort
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "Ligne 3 : nom manquant.",
        "Ligne 3 : date de naissance « 31/02/2010 » invalide (format JJ/MM/AAAA).",
    ]
    assert "confirm_form" not in response.context
    assert counts() == (0, 0, 0)
    assert uploads_kept() == []


def uploads_kept() -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def test_the_admin_previews_then_imports_a_good_file_into_the_chosen_cohort(
    staff_client: Client, staff: User, cohort: Cohort
) -> None:
    preview = upload(staff_client, csv_bytes(HEADER, *GOOD_ROWS), cohort)

    assert preview.status_code == 200
    assert counts() == (0, 0, 0)
    confirm_form = preview.context["confirm_form"]
    confirmed = staff_client.post(CONFIRM_URL, confirm_form.initial, follow=True)

    assert confirmed.redirect_chain[-1][0] == "/admin/school/learner/"
    assert [str(m) for m in confirmed.context["messages"]] == [
        "3 apprenants importés dans « CAP CIP 2026 »."
    ]
    assert counts() == (3, 3, 3)
    assert Enrolment.objects.filter(cohort=cohort).count() == 3
    assert uploads_kept() == []
    changed_by = EnrolmentStatusChange.objects.values_list("changed_by", flat=True)
    assert set(changed_by) == {staff.pk}


def test_the_admin_confirmation_refuses_the_whole_file_if_a_row_went_bad_since_the_preview(
    staff_client: Client, cohort: Cohort
) -> None:
    preview = upload(staff_client, csv_bytes(HEADER, *GOOD_ROWS), cohort)
    LearnerFactory(email="lea.dupont@example.test")

    confirmed = staff_client.post(CONFIRM_URL, preview.context["confirm_form"].initial, follow=True)

    assert confirmed.redirect_chain[-1][0] == IMPORT_URL
    assert [str(m) for m in confirmed.context["messages"]] == [
        "Ligne 2 : Un apprenant a déjà cette adresse e-mail."
    ]
    assert counts() == (1, 0, 0)


def test_the_admin_explains_a_file_it_cannot_read(staff_client: Client, cohort: Cohort) -> None:
    response = upload(staff_client, csv_bytes("nom;prenom"), cohort)

    assert response.context["form"].errors["import_file"] == [
        "Colonnes obligatoires absentes : date_naissance."
    ]
    assert counts() == (0, 0, 0)


def test_an_ine_typed_in_lower_case_is_stored_in_capitals(cohort: Cohort) -> None:
    row = "Petit;Noé;05/05/2010;;;;;;1234567890b"
    result = import_file(csv_bytes(HEADER, row), cohort)
    assert result.error_messages() == []
    assert Learner.objects.get(last_name="Petit").ine == "1234567890B"


def test_previews_nobody_confirmed_are_purged_after_a_day(
    staff_client: Client, cohort: Cohort
) -> None:
    upload(staff_client, csv_bytes(HEADER, *GOOD_ROWS), cohort)
    assert len(uploads_kept()) == 1

    call_command("purge_import_uploads", stdout=io.StringIO())
    assert len(uploads_kept()) == 1  # a fresh preview may still be confirmed

    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=2)):
        out = io.StringIO()
        call_command("purge_import_uploads", stdout=out)
    assert uploads_kept() == []
    assert out.getvalue() == "1 fichier(s) supprimé(s).\n"
