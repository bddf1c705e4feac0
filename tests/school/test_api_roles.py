"""The role matrix of DESIGN.md on every endpoint: each role × own object × foreign object.

What a role may not see answers 404, for reading and writing alike (a 403 would confirm
it exists); what it sees but may not change answers 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import World

ROLES = ["staff", "trainer", "partner", "learner", "guardian"]

# endpoint → (own object, foreign object) of the world
OBJECTS: dict[str, Callable[[World], tuple[Any, Any]]] = {
    "cohorts": lambda w: (w.cohort, w.other_cohort),
    "learners": lambda w: (w.learner, w.other_learner),
    "guardians": lambda w: (w.guardian, w.other_guardian),
    "enrolments": lambda w: (w.enrolment, w.other_enrolment),
    "companies": lambda w: (w.company, w.other_company),
    "contacts": lambda w: (w.contact, w.other_contact),
}

# endpoint → role → which of (own, foreign) the role sees
SEES: dict[str, dict[str, tuple[bool, bool]]] = {
    "cohorts": {
        "staff": (True, True),
        "trainer": (True, False),
        "partner": (False, False),
        "learner": (True, False),
        "guardian": (True, False),
    },
    "learners": {
        "staff": (True, True),
        "trainer": (True, False),
        "partner": (False, False),
        "learner": (True, False),
        "guardian": (True, False),
    },
    "guardians": {
        "staff": (True, True),
        "trainer": (True, False),
        "partner": (False, False),
        "learner": (True, False),
        "guardian": (True, False),
    },
    "enrolments": {
        "staff": (True, True),
        "trainer": (True, False),
        "partner": (False, False),
        "learner": (True, False),
        "guardian": (True, False),
    },
    "companies": {
        "staff": (True, True),
        "trainer": (True, True),
        "partner": (True, False),
        "learner": (False, False),
        "guardian": (False, False),
    },
    "contacts": {
        "staff": (True, True),
        "trainer": (True, True),
        "partner": (True, False),
        "learner": (False, False),
        "guardian": (False, False),
    },
}

# endpoint → roles allowed to change an object they see
UPDATERS: dict[str, set[str]] = {
    "cohorts": {"staff"},
    "learners": {"staff"},
    "guardians": {"staff"},
    "enrolments": {"staff"},
    "companies": {"staff", "partner"},
    "contacts": {"staff", "partner"},
}

# a harmless change per endpoint
CHANGES: dict[str, Callable[[World], dict[str, Any]]] = {
    "cohorts": lambda w: {"end_date": "2028-07-03"},
    "learners": lambda w: {"phone": "03 25 00 00 00"},
    "guardians": lambda w: {"phone": "03 25 00 00 01"},
    "enrolments": lambda w: {"status": "suspended", "reason": "Raison médicale"},
    "companies": lambda w: {"phone": "03 25 00 00 02"},
    "contacts": lambda w: {"job_title": "Chef d'atelier"},
}

CASES = [(endpoint, role) for endpoint in SEES for role in ROLES]


@pytest.mark.parametrize(("endpoint", "role"), CASES)
def test_a_list_shows_exactly_what_the_role_may_see(
    world: World, api_as: Any, endpoint: str, role: str
) -> None:
    own, foreign = OBJECTS[endpoint](world)
    sees_own, sees_foreign = SEES[endpoint][role]

    response = api_as(world.user(role)).get(f"/api/v1/{endpoint}/")

    assert response.status_code == 200
    expected = {obj.pk for obj, seen in ((own, sees_own), (foreign, sees_foreign)) if seen}
    assert {row["id"] for row in response.json()["results"]} == expected


@pytest.mark.parametrize(("endpoint", "role"), CASES)
def test_a_detail_outside_the_scope_answers_404(
    world: World, api_as: Any, endpoint: str, role: str
) -> None:
    client = api_as(world.user(role))
    for obj, seen in zip(OBJECTS[endpoint](world), SEES[endpoint][role], strict=True):
        response = client.get(f"/api/v1/{endpoint}/{obj.pk}/")
        assert response.status_code == (200 if seen else 404), (obj, response.content)
        if seen:
            assert response.json()["id"] == obj.pk
        else:
            # The same words for every hidden object: no model name, nothing to learn.
            assert response.json() == {"detail": "Non trouvé."}


@pytest.mark.parametrize(("endpoint", "role"), CASES)
def test_a_change_is_allowed_only_to_the_roles_that_own_it(
    world: World, api_as: Any, endpoint: str, role: str
) -> None:
    client = api_as(world.user(role))
    change = CHANGES[endpoint](world)
    for obj, seen in zip(OBJECTS[endpoint](world), SEES[endpoint][role], strict=True):
        response = client.patch(f"/api/v1/{endpoint}/{obj.pk}/", change)
        if not seen:
            assert response.status_code == 404, response.content
        elif role not in UPDATERS[endpoint]:
            assert response.status_code == 403, response.content
        else:
            assert response.status_code == 200, response.content
            body = response.json()
            for field, value in change.items():
                if field != "reason":
                    assert body[field] == value


def test_programmes_are_the_public_catalogue_of_every_signed_in_user(
    world: World, api_as: Any
) -> None:
    programmes = {world.cohort.programme_id, world.other_cohort.programme_id}
    for role in ROLES:
        response = api_as(world.user(role)).get("/api/v1/programmes/")
        assert {row["id"] for row in response.json()["results"]} == programmes


@pytest.mark.parametrize("role", ["trainer", "partner", "learner", "guardian"])
def test_only_staff_create_school_records(world: World, api_as: Any, role: str) -> None:
    client = api_as(world.user(role))
    payloads = {
        "programmes": {"title": "X", "code": "x", "level": "3", "total_hours": 1},
        "learners": {"first_name": "A", "last_name": "B", "birth_date": "2010-01-01"},
        "companies": {"legal_name": "X"},
    }
    for endpoint, payload in payloads.items():
        assert client.post(f"/api/v1/{endpoint}/", payload).status_code == 403


def test_anonymous_visitors_get_nothing(world: World, api_client: Any) -> None:
    for endpoint in [*SEES, "programmes", "me"]:
        assert api_client.get(f"/api/v1/{endpoint}/").status_code == 401
