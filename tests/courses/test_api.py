"""The timetable's API: scopes, planning through the one conflict check, schedules."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from courses import services
from courses.models import Course, Machine, MachineKind, Room, RoomKind, Session
from school.models import Role
from tests.conftest import World
from tests.factories import UserFactory
from tests.queries import list_queries

PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2027, 1, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def plan(world: World) -> dict[str, Any]:
    course = Course.objects.create(
        programme=world.cohort.programme,
        code="TOUR",
        title="Tournage",
        kind="workshop",
        planned_hours=100,
    )
    other_course = Course.objects.create(
        programme=world.other_cohort.programme,
        code="FRAIS",
        title="Fraisage",
        kind="workshop",
        planned_hours=100,
    )
    room = Room.objects.create(name="Atelier 1", kind=RoomKind.WORKSHOP)
    other_room = Room.objects.create(name="Salle 2", kind=RoomKind.CLASSROOM)
    ours = services.session_create(
        course=course,
        cohort=world.cohort,
        trainer=world.trainer,
        room=room,
        start=at(11, 8),
        end=at(11, 12),
    )
    theirs = services.session_create(
        course=other_course,
        cohort=world.other_cohort,
        trainer=world.other_trainer,
        room=other_room,
        start=at(11, 8),
        end=at(11, 12),
    )
    return {"course": course, "room": room, "ours": ours, "theirs": theirs}


SEES = {
    "staff": {"ours", "theirs"},
    "trainer": {"ours", "theirs"},  # every timetable is open to the teaching team
    "learner": {"ours"},
    "guardian": {"ours"},
    "partner": set(),
}


@pytest.mark.parametrize("role", list(SEES))
def test_sessions_are_listed_within_each_roles_scope(
    world: World, plan: dict[str, Any], api_as: Any, role: str
) -> None:
    client = api_as(world.user(role))
    listed = {row["id"] for row in client.get("/api/v1/sessions/").json()["results"]}
    assert listed == {plan[name].pk for name in SEES[role]}
    hidden = {"ours", "theirs"} - SEES[role]
    for name in hidden:
        assert client.get(f"/api/v1/sessions/{plan[name].pk}/").status_code == 404


def test_staff_plan_a_session_and_a_conflict_is_refused_in_french(
    world: World, plan: dict[str, Any], api_as: Any
) -> None:
    client = api_as(world.staff)
    payload = {
        "course": plan["course"].pk,
        "cohort": world.cohort.pk,
        "trainer": world.trainer.pk,
        "room": plan["room"].pk,
        "start": "2027-01-11T10:00:00+01:00",
        "end": "2027-01-11T11:00:00+01:00",
    }
    refused = client.post("/api/v1/sessions/", payload)
    assert refused.status_code == 400
    assert "est déjà en « Tournage » le 11/01 de 8 h à 12 h" in str(refused.json())

    accepted = client.post(
        "/api/v1/sessions/",
        {**payload, "start": "2027-01-11T13:30:00+01:00", "end": "2027-01-11T16:30:00+01:00"},
    )
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["course_title"] == "Tournage"


def test_trainers_cannot_plan_sessions(world: World, plan: dict[str, Any], api_as: Any) -> None:
    response = api_as(world.trainer).post("/api/v1/sessions/", {})
    assert response.status_code == 403


def test_cancelling_bumps_the_sequence(world: World, plan: dict[str, Any], api_as: Any) -> None:
    response = api_as(world.staff).post(f"/api/v1/sessions/{plan['ours'].pk}/cancel/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["sequence"]) == ("cancelled", 1)


def test_a_series_is_created_all_or_nothing_through_the_api(
    world: World, plan: dict[str, Any], api_as: Any
) -> None:
    client = api_as(world.staff)
    payload = {
        "course": plan["course"].pk,
        "cohort": world.cohort.pk,
        "trainer": world.trainer.pk,
        "room": plan["room"].pk,
        "weekday": 0,
        "start_time": "08:00",
        "end_time": "12:00",
        "first_date": "2027-01-04",
        "last_date": "2027-01-25",
    }
    before = Session.objects.count()
    refused = client.post("/api/v1/session-series/", payload)  # 11/01 is taken
    assert refused.status_code == 400
    assert Session.objects.count() == before

    created = client.post(
        "/api/v1/session-series/", {**payload, "start_time": "13:30", "end_time": "16:30"}
    )
    assert created.status_code == 201, created.content
    assert len(created.json()["sessions"]) == 4


def test_the_schedule_window_filters_sessions(
    world: World, plan: dict[str, Any], api_as: Any
) -> None:
    client = api_as(world.staff)
    inside = client.get(
        "/api/v1/sessions/?start=2027-01-11T00:00:00%2B01:00&end=2027-01-12T00:00:00%2B01:00"
    )
    outside = client.get(
        "/api/v1/sessions/?start=2027-01-12T00:00:00%2B01:00&end=2027-01-13T00:00:00%2B01:00"
    )
    assert inside.json()["count"] == 2
    assert outside.json()["count"] == 0
    by_room = client.get(f"/api/v1/sessions/?room={plan['room'].pk}").json()
    assert [row["id"] for row in by_room["results"]] == [plan["ours"].pk]


@pytest.mark.parametrize(
    ("role", "expected"),
    [("trainer", {"ours"}), ("learner", {"ours"}), ("guardian", {"ours"}), ("staff", set())],
)
def test_my_schedule_holds_the_users_own_sessions(
    world: World, plan: dict[str, Any], api_as: Any, role: str, expected: set[str]
) -> None:
    body = api_as(world.user(role)).get("/api/v1/me/schedule/").json()
    assert {row["id"] for row in body["results"]} == {plan[name].pk for name in expected}


def test_machine_authorisations_are_the_staffs_alone(world: World, api_as: Any) -> None:
    for role in ("trainer", "learner", "guardian", "partner"):
        client = api_as(world.user(role))
        assert client.get("/api/v1/medical-fitnesses/").json()["count"] == 0
        assert client.post("/api/v1/derogations/", {}).status_code == 403
    created = api_as(world.staff).post(
        "/api/v1/derogations/",
        {"declared_on": "2026-09-01", "machine_kinds": ["cnc_lathe", "milling_machine"]},
    )
    assert created.status_code == 201, created.content
    assert created.json()["valid_until"] == "2029-08-31"  # the last day it covers
    unknown = api_as(world.staff).post(
        "/api/v1/derogations/", {"declared_on": "2026-09-01", "machine_kinds": ["laser"]}
    )
    assert unknown.status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/sessions/", "/api/v1/me/schedule/"])
def test_schedules_cost_the_same_for_one_session_and_for_many(
    world: World, plan: dict[str, Any], api_as: Any, url: str
) -> None:
    client = api_as(world.learner_user)
    machine = Machine.objects.create(
        name="Tour 1", kind=MachineKind.MANUAL_LATHE, room=plan["room"]
    )
    one, _rows = list_queries(client, url)
    for day in range(12, 27):
        session = services.session_create(
            course=plan["course"],
            cohort=world.cohort,
            trainer=world.trainer,
            room=plan["room"],
            start=at(day, 13),
            end=at(day, 15),
        )
        session.machines.add(machine)
    many, _rows = list_queries(client, url)
    assert one == many


@time_machine.travel(datetime.datetime(2027, 1, 11, 9, tzinfo=PARIS), tick=False)
def test_only_the_trainer_of_the_session_marks_attendance_through_the_api(
    world: World, plan: dict[str, Any], api_as: Any
) -> None:
    mark = {"session": plan["ours"].pk, "learner": world.learner.pk, "status": "late"}
    response = api_as(world.trainer).post("/api/v1/attendance/", mark)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "late"

    # Another trainer of the same cohort, who does not run this session.
    colleague = UserFactory(role=Role.TRAINER)
    world.cohort.trainers.add(colleague)
    refused = api_as(colleague).post("/api/v1/attendance/", {**mark, "status": "absent"})
    assert refused.status_code == 403
    assert "Seuls le formateur de la séance" in refused.json()["detail"]

    assert api_as(world.learner_user).get("/api/v1/attendance/").json()["count"] == 1
    assert api_as(world.partner).get("/api/v1/attendance/").json()["count"] == 0


def test_staff_build_a_competency_framework_through_the_api(world: World, api_as: Any) -> None:
    client = api_as(world.staff)
    block = client.post(
        "/api/v1/competency-blocks/",
        {"programme": world.cohort.programme_id, "code": "B1", "title": "Préparer"},
    )
    assert block.status_code == 201, block.content
    competency = client.post(
        "/api/v1/competencies/",
        {"block": block.json()["id"], "code": "C1.1", "title": "Lire un dessin technique"},
    )
    assert competency.status_code == 201, competency.content
    listed = (
        api_as(world.learner_user)
        .get(f"/api/v1/competencies/?block__programme={world.cohort.programme_id}")
        .json()
    )
    assert [(row["block_code"], row["code"]) for row in listed["results"]] == [("B1", "C1.1")]
    assert api_as(world.trainer).post("/api/v1/competency-blocks/", {}).status_code == 403


def test_trainers_filter_any_cohorts_timetable_and_pupils_do_not_see_group_members(
    world: World, plan: dict[str, Any], api_as: Any
) -> None:
    other = api_as(world.trainer).get(f"/api/v1/sessions/?cohort={world.other_cohort.pk}")
    assert [row["id"] for row in other.json()["results"]] == [plan["theirs"].pk]
    assert "learners" in other.json()["results"][0]
    mine = api_as(world.learner_user).get("/api/v1/sessions/").json()["results"]
    assert "learners" not in mine[0]


def test_a_session_never_changes_cohort(world: World, plan: dict[str, Any], api_as: Any) -> None:
    response = api_as(world.staff).patch(
        f"/api/v1/sessions/{plan['ours'].pk}/", {"cohort": world.other_cohort.pk}
    )
    assert response.status_code == 400
    assert "ne change pas de promotion" in str(response.json())


@time_machine.travel(datetime.datetime(2027, 1, 11, 13, tzinfo=PARIS), tick=False)
def test_hours_come_from_the_roll_call_and_stay_within_scope(
    world: World, plan: dict[str, Any], api_as: Any
) -> None:
    from courses.attendance import attendance_mark

    attendance_mark(session=plan["ours"], learner=world.learner, status="late", by=world.trainer)
    url = f"/api/v1/attendance/hours/?learner={world.learner.pk}"
    body = api_as(world.guardian_user).get(url).json()
    assert body == {
        "scheduled": "4.00",
        "attended": "4.00",
        "justified_absence": "0.00",
        "unjustified_absence": "0.00",
        "unrecorded": "0.00",
    }
    assert api_as(world.partner).get(url).status_code == 404
    other = f"/api/v1/attendance/hours/?learner={world.other_learner.pk}"
    assert api_as(world.learner_user).get(other).status_code == 404
