"""The back office plans sessions and series through the one conflict check."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.urls import reverse

from courses.models import Session
from tests.clients import Client
from tests.conftest import World
from tests.factories import CourseFactory, RoomFactory


@pytest.fixture
def staff_client(world: World) -> Client:
    client = Client()
    client.force_login(world.staff)
    return client


@pytest.fixture
def plan(world: World) -> dict[str, Any]:
    """What every form here names: a course of the cohort, its trainer, a workshop."""
    course = CourseFactory(programme=world.cohort.programme, title="Tournage")
    return {
        "course": course.pk,
        "cohort": world.cohort.pk,
        "trainer": world.trainer.pk,
        "room": RoomFactory(name="Atelier 1").pk,
    }


def test_the_back_office_plans_sessions_through_the_one_conflict_check(
    staff_client: Client, plan: dict[str, Any]
) -> None:
    form = {
        **plan,
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
    staff_client: Client, plan: dict[str, Any]
) -> None:
    form = {
        **plan,
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


def test_the_series_builder_searches_the_group_instead_of_listing_every_learner(
    staff_client: Client, world: World
) -> None:
    from tests.factories import LearnerFactory

    LearnerFactory(last_name="Zeller")
    url = reverse("admin:courses_sessionseries_add")

    page = staff_client.get(url).content.decode()

    assert "Zeller" not in page  # no option per learner of the network
    assert "admin-autocomplete" in page and "autocomplete.js" in page
    found = staff_client.get(
        reverse("admin:autocomplete"),
        {"term": "Zel", "app_label": "courses", "model_name": "session", "field_name": "learners"},
    ).json()
    assert len(found["results"]) == 1 and "Zeller" in found["results"][0]["text"]
