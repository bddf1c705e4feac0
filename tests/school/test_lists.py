"""Search lists keep their filters in the URL (shareable, kept by every page link),
show only what the user may see, and cost the same for one row and for many."""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.clients import signed_in
from tests.conftest import World
from tests.factories import (
    CompanyFactory,
    ContactFactory,
    EnrolmentFactory,
    LearnerFactory,
)

pytestmark = pytest.mark.django_db


def test_learners_are_searched_and_the_filters_stay_in_the_page_links(world: World) -> None:
    for n in range(30):
        EnrolmentFactory(cohort=world.cohort, learner=LearnerFactory(last_name=f"Martin{n:02d}"))
    EnrolmentFactory(cohort=world.cohort, learner=LearnerFactory(last_name="Durand-Perrin"))
    page = html.unescape(
        signed_in(world.staff)
        .get("/apprenants/", {"q": "martin", "promotion": world.cohort.pk})
        .content.decode()
    )
    assert "31 apprenants" in page  # the 30 and world.learner (Martin)
    assert "DURAND-PERRIN" not in page
    assert f"?q=martin&promotion={world.cohort.pk}&page=2" in page


def test_a_trainer_lists_only_the_learners_they_teach_and_partners_none(world: World) -> None:
    page = signed_in(world.trainer).get("/apprenants/").content.decode()
    assert world.learner.last_name.upper() in page
    assert world.other_learner.last_name.upper() not in page
    assert signed_in(world.partner).get("/apprenants/").status_code == 404
    assert signed_in(world.learner_user).get("/apprenants/").status_code == 404


def test_companies_are_searched_by_name_city_or_siret(world: World) -> None:
    CompanyFactory(legal_name="Fonderie du Bassigny", city="Chaumont")
    page = signed_in(world.staff).get("/entreprises/", {"q": "bassigny"}).content.decode()
    assert "Fonderie du Bassigny" in page and "Forges de Nogent" not in page
    # A partner searches their own company only.
    assert (
        "Bassigny"
        not in signed_in(world.partner).get("/entreprises/", {"q": "bassigny"}).content.decode()
    )


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/apprenants/", lambda world: EnrolmentFactory(cohort=world.cohort)),
        ("/entreprises/", lambda world: ContactFactory(company=CompanyFactory())),
    ],
)
def test_a_list_page_costs_the_same_for_one_row_and_for_many(world: World, url, make) -> None:
    client = signed_in(world.staff)
    make(world)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _ in range(8):
        make(world)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(one)
