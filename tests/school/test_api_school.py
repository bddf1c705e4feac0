from __future__ import annotations

import datetime
from typing import Any

import time_machine

from school.models import Enrolment
from tests.conftest import World
from tests.factories import LearnerFactory


def test_staff_enrol_a_learner_and_the_history_starts(world: World, api_as: Any) -> None:
    learner = LearnerFactory()
    response = api_as(world.staff).post(
        "/api/v1/enrolments/",
        {"learner": learner.pk, "cohort": world.cohort.pk, "start_date": "2026-09-01"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "active"
    assert [step["status"] for step in body["status_changes"]] == ["active"]
    assert body["status_changes"][0]["changed_by"] == str(world.staff)


def test_enrolling_an_already_active_learner_elsewhere_is_refused(
    world: World, api_as: Any
) -> None:
    response = api_as(world.staff).post(
        "/api/v1/enrolments/",
        {"learner": world.learner.pk, "cohort": world.other_cohort.pk, "start_date": "2026-09-01"},
    )
    assert response.status_code == 400
    assert "déjà en formation dans une autre promotion" in str(response.json())


def test_a_status_change_through_the_api_needs_a_valid_transition(
    world: World, api_as: Any
) -> None:
    client = api_as(world.staff)
    url = f"/api/v1/enrolments/{world.enrolment.pk}/"
    graduated = client.patch(url, {"status": "graduated", "effective_on": "2028-06-30"})
    assert graduated.status_code == 200
    assert graduated.json()["end_date"] == "2028-06-30"

    back = client.patch(url, {"status": "active"})
    assert back.status_code == 400
    assert back.json()["errors"] == {
        "status": ["Une inscription « Parcours achevé » ne peut pas passer à « En formation »."]
    }
    assert Enrolment.objects.get(pk=world.enrolment.pk).status == "graduated"


def test_a_third_guardian_is_refused_in_french(world: World, api_as: Any) -> None:
    client = api_as(world.staff)
    second = {"learner": world.learner.pk, "rank": 2, "first_name": "Paul", "last_name": "M"}
    assert client.post("/api/v1/guardians/", second).status_code == 201
    third = client.post("/api/v1/guardians/", {**second, "first_name": "Zoé"})
    assert third.status_code == 400
    assert "deux au plus" in str(third.json())


def test_learners_are_filtered_by_cohort(world: World, api_as: Any) -> None:
    body = api_as(world.staff).get(f"/api/v1/learners/?cohort={world.other_cohort.pk}").json()
    assert [row["id"] for row in body["results"]] == [world.other_learner.pk]


@time_machine.travel(datetime.date(2026, 11, 28))
def test_a_learner_reads_their_own_profile_with_the_minor_flag(world: World, api_as: Any) -> None:
    body = api_as(world.learner_user).get(f"/api/v1/learners/{world.learner.pk}/").json()
    assert body["is_minor"] is True
    assert body["user"] == world.learner_user.pk


def test_a_cohort_shows_its_active_learners_and_team(world: World, api_as: Any) -> None:
    world.cohort.trainers.add(world.other_trainer)
    body = api_as(world.trainer).get(f"/api/v1/cohorts/{world.cohort.pk}/").json()
    assert body["active_learners"] == 1
    assert body["trainers"] == [world.other_trainer.pk]
    assert body["school_years"] == "2026-2028"


def test_the_api_root_lists_every_resource(world: World, api_as: Any) -> None:
    body = api_as(world.trainer).get("/api/v1/").json()
    assert set(body) >= {
        "programmes",
        "cohorts",
        "learners",
        "guardians",
        "enrolments",
        "companies",
        "contacts",
        "competencies",
        "courses",
        "rooms",
        "machines",
        "sessions",
        "attendance",
    }
    assert body["cohorts"].endswith("/api/v1/cohorts/")


def test_filtering_cohorts_by_trainer_does_not_reveal_who_is_a_trainer(
    world: World, api_as: Any
) -> None:
    client = api_as(world.learner_user)
    trainer = client.get(f"/api/v1/cohorts/?head_trainer={world.other_trainer.pk}")
    somebody = client.get(f"/api/v1/cohorts/?head_trainer={world.staff.pk}")
    assert trainer.status_code == somebody.status_code == 200
    assert trainer.json()["count"] == somebody.json()["count"] == 0
    own = client.get(f"/api/v1/cohorts/?head_trainer={world.trainer.pk}").json()
    assert [row["id"] for row in own["results"]] == [world.cohort.pk]


def test_a_cohort_created_through_the_api_answers_as_the_list_shows_it(
    world: World, api_as: Any
) -> None:
    answer = api_as(world.staff).post(
        "/api/v1/cohorts/",
        {
            "programme": world.cohort.programme.pk,
            "name": "CAP 2027",
            "start_date": "2027-09-01",
            "end_date": "2029-06-30",
        },
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    listed = api_as(world.staff).get(f"/api/v1/cohorts/{answer.json()['id']}/").json()
    assert answer.json() == listed
    assert listed["active_learners"] == 0


def test_a_cohort_number_beyond_the_database_s_integers_answers_400_not_500(
    world: World, api_as: Any
) -> None:
    # Found by Schemathesis's linked calls: SQLite raised OverflowError on the query.
    client = api_as(world.staff)
    for number in (-91515778998642285740032, 2**63):
        response = client.get("/api/v1/learners/", {"cohort": number})
        assert response.status_code == 400, response.content
        assert "cohort" in response.json()["errors"]
    assert client.get("/api/v1/learners/", {"cohort": 2**63 - 1}).json()["count"] == 0
