"""The register of issued documents: numbers follow each other without gap, year by year,
even when several workers issue at once; a stored PDF is never regenerated; the back
office reads it and revokes with a reason."""

from __future__ import annotations

import datetime
import hashlib
import html
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.template import TemplateDoesNotExist

from school import documents
from school.documents import DocumentKind, Subject
from school.models import DocumentCounter, DocumentStatus, IssuedDocument, Learner, Role, User
from school.services import document_issue, document_reissue, document_revoke
from tests.clients import Client, signed_in
from tests.factories import LearnerFactory, UserFactory

PARIS = ZoneInfo("Europe/Paris")
PROBE = "test_kind"


def register_probe_kind(monkeypatch: pytest.MonkeyPatch, settings: Any, media: Path) -> None:
    """A kind of the tests' own, about a learner, rendered with the engine's bare layout:
    the register is tested without waiting for the kinds of the apps built on the school.
    Issued files go under ``media``, never into the checkout."""
    settings.MEDIA_ROOT = media
    # register_kind has no way back; setitem undoes itself after the test.
    monkeypatch.setitem(
        documents._kinds,
        PROBE,
        DocumentKind(
            code=PROBE,
            title="Attestation de test",
            template="documents/base.html",
            build_context=lambda learner, **parameters: {"learner": learner},
            describe=lambda learner, **parameters: Subject(learner=learner, label=str(learner)),
            subject_model=Learner,
        ),
    )


def issue(learner: Learner, by: User | None = None) -> IssuedDocument:
    return document_issue(kind=PROBE, subject=learner, by=by)


@pytest.fixture(autouse=True)
def _probe_kind(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path) -> None:
    register_probe_kind(monkeypatch, settings, tmp_path)


def stored_bytes(document: IssuedDocument) -> bytes:
    with document.file.open("rb") as stored:
        return stored.read()


@pytest.mark.django_db
def test_numbers_follow_each_other_from_one_within_the_year() -> None:
    learner = LearnerFactory()

    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS), tick=False):
        numbers = [issue(learner).number for _ in range(3)]

    assert numbers == ["MT-2026-000001", "MT-2026-000002", "MT-2026-000003"]
    assert list(IssuedDocument.objects.values_list("sequence", flat=True)) == [3, 2, 1]


@pytest.mark.django_db
def test_a_new_year_starts_again_at_one_by_the_school_clock() -> None:
    learner = LearnerFactory()
    with time_machine.travel(datetime.datetime(2026, 12, 31, 23, 30, tzinfo=PARIS), tick=False):
        last_of_2026 = issue(learner)
    # Still 2026 in UTC, already 2027 in Nogent: the school's year decides.
    with time_machine.travel(datetime.datetime(2027, 1, 1, 0, 30, tzinfo=PARIS), tick=False):
        first_of_2027 = issue(learner)
        second_of_2027 = issue(learner)

    assert last_of_2026.number == "MT-2026-000001"
    assert [first_of_2027.number, second_of_2027.number] == ["MT-2027-000001", "MT-2027-000002"]
    assert dict(DocumentCounter.objects.values_list("year", "last")) == {2026: 1, 2027: 2}


@pytest.mark.django_db
def test_an_entry_records_its_subject_issuer_and_the_fingerprint_of_the_stored_file(
    tmp_path: Path,
) -> None:
    learner = LearnerFactory(first_name="Léa", last_name="Marchand")
    office = UserFactory()

    document = issue(learner, by=office)

    assert (document.kind, document.title) == (PROBE, "Attestation de test")
    assert (document.learner, document.subject, document.issued_by) == (
        learner,
        "Léa Marchand",
        office,
    )
    assert document.status == DocumentStatus.VALID
    pdf = stored_bytes(document)
    assert pdf.startswith(b"%PDF-")
    assert hashlib.sha256(pdf).hexdigest() == document.sha256
    assert (tmp_path / "documents" / str(document.year) / f"{document.number}.pdf").exists()
    assert len(document.verification_code) >= 32


@pytest.mark.django_db
def test_a_failed_rendering_gives_back_its_number(monkeypatch: pytest.MonkeyPatch) -> None:
    learner = LearnerFactory()
    broken = DocumentKind(
        code="broken",
        title="Gabarit absent",
        template="documents/missing.html",
        build_context=lambda learner, **parameters: {},
        describe=lambda learner, **parameters: Subject(learner=learner, label="Gabarit absent"),
        subject_model=Learner,
    )
    monkeypatch.setitem(documents._kinds, "broken", broken)

    with pytest.raises(TemplateDoesNotExist):
        document_issue(kind="broken", subject=learner)

    assert issue(learner).sequence == 1
    assert IssuedDocument.objects.count() == 1


@pytest.mark.django_db
def test_reissuing_gives_a_new_number_and_supersedes_the_old_entry_untouched() -> None:
    learner = LearnerFactory()
    old = issue(learner)
    old_pdf, old_sha = stored_bytes(old), old.sha256

    new = document_reissue(document=old, subject=learner)

    old.refresh_from_db()
    assert new.number == f"MT-{old.year}-000002"
    assert (new.kind, new.learner, new.status) == (old.kind, learner, DocumentStatus.VALID)
    assert (old.status, old.superseded_by) == (DocumentStatus.SUPERSEDED, new)
    assert stored_bytes(old) == old_pdf
    assert old.sha256 == old_sha
    assert new.file.name != old.file.name


@pytest.mark.django_db
@pytest.mark.parametrize("status", [DocumentStatus.SUPERSEDED, DocumentStatus.REVOKED])
def test_only_a_valid_document_is_reissued(status: str) -> None:
    learner = LearnerFactory()
    document = issue(learner)
    if status == DocumentStatus.SUPERSEDED:
        document_reissue(document=document, subject=learner)
    else:
        document_revoke(document=document, reason="Erreur de dates")

    with pytest.raises(ValidationError, match="Seul un document valide peut être réémis"):
        document_reissue(document=document, subject=learner)
    assert IssuedDocument.objects.count() == (2 if status == DocumentStatus.SUPERSEDED else 1)


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   "])
def test_revoking_needs_a_reason(reason: str) -> None:
    document = issue(LearnerFactory())

    with pytest.raises(ValidationError, match="Indiquez le motif de la révocation"):
        document_revoke(document=document, reason=reason)

    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID


@pytest.mark.django_db
def test_a_revoked_document_stays_in_the_register_with_its_reason_and_file() -> None:
    document = issue(LearnerFactory())
    pdf = stored_bytes(document)
    office = UserFactory()

    document_revoke(document=document, reason="  Délivrée au mauvais apprenant ", by=office)

    document.refresh_from_db()
    assert (document.status, document.revocation_reason, document.revoked_by) == (
        DocumentStatus.REVOKED,
        "Délivrée au mauvais apprenant",
        office,
    )
    assert document.revoked_at is not None
    assert stored_bytes(document) == pdf
    with pytest.raises(ValidationError, match="déjà révoqué"):
        document_revoke(document=document, reason="Encore")


CHANGELIST = "/admin/school/issueddocument/"


@pytest.mark.django_db
def test_the_back_office_lists_the_register_read_only_with_its_pdf() -> None:
    office = UserFactory(role=Role.STAFF)
    document = issue(LearnerFactory(last_name="Marchand"))
    client = signed_in(office)

    found = client.get(CHANGELIST, {"q": "Marchand", "status": "valid", "year": document.year})
    page = html.unescape(found.content.decode())
    change = client.get(f"{CHANGELIST}{document.pk}/change/")

    assert found.status_code == 200
    assert document.number in page
    assert f'href="/api/v1/documents/{document.pk}/pdf/"' in page
    assert "Révoquer les documents choisis" in page
    assert change.status_code == 200
    assert f"/verify/{document.verification_code}/" in change.content.decode()
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.get(f"{CHANGELIST}{document.pk}/delete/").status_code == 403
    assert client.post(f"{CHANGELIST}{document.pk}/change/", {}).status_code == 403


def _revoke_in_admin(client: Client, chosen: list[IssuedDocument], reason: str) -> str:
    response = client.post(
        CHANGELIST,
        {
            "action": "revoke",
            "reason": reason,
            "_selected_action": [document.pk for document in chosen],
            "index": 0,
        },
        follow=True,
    )
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.mark.django_db
def test_the_back_office_revokes_the_chosen_documents_with_the_reason_given() -> None:
    office = UserFactory(role=Role.STAFF)
    chosen = [issue(LearnerFactory()), issue(LearnerFactory())]
    kept = issue(LearnerFactory())

    page = _revoke_in_admin(signed_in(office), chosen, "Promotion close par erreur")

    assert "2 documents révoqués." in page
    for document in chosen:
        document.refresh_from_db()
        assert (document.status, document.revocation_reason, document.revoked_by) == (
            DocumentStatus.REVOKED,
            "Promotion close par erreur",
            office,
        )
    kept.refresh_from_db()
    assert kept.status == DocumentStatus.VALID


@pytest.mark.django_db
def test_the_back_office_revokes_nothing_without_a_reason() -> None:
    document = issue(LearnerFactory())

    page = _revoke_in_admin(signed_in(UserFactory(role=Role.STAFF)), [document], "")

    assert f"{document.number} : Indiquez le motif de la révocation." in page
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_eight_workers_issuing_at_once_get_eight_consecutive_numbers(attempt: int) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite serialises every write, so there is no race)")
    learners = [LearnerFactory() for _ in range(8)]
    start = threading.Barrier(len(learners))
    failures: list[Exception] = []

    def work(learner: Learner) -> None:
        start.wait()
        try:
            issue(learner)
        except Exception as error:  # reported by the assertion below, with its thread's cause
            failures.append(error)
        finally:
            connection.close()

    with time_machine.travel(datetime.datetime(2026, 5, 4, 10, 0, tzinfo=PARIS)):
        threads = [threading.Thread(target=work, args=(learner,)) for learner in learners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert failures == []
    numbers = sorted(IssuedDocument.objects.values_list("number", flat=True))
    assert numbers == [f"MT-2026-{sequence:06d}" for sequence in range(1, 9)]
    assert set(IssuedDocument.objects.values_list("learner", flat=True)) == {
        learner.pk for learner in learners
    }
    assert DocumentCounter.objects.get(year=2026).last == 8


@pytest.mark.django_db
def test_a_reissue_never_hands_a_document_to_another_learner() -> None:
    from django.core.exceptions import ValidationError

    from school.services import document_reissue

    first = issue(LearnerFactory())
    with pytest.raises(ValidationError, match="porte sur le même objet"):
        document_reissue(document=first, subject=LearnerFactory())
    first.refresh_from_db()
    assert first.status == "valid"
