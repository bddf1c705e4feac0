"""Every model the staff manage has a working back-office page, in French."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.contrib import admin
from django.urls import reverse

from school.models import Cohort, Enrolment, Learner
from tests.clients import Client, signed_in
from tests.conftest import World

OUR_APPS = {"school", "companies", "courses", "internships"}
OUR_MODELS = [model for model in admin.site._registry if model._meta.app_label in OUR_APPS]


@pytest.fixture
def staff_client(world: World) -> Client:
    return signed_in(world.staff)


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_the_list_add_and_change_pages_open(staff_client: Client, model: Any) -> None:
    opts = model._meta
    changelist = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    add = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    assert add.status_code in (200, 403)
    instance = model._default_manager.first()
    if instance is not None:
        change = staff_client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[instance.pk])
        )
        assert change.status_code == 200


def test_the_back_office_speaks_french(staff_client: Client) -> None:
    page = html.unescape(
        staff_client.get(reverse("admin:school_learner_changelist")).content.decode()
    )
    assert "Ajouter apprenant" in page
    index = html.unescape(staff_client.get(reverse("admin:index")).content.decode())
    assert "Back-office de l'école" in index


@pytest.mark.parametrize("role", ["trainer", "partner", "learner", "guardian"])
def test_only_staff_enter_the_back_office(world: World, role: str) -> None:
    client = signed_in(world.user(role))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_changing_a_status_in_the_admin_goes_through_the_service(
    world: World, staff_client: Client
) -> None:
    url = reverse("admin:school_enrolment_change", args=[world.enrolment.pk])
    refused = staff_client.post(
        url,
        {"status": "withdrawn", "effective_on": "2026-12-01", "reason": "", **_inline_management()},
    )
    assert "Indiquez le motif de ce changement de statut." in refused.content.decode()

    staff_client.post(
        url,
        {
            "status": "withdrawn",
            "effective_on": "2026-12-01",
            "reason": "Réorientation",
            **_inline_management(),
        },
    )
    world.enrolment.refresh_from_db()
    assert world.enrolment.status == "withdrawn"
    last = world.enrolment.status_changes.last()
    assert last is not None
    assert (last.reason, last.changed_by) == ("Réorientation", world.staff)


def _cohort_change_enrolling(
    cohort: Cohort, learner: Learner, *, kept: Enrolment
) -> dict[str, Any]:
    """The cohort's change form as the back office posts it: its fields as they are
    (the factory's dates), the ``kept`` enrolment's row unchanged and a new row
    enrolling ``learner`` from 15 September."""
    return {
        "programme": cohort.programme_id,
        "name": cohort.name,
        "start_date": "2026-09-01",
        "end_date": "2028-06-30",
        "head_trainer": cohort.head_trainer_id,
        "enrolments-TOTAL_FORMS": "2",
        "enrolments-INITIAL_FORMS": "1",
        "enrolments-MIN_NUM_FORMS": "0",
        "enrolments-MAX_NUM_FORMS": "1000",
        "enrolments-0-id": kept.pk,
        "enrolments-0-cohort": cohort.pk,
        "enrolments-1-learner": learner.pk,
        "enrolments-1-start_date": "2026-09-15",
        "enrolments-1-cohort": cohort.pk,
    }


def test_enrolling_from_the_cohort_page_records_the_history(
    world: World, staff_client: Client
) -> None:
    from tests.factories import LearnerFactory

    newcomer = LearnerFactory()
    cohort = world.cohort
    url = reverse("admin:school_cohort_change", args=[cohort.pk])
    response = staff_client.post(
        url, _cohort_change_enrolling(cohort, newcomer, kept=world.enrolment)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    enrolment = newcomer.enrolments.get()
    assert enrolment.status_changes.get().changed_by == world.staff


def _inline_management() -> dict[str, str]:
    return {
        "status_changes-TOTAL_FORMS": "0",
        "status_changes-INITIAL_FORMS": "0",
        "status_changes-MIN_NUM_FORMS": "0",
        "status_changes-MAX_NUM_FORMS": "1000",
    }


def test_enrolling_a_learner_already_active_elsewhere_is_refused_on_the_cohort_page(
    world: World, staff_client: Client
) -> None:
    cohort = world.other_cohort
    url = reverse("admin:school_cohort_change", args=[cohort.pk])
    response = staff_client.post(
        url, _cohort_change_enrolling(cohort, world.learner, kept=world.other_enrolment)
    )
    assert response.status_code == 200
    assert "déjà en formation dans une autre promotion" in html.unescape(response.content.decode())
    assert world.learner.enrolments.count() == 1
