"""The right of access: one learner's export holds all of their data and nobody else's."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from courses.models import Attendance, CompetencyEvidence
from internships.models import Application, Placement
from school.models import IssuedDocument, Learner, User
from school.privacy import learner_export
from tests.clients import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_demo")]


def contents(data: bytes) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files.pop("donnees.json")), files


def test_a_learner_s_export_holds_all_of_their_data_and_nobody_else_s() -> None:
    lea = Learner.objects.get(user__email="eleve@metaltech.test")
    lucas = Learner.objects.get(first_name="Lucas", last_name="Bernard")
    data, files = contents(learner_export(lea))
    assert data["learner"][0]["email"] == lea.email and data["learner"][0]["ine"] == lea.ine
    assert {g["first_name"] for g in data["guardians"]} == set(
        lea.guardians.values_list("first_name", flat=True)
    )
    assert len(data["attendance"]) == Attendance.objects.filter(learner=lea).count() > 0
    assert (
        len(data["competency_evidence"]) == CompetencyEvidence.objects.filter(learner=lea).count()
    )
    assert len(data["applications"]) == Application.objects.filter(learner=lea).count() > 0
    assert len(data["placements"]) == Placement.objects.filter(learner=lea).count() > 0
    documents = IssuedDocument.objects.issued().filter(learner=lea)
    assert {f"documents/{d.number}.pdf" for d in documents} == set(files)
    assert all(content.startswith(b"%PDF-") for content in files.values())
    # Nobody else: no other learner's name, e-mail or document anywhere in the export.
    text = json.dumps(data, ensure_ascii=False)
    for other in Learner.objects.exclude(pk=lea.pk):
        assert f"{other.first_name} {other.last_name}" not in text
        assert not other.email or other.email not in text
    assert not any(
        d.number in name for d in IssuedDocument.objects.exclude(learner=lea) for name in files
    )
    lucas_data, _files = contents(learner_export(lucas))
    assert lucas_data["learner"][0]["id"] == lucas.pk


def test_staff_download_it_from_the_back_office() -> None:
    lea = Learner.objects.get(user__email="eleve@metaltech.test")
    client = Client()
    client.force_login(User.objects.get(email="direction@metaltech.test"))
    response = client.post(
        "/admin/school/learner/",
        {"action": "export_personal_data", "_selected_action": [lea.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    data, _files = contents(response.content)
    assert data["learner_id"] == lea.pk
