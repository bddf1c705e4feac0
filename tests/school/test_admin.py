"""Every model the staff manage has a working back-office page, in French."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.conftest import World

OUR_APPS = {"school", "companies", "courses", "internships"}
OUR_MODELS = [model for model in admin.site._registry if model._meta.app_label in OUR_APPS]


@pytest.fixture
def staff_client(world: World) -> Client:
    client = Client()
    client.force_login(world.staff)
    return client


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
    client = Client()
    client.force_login(world.user(role))
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


def test_enrolling_from_the_cohort_page_records_the_history(
    world: World, staff_client: Client
) -> None:
    from tests.factories import LearnerFactory

    newcomer = LearnerFactory()
    cohort = world.cohort
    url = reverse("admin:school_cohort_change", args=[cohort.pk])
    response = staff_client.post(
        url,
        {
            "programme": cohort.programme_id,
            "name": cohort.name,
            "start_date": "2026-09-01",
            "end_date": "2028-06-30",
            "head_trainer": cohort.head_trainer_id,
            "enrolments-TOTAL_FORMS": "2",
            "enrolments-INITIAL_FORMS": "1",
            "enrolments-MIN_NUM_FORMS": "0",
            "enrolments-MAX_NUM_FORMS": "1000",
            "enrolments-0-id": world.enrolment.pk,
            "enrolments-0-cohort": cohort.pk,
            "enrolments-1-learner": newcomer.pk,
            "enrolments-1-start_date": "2026-09-15",
            "enrolments-1-cohort": cohort.pk,
        },
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
        url,
        {
            "programme": cohort.programme_id,
            "name": cohort.name,
            "start_date": "2026-09-01",
            "end_date": "2028-06-30",
            "head_trainer": cohort.head_trainer_id,
            "enrolments-TOTAL_FORMS": "2",
            "enrolments-INITIAL_FORMS": "1",
            "enrolments-MIN_NUM_FORMS": "0",
            "enrolments-MAX_NUM_FORMS": "1000",
            "enrolments-0-id": world.other_enrolment.pk,
            "enrolments-0-cohort": cohort.pk,
            "enrolments-1-learner": world.learner.pk,
            "enrolments-1-start_date": "2026-09-15",
            "enrolments-1-cohort": cohort.pk,
        },
    )
    assert response.status_code == 200
    assert "déjà en formation dans une autre promotion" in html.unescape(response.content.decode())
    assert world.learner.enrolments.count() == 1


def test_the_back_office_plans_sessions_through_the_one_conflict_check(
    world: World, staff_client: Client
) -> None:
    from courses.models import Course, Room, Session

    course = Course.objects.create(
        programme=world.cohort.programme,
        code="TOUR",
        title="Tournage",
        kind="workshop",
        planned_hours=10,
    )
    room = Room.objects.create(name="Atelier 1", kind="workshop")
    form = {
        "course": course.pk,
        "cohort": world.cohort.pk,
        "trainer": world.trainer.pk,
        "room": room.pk,
        "start_0": "11/01/2027",
        "start_1": "08:00",
        "end_0": "11/01/2027",
        "end_1": "12:00",
        "attendances-TOTAL_FORMS": "0",
        "attendances-INITIAL_FORMS": "0",
        "attendances-MIN_NUM_FORMS": "0",
        "attendances-MAX_NUM_FORMS": "1000",
    }
    add = reverse("admin:courses_session_add")
    created = staff_client.post(add, form)
    assert created.status_code == 302, html.unescape(created.content.decode())[:3000]
    assert Session.objects.count() == 1

    refused = staff_client.post(add, {**form, "start_1": "10:00", "end_1": "11:00"})
    page = html.unescape(refused.content.decode())
    assert "est déjà en « Tournage » le 11/01 de 8 h à 12 h" in page
    assert Session.objects.count() == 1


def test_staff_build_a_weekly_series_in_the_back_office_all_or_nothing(
    world: World, staff_client: Client
) -> None:
    from courses.models import Course, Room, Session

    course = Course.objects.create(
        programme=world.cohort.programme,
        code="TOUR",
        title="Tournage",
        kind="workshop",
        planned_hours=10,
    )
    room = Room.objects.create(name="Atelier 1", kind="workshop")
    form = {
        "course": course.pk,
        "cohort": world.cohort.pk,
        "trainer": world.trainer.pk,
        "room": room.pk,
        "weekday": "0",
        "start_time": "08:00",
        "end_time": "12:00",
        "first_date": "2027-01-04",
        "last_date": "2027-01-25",
    }
    url = reverse("admin:courses_sessionseries_add")
    assert staff_client.get(url).status_code == 200
    built = staff_client.post(url, form, follow=True)
    assert "4 séances créées." in html.unescape(built.content.decode())
    assert Session.objects.count() == 4

    again = staff_client.post(url, form)
    page = html.unescape(again.content.decode())
    assert page.count("est déjà en « Tournage »") == 4
    assert Session.objects.count() == 4
