"""The audit trail: who changed what and when, kept by django-simple-history on the
records that prove something, and read by staff in the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from school.models import Enrolment
from tests.clients import Client
from tests.conftest import World

pytestmark = pytest.mark.django_db

# Issue 8: attendance, competency evidence, placements and their versions, signatures,
# issued documents, enrolments — and the other records a dispute would turn on.
AUDITED = [
    "courses.Attendance",
    "courses.CompetencyEvidence",
    "internships.Placement",
    "internships.AgreementVersion",
    "internships.Signature",
    "school.IssuedDocument",
    "school.Enrolment",
    "school.Learner",
    "school.Guardian",
    "internships.Application",
    "internships.Absence",
    "internships.TutorEvaluation",
    "courses.WorkshopOrder",
    "courses.TimeLog",
    "courses.Inspection",
]


@pytest.mark.parametrize("label", AUDITED)
def test_each_record_that_proves_something_keeps_its_history(label: str) -> None:
    model = apps.get_model(label)
    assert hasattr(model, "history"), f"{label} has no HistoricalRecords"


@pytest.mark.parametrize(
    "label", [label for label in AUDITED if label not in ("internships.Absence", "courses.TimeLog")]
)
def test_staff_read_each_history_in_the_admin(label: str) -> None:
    # Absences and time logs are edited inline on their placement or order; the others
    # have their own admin page with its « Historique ».
    model = apps.get_model(label)
    assert isinstance(admin.site._registry.get(model), SimpleHistoryAdmin), label


def test_a_change_through_the_api_names_its_author_in_the_admin_history(
    world: World, api_as: Any
) -> None:
    url = f"/api/v1/enrolments/{world.enrolment.pk}/"
    changed = api_as(world.staff).patch(url, {"status": "graduated", "effective_on": "2028-06-30"})
    assert changed.status_code == 200

    latest = Enrolment.history.filter(id=world.enrolment.pk).latest("history_date")
    assert latest.history_user == world.staff
    assert latest.status == "graduated"

    staff = Client()
    staff.force_login(world.staff)
    page = staff.get(f"/admin/school/enrolment/{world.enrolment.pk}/history/")
    assert page.status_code == 200
    assert world.staff.email in page.content.decode() or world.staff.get_full_name() in (
        page.content.decode()
    )

    trainer = Client()
    trainer.force_login(world.trainer)
    assert trainer.get(f"/admin/school/enrolment/{world.enrolment.pk}/history/").status_code == 302
