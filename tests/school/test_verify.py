"""The public verification page of a document's QR code: no sign-in, the register's
word on the document, a byte-for-byte comparison of a file, and nothing for guessers."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from school.models import IssuedDocument
from school.services import document_reissue, document_revoke
from tests.clients import Client
from tests.factories import LearnerFactory
from tests.school.test_documents_register import PARIS, issue, register_probe_kind, stored_bytes

pytestmark = pytest.mark.django_db

IDENTICAL = "Ce fichier est identique au document enregistré."
DIFFERENT = "Ce fichier n'est pas le document enregistré (empreinte différente)."


@pytest.fixture(autouse=True)
def _probe_kind(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path) -> None:
    register_probe_kind(monkeypatch, settings, tmp_path)


@pytest.fixture
def document() -> IssuedDocument:
    learner = LearnerFactory(first_name="Léa", last_name="Marchand")
    with time_machine.travel(datetime.datetime(2026, 6, 30, 16, 0, tzinfo=PARIS), tick=False):
        return issue(learner)


def page(document: IssuedDocument) -> str:
    return f"/verify/{document.verification_code}/"


def upload(content: bytes) -> dict[str, SimpleUploadedFile]:
    return {"pdf": SimpleUploadedFile("attestation.pdf", content, "application/pdf")}


def test_anyone_reads_what_the_register_says_of_a_valid_document(
    document: IssuedDocument,
) -> None:
    response = Client().get(page(document))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Vérification d'un document" in html
    assert "Attestation de test" in html
    assert "MT-2026-000001" in html
    assert "<dt>Émis le</dt><dd>30/06/2026</dd>" in html
    assert "Valide" in html
    assert document.sha256 in html


def test_the_learner_is_named_by_first_name_and_initial_only(document: IssuedDocument) -> None:
    html = Client().get(page(document)).content.decode()

    assert "<dt>Apprenant</dt><dd>Léa M.</dd>" in html
    assert "Marchand" not in html


def test_a_superseded_document_names_its_replacement(document: IssuedDocument) -> None:
    new = document_reissue(document=document, subject=document.learner)

    html = Client().get(page(document)).content.decode()

    assert f"Remplacé par {new.number}" in html
    assert "Valide" not in html


def test_a_revoked_document_says_when_and_why(document: IssuedDocument) -> None:
    with time_machine.travel(datetime.datetime(2026, 7, 2, 10, 0, tzinfo=PARIS), tick=False):
        document_revoke(document=document, reason="Dates de formation erronées")

    html = Client().get(page(document)).content.decode()

    assert "Révoqué le 02/07/2026 : Dates de formation erronées" in html
    assert "Valide" not in html


def test_the_registered_file_is_recognised_byte_for_byte(document: IssuedDocument) -> None:
    response = Client().post(page(document), upload(stored_bytes(document)))

    assert response.status_code == 200
    html = response.content.decode()
    assert IDENTICAL in html
    assert DIFFERENT not in html


def test_a_file_altered_by_one_byte_is_not_the_registered_one(document: IssuedDocument) -> None:
    altered = bytearray(stored_bytes(document))
    altered[len(altered) // 2] ^= 0x01

    html = Client().post(page(document), upload(bytes(altered))).content.decode()

    assert DIFFERENT in html
    assert IDENTICAL not in html


def test_the_upload_goes_through_the_sites_csrf_protection(document: IssuedDocument) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(page(document))
    token = client.cookies["csrftoken"].value

    refused = client.post(page(document), upload(stored_bytes(document)))
    accepted = client.post(
        page(document), {**upload(stored_bytes(document)), "csrfmiddlewaretoken": token}
    )

    assert refused.status_code == 403
    assert IDENTICAL in accepted.content.decode()


def test_a_file_over_ten_megabytes_is_refused(document: IssuedDocument) -> None:
    html = Client().post(page(document), upload(b"%PDF-" + b"0" * (10 * 1024 * 1024))).content
    text = html.decode()

    assert "Le fichier dépasse la taille maximale de 10 Mo." in text
    assert IDENTICAL not in text
    assert DIFFERENT not in text


def test_the_page_is_kept_from_search_engines_and_referers(document: IssuedDocument) -> None:
    response = Client().get(page(document))

    assert "noindex" in response["X-Robots-Tag"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize(
    "code",
    [
        "x" * 32,
        "pas-un-code",
        "a" * 5000,
        "%00",
        "%C3%A9t%C3%A9",
    ],
)
def test_an_unknown_code_is_an_ordinary_404(document: IssuedDocument, code: str) -> None:
    client = Client()
    unknown = client.get(f"/verify/{code}/")
    nearly = client.get(f"/verify/{document.verification_code[:-1]}/")
    elsewhere = client.get("/pas-de-page-ici/")

    assert unknown.status_code == nearly.status_code == elsewhere.status_code == 404
    assert unknown.content == nearly.content == elsewhere.content
    assert "X-Robots-Tag" not in unknown


def test_an_unknown_code_answers_404_to_an_upload_too(document: IssuedDocument) -> None:
    response = Client().post("/verify/inconnu/", upload(stored_bytes(document)))

    assert response.status_code == 404
