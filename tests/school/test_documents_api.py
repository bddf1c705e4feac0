"""The register through the API: each role sees and downloads the documents of the
learners in its scope, staff issue, reissue and revoke."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from school.models import DocumentStatus, IssuedDocument, Role
from school.services import document_reissue
from tests.conftest import World
from tests.factories import EnrolmentFactory, GuardianFactory, LearnerFactory, UserFactory
from tests.queries import list_queries
from tests.school.test_documents_register import (
    PARIS,
    PROBE,
    issue,
    register_probe_kind,
    stored_bytes,
)

ROLES = ["staff", "trainer", "partner", "learner", "guardian"]

# role → whether it sees (the world's learner's document, the other learner's document);
# partners come with the placements they host.
SEES: dict[str, tuple[bool, bool]] = {
    "staff": (True, True),
    "trainer": (True, False),
    "partner": (False, False),
    "learner": (True, False),
    "guardian": (True, False),
}


@pytest.fixture(autouse=True)
def _probe_kind(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path) -> None:
    register_probe_kind(monkeypatch, settings, tmp_path)


@pytest.fixture
def issued(world: World) -> tuple[IssuedDocument, IssuedDocument]:
    """The world's learner's document and the other learner's, issued in March 2026."""
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS), tick=False):
        return issue(world.learner, by=world.staff), issue(world.other_learner, by=world.staff)


@pytest.mark.parametrize("role", ROLES)
def test_a_list_shows_the_documents_of_the_learners_in_the_roles_scope(
    world: World, issued: tuple[IssuedDocument, IssuedDocument], api_as: Any, role: str
) -> None:
    response = api_as(world.user(role)).get("/api/v1/documents/")

    assert response.status_code == 200
    expected = {doc.pk for doc, seen in zip(issued, SEES[role], strict=True) if seen}
    assert {row["id"] for row in response.json()["results"]} == expected


@pytest.mark.parametrize("role", ROLES)
def test_a_document_outside_the_scope_answers_404_as_entry_and_as_file(
    world: World, issued: tuple[IssuedDocument, IssuedDocument], api_as: Any, role: str
) -> None:
    client = api_as(world.user(role))
    for document, seen in zip(issued, SEES[role], strict=True):
        entry = client.get(f"/api/v1/documents/{document.pk}/")
        pdf = client.get(f"/api/v1/documents/{document.pk}/pdf/")
        assert entry.status_code == pdf.status_code == (200 if seen else 404), role


@pytest.mark.parametrize("role", ["staff", "trainer", "learner", "guardian"])
def test_the_pdf_is_the_stored_file_under_a_french_name(
    world: World, issued: tuple[IssuedDocument, IssuedDocument], api_as: Any, role: str
) -> None:
    own = issued[0]

    response = api_as(world.user(role)).get(f"/api/v1/documents/{own.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="test-kind-MT-2026-000001.pdf"'
    assert b"".join(response.streaming_content) == stored_bytes(own)


def test_a_client_asking_for_a_pdf_gets_it_and_its_errors_in_json(
    world: World, issued: tuple[IssuedDocument, IssuedDocument], api_as: Any
) -> None:
    client = api_as(world.learner_user)
    own, foreign = issued

    found = client.get(f"/api/v1/documents/{own.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    missing = client.get(f"/api/v1/documents/{foreign.pk}/pdf/", HTTP_ACCEPT="application/pdf")

    assert found.status_code == 200
    assert found["Content-Type"] == "application/pdf"
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"
    assert "detail" in missing.json()


def test_an_entry_reads_as_the_register_holds_it(
    world: World, issued: tuple[IssuedDocument, IssuedDocument], api_as: Any, settings: Any
) -> None:
    own = issued[0]
    settings.SITE_URL = "https://verif.metaltech.test"

    response = api_as(world.guardian_user).get(f"/api/v1/documents/{own.pk}/")

    assert response.json() == {
        "id": own.pk,
        "number": "MT-2026-000001",
        "kind": PROBE,
        "title": "Attestation de test",
        "learner": world.learner.pk,
        "subject": str(world.learner),
        "issued_at": "2026-03-02T09:00:00+01:00",
        "issued_by": world.staff.pk,
        "sha256": own.sha256,
        "status": "valid",
        "superseded_by": None,
        "revoked_at": None,
        "revocation_reason": "",
        "verification_url": f"https://verif.metaltech.test/verify/{own.verification_code}/",
        "pdf_url": f"http://testserver/api/v1/documents/{own.pk}/pdf/",
    }


def test_the_list_filters_by_kind_status_learner_and_year(
    world: World, issued: tuple[IssuedDocument, IssuedDocument], api_as: Any
) -> None:
    own, foreign = issued
    client = api_as(world.staff)
    client.post(f"/api/v1/documents/{foreign.pk}/revoke/", {"reason": "Erreur"})

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/documents/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(f"kind={PROBE}") == {own.pk, foreign.pk}
    assert ids("kind=feuille_emargement") == set()
    assert ids("status=revoked") == {foreign.pk}
    assert ids(f"learner={world.learner.pk}") == {own.pk}
    assert ids("year=2026") == {own.pk, foreign.pk}
    assert ids("year=2025") == set()


def test_a_learner_filter_outside_the_scope_is_refused_like_an_unknown_id(
    world: World, issued: tuple[IssuedDocument, IssuedDocument], api_as: Any
) -> None:
    client = api_as(world.learner_user)

    foreign = client.get(f"/api/v1/documents/?learner={world.other_learner.pk}")
    unknown = client.get("/api/v1/documents/?learner=999999")

    assert foreign.status_code == unknown.status_code == 400


def test_staff_issue_a_document_for_a_subject(world: World, api_as: Any) -> None:
    response = api_as(world.staff).post(
        "/api/v1/documents/", {"kind": PROBE, "subject": world.learner.pk}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    document = IssuedDocument.objects.get(pk=body["id"])
    assert (body["number"], body["learner"], body["issued_by"]) == (
        document.number,
        world.learner.pk,
        world.staff.pk,
    )
    assert body["status"] == "valid"


@pytest.mark.parametrize(
    ("kind", "subject", "parameters", "learner"),
    [
        ("attestation_fin_formation", "enrolment", {}, "learner"),
        (
            "attestation_assiduite",
            "learner",
            {"start": "2026-09-01", "end": "2026-09-30"},
            "learner",
        ),
        ("feuille_emargement", "cohort", {"week": "2026-09-09"}, None),
    ],
)
def test_staff_issue_the_schools_kinds_for_their_own_subjects(
    world: World,
    api_as: Any,
    kind: str,
    subject: str,
    parameters: dict[str, str],
    learner: str | None,
) -> None:
    response = api_as(world.staff).post(
        "/api/v1/documents/", {"kind": kind, "subject": getattr(world, subject).pk, **parameters}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["learner"]) == (
        kind,
        getattr(world, learner).pk if learner else None,
    )


def test_a_kind_gets_exactly_the_parameters_it_takes(world: World, api_as: Any) -> None:
    client = api_as(world.staff)

    missing = client.post(
        "/api/v1/documents/", {"kind": "attestation_assiduite", "subject": world.learner.pk}
    )
    stray = client.post(
        "/api/v1/documents/",
        {"kind": "attestation_fin_formation", "subject": world.enrolment.pk, "week": "2026-09-07"},
    )

    assert missing.status_code == stray.status_code == 400
    assert missing.json()["errors"] == {
        "start": ["Ce type de document demande ce paramètre."],
        "end": ["Ce type de document demande ce paramètre."],
    }
    assert stray.json()["errors"] == {"week": ["Ce type de document ne prend pas ce paramètre."]}
    assert IssuedDocument.objects.count() == 0


def test_an_unknown_kind_is_refused_with_the_kinds_there_are(world: World, api_as: Any) -> None:
    response = api_as(world.staff).post(
        "/api/v1/documents/", {"kind": "diplome", "subject": world.learner.pk}
    )

    assert response.status_code == 400
    message = response.json()["errors"]["kind"][0]
    assert message.startswith("Type de document inconnu : « diplome ». Types possibles : ")
    assert PROBE in message
    assert IssuedDocument.objects.count() == 0


def test_an_unknown_subject_is_refused(world: World, api_as: Any) -> None:
    response = api_as(world.staff).post("/api/v1/documents/", {"kind": PROBE, "subject": 999999})

    assert response.status_code == 400
    assert response.json()["errors"] == {"subject": ["Aucun objet « apprenant » n° 999999."]}


@pytest.mark.parametrize("role", ["trainer", "partner", "learner", "guardian"])
def test_only_staff_issue_reissue_and_revoke(
    world: World, issued: tuple[IssuedDocument, IssuedDocument], api_as: Any, role: str
) -> None:
    client = api_as(world.user(role))
    own_seen, foreign_seen = SEES[role]

    created = client.post("/api/v1/documents/", {"kind": PROBE, "subject": world.learner.pk})
    assert created.status_code == 403
    for document, seen in zip(issued, (own_seen, foreign_seen), strict=True):
        reissued = client.post(
            f"/api/v1/documents/{document.pk}/reissue/", {"subject": world.learner.pk}
        )
        revoked = client.post(f"/api/v1/documents/{document.pk}/revoke/", {"reason": "x"})
        assert reissued.status_code == revoked.status_code == (403 if seen else 404)
    assert set(IssuedDocument.objects.values_list("status", flat=True)) == {DocumentStatus.VALID}


def test_staff_reissue_under_a_new_number_that_supersedes_the_old(
    world: World, issued: tuple[IssuedDocument, IssuedDocument], api_as: Any
) -> None:
    own = issued[0]
    client = api_as(world.staff)

    response = client.post(f"/api/v1/documents/{own.pk}/reissue/", {"subject": world.learner.pk})

    assert response.status_code == 201, response.content
    new = response.json()
    assert new["number"] != own.number
    assert (new["kind"], new["learner"], new["status"]) == (PROBE, world.learner.pk, "valid")
    old = client.get(f"/api/v1/documents/{own.pk}/").json()
    assert (old["status"], old["superseded_by"]) == ("superseded", new["id"])
    again = client.post(f"/api/v1/documents/{own.pk}/reissue/", {"subject": world.learner.pk})
    assert again.status_code == 400


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_revoking_without_a_reason_is_refused_in_french(
    world: World, issued: tuple[IssuedDocument, IssuedDocument], api_as: Any, body: Any
) -> None:
    own = issued[0]

    response = api_as(world.staff).post(f"/api/v1/documents/{own.pk}/revoke/", body)

    assert response.status_code == 400
    assert response.json()["errors"] == {"reason": ["Indiquez le motif de la révocation."]}
    own.refresh_from_db()
    assert own.status == DocumentStatus.VALID


def test_staff_revoke_with_a_reason_and_the_entry_stays(
    world: World, issued: tuple[IssuedDocument, IssuedDocument], api_as: Any
) -> None:
    own = issued[0]
    client = api_as(world.staff)

    response = client.post(f"/api/v1/documents/{own.pk}/revoke/", {"reason": "Délivrée par erreur"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["revocation_reason"]) == ("revoked", "Délivrée par erreur")
    assert body["revoked_at"] is not None
    assert client.get(f"/api/v1/documents/{own.pk}/pdf/").status_code == 200
    twice = client.post(f"/api/v1/documents/{own.pk}/revoke/", {"reason": "Encore"})
    assert twice.status_code == 400
    assert twice.json()["errors"] == {"non_field_errors": ["Ce document est déjà révoqué."]}


def test_anonymous_visitors_get_neither_entries_nor_files(
    issued: tuple[IssuedDocument, IssuedDocument], api_client: Any
) -> None:
    assert api_client.get("/api/v1/documents/").status_code == 401
    assert api_client.get(f"/api/v1/documents/{issued[0].pk}/pdf/").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.STAFF, Role.TRAINER, Role.GUARDIAN])
def test_the_list_costs_the_same_for_one_document_and_for_many(api_as: Any, role: str) -> None:
    user = UserFactory(role=role)
    staff = UserFactory(role=Role.STAFF)

    def one_more() -> None:
        learner = LearnerFactory()
        if role == Role.TRAINER:
            EnrolmentFactory(learner=learner, cohort__head_trainer=user)
        if role == Role.GUARDIAN:
            GuardianFactory(learner=learner, user=user)
        # A superseded entry points at its successor: that link must not cost a query.
        document_reissue(document=issue(learner, by=staff), subject=learner, by=staff)

    client = api_as(user)
    one_more()
    queries_for_one, rows = list_queries(client, "/api/v1/documents/")
    for _ in range(5):
        one_more()
    queries_for_many, more_rows = list_queries(client, "/api/v1/documents/")

    assert (rows, more_rows) == (2, 12)
    assert queries_for_many == queries_for_one
