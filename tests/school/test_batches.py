"""Issuing a document per learner of a cohort in the background (immediate backend:
each item's task runs as it is enqueued)."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from school import batches, documents
from school.batches import batch_create, issue_batch_chunk
from school.models import (
    BatchStatus,
    Cohort,
    DocumentBatch,
    DocumentStatus,
    EnrolmentStatus,
    IssuedDocument,
    Learner,
    User,
)
from school.services import document_revoke
from tests.clients import Client, signed_in
from tests.conftest import World
from tests.factories import CohortFactory, EnrolmentFactory, LearnerFactory, UserFactory
from tests.school.test_documents_register import PARIS

COMPLETION = "attestation_fin_formation"


@pytest.fixture(autouse=True)
def _media_and_clock(settings: Any, tmp_path: Path) -> Any:
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS), tick=False):
        yield


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory(role="staff")


@pytest.fixture
def cohort(db: None) -> Cohort:
    """Three learners in training, and one who left: the batch is for the three."""
    cohort = CohortFactory(name="CAP usinage 2026")
    for name in ("Bernard", "Dubois", "Moreau"):
        EnrolmentFactory(cohort=cohort, learner=LearnerFactory(last_name=name))
    EnrolmentFactory(
        cohort=cohort, learner=LearnerFactory(last_name="Parti"), status=EnrolmentStatus.WITHDRAWN
    )
    return cohort


def batch_of(batch: DocumentBatch) -> DocumentBatch:
    return DocumentBatch.objects.with_progress().get(pk=batch.pk)


def lost_queue() -> override_settings:
    """A queue that keeps its tasks and never runs them, as a killed worker would."""
    return override_settings(
        TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    )


def test_a_batch_issues_one_document_per_learner_in_training_with_consecutive_numbers(
    cohort: Cohort, staff: User
) -> None:
    batch = batch_of(batch_create(kind=COMPLETION, cohort=cohort, by=staff))

    issued = IssuedDocument.objects.filter(batch_item__batch=batch).order_by("sequence")
    assert [doc.learner.last_name for doc in issued] == ["Bernard", "Dubois", "Moreau"]
    assert [doc.number for doc in issued] == [f"MT-2026-{n:06d}" for n in (1, 2, 3)]
    assert {doc.kind for doc in issued} == {COMPLETION}
    assert (batch.status, batch.item_count, batch.done_count, batch.failed_count) == (
        BatchStatus.DONE,
        3,
        3,
        0,
    )


def test_running_the_items_again_issues_nothing_more(cohort: Cohort, staff: User) -> None:
    batch = batch_create(kind=COMPLETION, cohort=cohort, by=staff)

    issue_batch_chunk.enqueue(list(batch.items.values_list("pk", flat=True)))
    call_command("resume_batches", stdout=io.StringIO())

    assert IssuedDocument.objects.count() == 3
    assert sorted(batch.items.values_list("attempts", flat=True)) == [1, 1, 1]


def test_resume_batches_issues_the_items_a_killed_worker_left(cohort: Cohort, staff: User) -> None:
    with lost_queue():
        batch = batch_create(kind=COMPLETION, cohort=cohort, by=staff)
    assert batch_of(batch).status == BatchStatus.PENDING

    out = io.StringIO()
    call_command("resume_batches", stdout=out)

    assert out.getvalue().strip() == "3 document(s) remis en file."
    assert batch_of(batch).done_count == 3


def completion_fails_for_dubois(
    monkeypatch: pytest.MonkeyPatch, failure: str | Callable[[], object]
) -> None:
    """Reading the completion certificate of Dubois fails: with a ValidationError of
    that message, or by calling ``failure``, which raises. The others read as usual."""
    kind = documents.get_kind(COMPLETION)

    def build_context(enrolment: Any, **parameters: Any) -> dict[str, Any]:
        if enrolment.learner.last_name == "Dubois":
            if isinstance(failure, str):
                raise ValidationError(failure)
            failure()
        return kind.build_context(enrolment, **parameters)

    def build_contexts(enrolments: list[Any], **parameters: Any) -> list[dict[str, Any]]:
        return [build_context(enrolment, **parameters) for enrolment in enrolments]

    # The chunk read together fails on Dubois: its learners are read again one by one.
    monkeypatch.setitem(
        documents._kinds,
        COMPLETION,
        dataclasses.replace(kind, build_context=build_context, build_contexts=build_contexts),
    )


def test_a_failing_learner_is_recorded_with_its_reason_and_the_others_are_issued(
    cohort: Cohort, staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    completion_fails_for_dubois(monkeypatch, "Les heures de Dubois sont incomplètes.")

    batch = batch_of(batch_create(kind=COMPLETION, cohort=cohort, by=staff))

    assert (batch.status, batch.done_count, batch.failed_count) == (BatchStatus.DONE, 2, 1)
    failed = batch.items.get(document__isnull=True)
    assert (failed.learner.last_name, failed.error, failed.attempts) == (
        "Dubois",
        "Les heures de Dubois sont incomplètes.",
        1,
    )
    # The failure gave its number back: the two others follow each other.
    assert list(IssuedDocument.objects.order_by("sequence").values_list("sequence", flat=True)) == [
        1,
        2,
    ]


def test_an_unexpected_error_is_recorded_too(
    cohort: Cohort, staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = documents.get_kind(COMPLETION)

    def broken(enrolment: Any, **parameters: Any) -> dict[str, Any]:
        raise RuntimeError("police introuvable")

    monkeypatch.setitem(
        documents._kinds,
        COMPLETION,
        dataclasses.replace(kind, build_context=broken, build_contexts=None),
    )

    batch = batch_of(batch_create(kind=COMPLETION, cohort=cohort, by=staff))

    assert batch.failed_count == 3
    assert set(batch.items.values_list("error", flat=True)) == {
        "Erreur lors de l'émission : police introuvable"
    }


def test_an_attendance_batch_carries_its_period_to_each_document(
    cohort: Cohort, staff: User
) -> None:
    batch = batch_create(
        kind="attestation_assiduite",
        cohort=cohort,
        by=staff,
        start=datetime.date(2026, 9, 1),
        end=datetime.date(2026, 9, 30),
    )

    assert batch.parameters == {"start": "2026-09-01", "end": "2026-09-30"}
    subjects = IssuedDocument.objects.filter(batch_item__batch=batch).values_list(
        "subject", flat=True
    )
    assert len(subjects) == 3
    assert all("du 01/09/2026 au 30/09/2026" in subject for subject in subjects)


def test_a_cohort_sheet_is_not_issued_in_batches(cohort: Cohort, staff: User) -> None:
    with pytest.raises(ValidationError, match="ne s'émettent pas en lot"):
        batch_create(kind="feuille_emargement", cohort=cohort, by=staff, week=datetime.date.today())

    assert not DocumentBatch.objects.exists()


def test_a_cohort_without_learners_in_training_makes_no_batch(staff: User) -> None:
    with pytest.raises(ValidationError, match="Aucun apprenant en formation"):
        batch_create(kind=COMPLETION, cohort=CohortFactory(), by=staff)


def test_the_progress_page_shows_counts_numbers_and_the_zip_link(
    cohort: Cohort, staff: User
) -> None:
    batch = batch_create(kind=COMPLETION, cohort=cohort, by=staff)

    page = signed_in(staff).get(f"/documents/lots/{batch.pk}/").content.decode()

    assert "3 / 3 documents émis" in page
    assert "MT-2026-000003" in page
    assert f'href="/documents/lots/{batch.pk}/zip/"' in page
    assert "hx-trigger" not in page  # done: no more polling


def test_an_unfinished_batch_polls_its_progress_fragment(cohort: Cohort, staff: User) -> None:
    with lost_queue():
        batch = batch_create(kind=COMPLETION, cohort=cohort, by=staff)
    client = signed_in(staff)

    page = client.get(f"/documents/lots/{batch.pk}/").content.decode()
    fragment = client.get(f"/documents/lots/{batch.pk}/", HTTP_HX_REQUEST="true").content.decode()

    assert f'hx-get="/documents/lots/{batch.pk}/" hx-trigger="every 2s"' in page
    assert "Télécharger le ZIP" not in page
    assert fragment.lstrip().startswith('<section id="batch-progress"')
    assert "0 / 3 documents émis" in fragment


def test_the_zip_holds_the_valid_pdfs_under_french_names(cohort: Cohort, staff: User) -> None:
    batch = batch_create(kind=COMPLETION, cohort=cohort, by=staff)

    response = signed_in(staff).get(f"/documents/lots/{batch.pk}/zip/")

    assert response["Content-Type"] == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(bundle.namelist()) == [
        f"attestation-fin-formation-MT-2026-{n:06d}.pdf" for n in (1, 2, 3)
    ]
    assert all(bundle.read(name).startswith(b"%PDF") for name in bundle.namelist())


def test_the_batch_form_creates_a_batch_and_shows_its_progress(cohort: Cohort, staff: User) -> None:
    response = signed_in(staff).post(
        "/documents/lots/nouveau/", {"cohort": cohort.pk, "kind": COMPLETION}
    )

    batch = DocumentBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/documents/lots/{batch.pk}/"
    assert (batch.kind, batch.cohort, batch.created_by) == (COMPLETION, cohort, staff)


def test_the_batch_form_asks_for_the_period_an_attendance_certificate_needs(
    cohort: Cohort, staff: User
) -> None:
    response = signed_in(staff).post(
        "/documents/lots/nouveau/", {"cohort": cohort.pk, "kind": "attestation_assiduite"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "start": ["Ce type de document demande ce paramètre."],
        "end": ["Ce type de document demande ce paramètre."],
    }
    assert not DocumentBatch.objects.exists()


@pytest.mark.parametrize("role", ["trainer", "partner", "learner", "guardian"])
def test_batch_pages_do_not_exist_for_anyone_but_staff(
    world: World, cohort: Cohort, role: str
) -> None:
    batch = batch_create(kind=COMPLETION, cohort=cohort, by=world.staff)
    client = signed_in(world.user(role))

    for url in (
        "/documents/lots/nouveau/",
        f"/documents/lots/{batch.pk}/",
        f"/documents/lots/{batch.pk}/zip/",
    ):
        assert client.get(url).status_code == 404


def test_the_api_creates_a_batch_and_reports_its_progress(
    cohort: Cohort, staff: User, api_as: Any
) -> None:
    api = api_as(staff)

    created = api.post("/api/v1/documents/batches/", {"kind": COMPLETION, "cohort": cohort.pk})

    assert created.status_code == 201
    batch = DocumentBatch.objects.get()
    documents_ids = list(
        IssuedDocument.objects.filter(batch_item__batch=batch)
        .order_by("batch_item__learner__last_name")
        .values_list("pk", flat=True)
    )
    expected = {
        "id": batch.pk,
        "kind": COMPLETION,
        "cohort": cohort.pk,
        "parameters": {},
        "created_at": "2026-03-02T09:00:00+01:00",
        "status": "done",
        "total": 3,
        "done": 3,
        "failed": 0,
        "failures": [],
        "documents": documents_ids,
        "zip_url": f"http://testserver/documents/lots/{batch.pk}/zip/",
    }
    assert created.json() == expected
    assert api.get(f"/api/v1/documents/batches/{batch.pk}/").json() == expected
    assert [row["id"] for row in api.get("/api/v1/documents/batches/").json()["results"]] == [
        batch.pk
    ]


def test_the_api_reports_failures_by_learner(
    cohort: Cohort, staff: User, api_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dubois = Learner.objects.get(last_name="Dubois")

    completion_fails_for_dubois(monkeypatch, "Heures incomplètes.")

    body = (
        api_as(staff)
        .post("/api/v1/documents/batches/", {"kind": COMPLETION, "cohort": cohort.pk})
        .json()
    )

    assert (body["done"], body["failed"]) == (2, 1)
    assert body["failures"] == [{"learner": dubois.pk, "error": "Heures incomplètes."}]


def test_the_api_refuses_a_cohort_sheet_and_a_missing_period(
    cohort: Cohort, staff: User, api_as: Any
) -> None:
    api = api_as(staff)

    sheet = api.post(
        "/api/v1/documents/batches/", {"kind": "feuille_emargement", "cohort": cohort.pk}
    )
    period = api.post(
        "/api/v1/documents/batches/", {"kind": "attestation_assiduite", "cohort": cohort.pk}
    )

    assert sheet.status_code == 400
    assert sheet.json()["errors"]["kind"] == [
        "Les documents « feuille_emargement » ne s'émettent pas en lot. Types possibles : "
        "attestation_assiduite, attestation_fin_formation, attestation_stage, bulletin, livret_competences."
    ]
    assert period.status_code == 400
    assert period.json()["errors"] == {
        "start": ["Ce type de document demande ce paramètre."],
        "end": ["Ce type de document demande ce paramètre."],
    }


@pytest.mark.parametrize("role", ["trainer", "partner", "learner", "guardian"])
def test_the_batch_api_is_for_staff_only(
    world: World, cohort: Cohort, api_as: Any, role: str
) -> None:
    batch = batch_create(kind=COMPLETION, cohort=cohort, by=world.staff)
    api = api_as(world.user(role))

    created = api.post("/api/v1/documents/batches/", {"kind": COMPLETION, "cohort": cohort.pk})

    assert created.status_code == 403
    assert api.get(f"/api/v1/documents/batches/{batch.pk}/").status_code == 404
    assert api.get("/api/v1/documents/batches/").json()["results"] == []
    assert DocumentBatch.objects.count() == 1


def test_the_back_office_launches_a_batch_with_the_same_form(cohort: Cohort, staff: User) -> None:
    client = signed_in(staff)

    response = client.post(
        "/admin/school/documentbatch/add/", {"cohort": cohort.pk, "kind": COMPLETION}
    )

    batch = DocumentBatch.objects.with_progress().get()
    assert response["Location"] == f"/documents/lots/{batch.pk}/"
    assert batch.done_count == 3
    assert "3 / 3" in client.get("/admin/school/documentbatch/").content.decode()


def test_the_batch_list_costs_the_same_for_one_batch_and_for_many(
    cohort: Cohort, staff: User
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(staff)
    batch_create(kind="attestation_fin_formation", cohort=cohort, by=staff)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/documents/batches/").status_code == 200
    for _ in range(4):
        other = CohortFactory(programme=cohort.programme)
        EnrolmentFactory(cohort=other)
        batch_create(kind="attestation_fin_formation", cohort=other, by=staff)
    with CaptureQueriesContext(connection) as many:
        body = client.get("/api/v1/documents/batches/").json()
    assert body["count"] == 5
    assert len(many) == len(one)


def test_the_cohort_admin_action_opens_the_batch_form_on_that_cohort(
    cohort: Cohort, staff: User
) -> None:
    client = signed_in(staff)
    response = client.post(
        "/admin/school/cohort/",
        {"action": "issue_documents", "_selected_action": [cohort.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/documents/lots/nouveau/?cohort={cohort.pk}"
    form = client.get(response["Location"]).content.decode()
    assert f'<option value="{cohort.pk}" selected>' in form


def test_a_class_is_cut_into_tasks_of_the_configured_size(
    cohort: Cohort, staff: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DOCUMENT_BATCH_SIZE = 2
    enqueued: list[list[int]] = []
    monkeypatch.setattr(batches, "issue_batch_chunk", SimpleNamespace(enqueue=enqueued.append))

    batch = batch_create(kind=COMPLETION, cohort=cohort, by=staff)

    assert [len(chunk) for chunk in enqueued] == [2, 1]
    assert sorted(pk for chunk in enqueued for pk in chunk) == sorted(
        batch.items.values_list("pk", flat=True)
    )


def test_numbers_reserved_by_a_killed_worker_are_completed_with_the_same_numbers(
    cohort: Cohort, staff: User
) -> None:
    with lost_queue():
        batch = batch_create(kind=COMPLETION, cohort=cohort, by=staff)
    # The first step of a task, committed; the worker dies before its PDFs are stored.
    batches._reserve(list(batch.items.values_list("pk", flat=True)))
    reserved = IssuedDocument.objects.order_by("sequence")
    assert [(doc.number, doc.status) for doc in reserved] == [
        (f"MT-2026-{n:06d}", DocumentStatus.PENDING) for n in (1, 2, 3)
    ]
    assert batch_of(batch).status == BatchStatus.PENDING
    pending = reserved.first()
    assert pending is not None
    # Not a document yet: not on the verification page, not in the API.
    assert Client().get(f"/verify/{pending.verification_code}/").status_code == 404
    assert not IssuedDocument.objects.visible_to(staff).exists()

    call_command("resume_batches", stdout=io.StringIO())

    issued = IssuedDocument.objects.order_by("sequence")
    assert [(doc.number, doc.status) for doc in issued] == [
        (f"MT-2026-{n:06d}", DocumentStatus.VALID) for n in (1, 2, 3)
    ]
    assert [doc.learner.last_name for doc in issued] == ["Bernard", "Dubois", "Moreau"]
    assert all(doc.sha256 == hashlib.sha256(doc.file.read()).hexdigest() for doc in issued)
    assert batch_of(batch).done_count == 3


def test_a_pdf_that_cannot_be_laid_out_fails_alone_and_keeps_its_number(
    cohort: Cohort, staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    render_many = documents.render_many

    def broken_for_dubois(kind: Any, drafts: Any) -> Any:
        if any(draft.context["learner"].last_name == "Dubois" for draft in drafts):
            raise RuntimeError("police introuvable")
        return render_many(kind, drafts)

    monkeypatch.setattr(documents, "render_many", broken_for_dubois)
    batch = batch_of(batch_create(kind=COMPLETION, cohort=cohort, by=staff))

    assert (batch.status, batch.done_count, batch.failed_count) == (BatchStatus.DONE, 2, 1)
    failed = batch.items.get(learner__last_name="Dubois")
    assert failed.error == "Erreur lors de l'émission : police introuvable"
    assert (failed.document.number, failed.document.status) == (
        "MT-2026-000002",
        DocumentStatus.PENDING,
    )

    # Once the cause is mended, resuming completes it under the number it holds.
    monkeypatch.setattr(documents, "render_many", render_many)
    call_command("resume_batches", stdout=io.StringIO())

    failed.refresh_from_db()
    assert (failed.error, failed.document.status) == ("", DocumentStatus.VALID)
    assert batch_of(batch).done_count == 3
    assert IssuedDocument.objects.count() == 3


def test_resuming_two_unfinished_batches_issues_each_with_its_own_kind(
    cohort: Cohort, staff: User
) -> None:
    other = CohortFactory(name="Bac pro 2026")
    EnrolmentFactory(cohort=other, learner=LearnerFactory(last_name="Zola"))
    with lost_queue():
        completion = batch_create(kind=COMPLETION, cohort=cohort, by=staff)
        attendance = batch_create(
            kind="attestation_assiduite",
            cohort=other,
            by=staff,
            start=datetime.date(2026, 2, 1),
            end=datetime.date(2026, 2, 28),
        )

    call_command("resume_batches", stdout=io.StringIO())

    assert batch_of(completion).done_count == 3
    assert batch_of(attendance).done_count == 1
    assert set(
        IssuedDocument.objects.filter(batch_item__batch=attendance).values_list("kind", flat=True)
    ) == {"attestation_assiduite"}


def test_a_failed_query_for_one_learner_spares_the_others(
    cohort: Cohort, staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a failed query aborts its transaction: each learner's reading has
    a savepoint of its own, so the failure is recorded and the others are issued."""

    def missing_table() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    completion_fails_for_dubois(monkeypatch, missing_table)

    batch = batch_of(batch_create(kind=COMPLETION, cohort=cohort, by=staff))

    assert (batch.done_count, batch.failed_count) == (2, 1)
    assert "no_such_table" in batch.items.get(learner__last_name="Dubois").error


def test_a_label_the_register_refuses_fails_alone_before_any_number(
    cohort: Cohort, staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = documents.get_kind(COMPLETION)

    def describe(enrolment: Any, **parameters: Any) -> documents.Subject:
        label = "x" * 300 if enrolment.learner.last_name == "Dubois" else "Attestation"
        return documents.Subject(enrolment.learner, label)

    monkeypatch.setitem(documents._kinds, COMPLETION, dataclasses.replace(kind, describe=describe))

    batch = batch_of(batch_create(kind=COMPLETION, cohort=cohort, by=staff))

    assert (batch.done_count, batch.failed_count) == (2, 1)
    assert batch.items.get(learner__last_name="Dubois").document is None
    assert list(IssuedDocument.objects.values_list("sequence", flat=True).order_by("sequence")) == [
        1,
        2,
    ]


def test_a_reserved_number_can_be_cancelled_and_stays_in_the_register_with_its_reason(
    cohort: Cohort, staff: User
) -> None:
    with lost_queue():
        batch = batch_create(kind=COMPLETION, cohort=cohort, by=staff)
    batches._reserve(list(batch.items.values_list("pk", flat=True)))
    reserved = IssuedDocument.objects.get(learner__last_name="Dubois")

    document_revoke(document=reserved, reason="Parti avant la fin de la formation", by=staff)
    call_command("resume_batches", stdout=io.StringIO())

    register = IssuedDocument.objects.order_by("sequence")
    assert [(doc.sequence, doc.status) for doc in register] == [
        (1, DocumentStatus.VALID),
        (2, DocumentStatus.VOID),
        (3, DocumentStatus.VALID),
    ]
    reserved.refresh_from_db()
    assert (reserved.revocation_reason, reserved.revoked_by, reserved.file.name) == (
        "Parti avant la fin de la formation",
        staff,
        "",
    )
    settled = batch_of(batch)
    assert (settled.status, settled.done_count, settled.failed_count) == (BatchStatus.DONE, 2, 1)
    assert (
        batch.items.get(learner__last_name="Dubois").error
        == "Numéro annulé avant émission : Parti avant la fin de la formation"
    )
    assert Client().get(f"/verify/{reserved.verification_code}/").status_code == 404
    with pytest.raises(ValidationError, match="déjà annulé"):
        document_revoke(document=reserved, reason="Encore")


def test_the_progress_page_costs_the_same_for_one_learner_and_for_many(
    cohort: Cohort, staff: User
) -> None:
    alone = CohortFactory(programme=cohort.programme)
    EnrolmentFactory(cohort=alone)
    small = batch_create(kind=COMPLETION, cohort=alone, by=staff)
    for _ in range(5):
        EnrolmentFactory(cohort=cohort)
    large = batch_create(kind=COMPLETION, cohort=cohort, by=staff)
    client = signed_in(staff)

    counts = []
    for batch in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/documents/lots/{batch.pk}/").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert batch_of(large).item_count == 8
