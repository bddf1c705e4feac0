from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from school.models import Role
from tests.clients import signed_in
from tests.conftest import World
from tests.factories import CohortFactory, CompanyFactory, ContactFactory, EnrolmentFactory
from tests.queries import page_queries


@pytest.mark.parametrize("role", ["staff", "trainer", "partner", "learner", "guardian"])
def test_every_role_has_a_french_home_page(world: World, role: str) -> None:
    response = signed_in(world.user(role)).get("/")
    assert response.status_code == 200
    assert "Bonjour" in response.content.decode()


def test_a_partners_home_shows_their_company(world: World) -> None:
    page = signed_in(world.partner).get("/").content.decode()
    assert "Forges de Nogent" in page
    assert "Fonderie de Langres" not in page


def test_a_guardian_sees_their_childs_cohort(world: World) -> None:
    page = signed_in(world.guardian_user).get("/").content.decode()
    assert "CAP 2026" in page
    assert "Bac pro 2026" not in page


def test_a_trainer_sees_only_the_cohorts_they_teach(world: World) -> None:
    page = signed_in(world.trainer).get("/promotions/").content.decode()
    assert "CAP 2026" in page
    assert "Bac pro 2026" not in page


@pytest.mark.parametrize(
    ("role", "url_of"),
    [
        ("trainer", lambda w: f"/promotions/{w.other_cohort.pk}/"),
        ("learner", lambda w: f"/apprenants/{w.other_learner.pk}/"),
        ("guardian", lambda w: f"/apprenants/{w.other_learner.pk}/"),
        ("partner", lambda w: f"/entreprises/{w.other_company.pk}/"),
        ("learner", lambda w: f"/entreprises/{w.company.pk}/"),
    ],
)
def test_a_page_outside_the_scope_answers_404(world: World, role: str, url_of: Any) -> None:
    assert signed_in(world.user(role)).get(url_of(world)).status_code == 404


def test_a_learner_page_escapes_what_was_typed(world: World) -> None:
    world.learner.first_name = "<script>alert(1)</script>"
    world.learner.save()
    page = signed_in(world.staff).get(f"/apprenants/{world.learner.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


LIST_PAGES = {
    "/": lambda w: EnrolmentFactory(cohort=CohortFactory(head_trainer=w.staff)),
    "/promotions/": lambda w: EnrolmentFactory(cohort=CohortFactory()),
    "/entreprises/": lambda w: ContactFactory(company=CompanyFactory()),
}


@pytest.mark.parametrize("url", LIST_PAGES)
def test_a_list_page_costs_the_same_for_one_row_and_for_many(world: World, url: str) -> None:
    one = page_queries(world.staff, url)
    for _ in range(12):
        LIST_PAGES[url](world)
    assert page_queries(world.staff, url) == one


def test_a_cohort_page_costs_the_same_for_one_learner_and_for_many(world: World) -> None:
    url = f"/promotions/{world.cohort.pk}/"
    one = page_queries(world.trainer, url)
    for _ in range(12):
        EnrolmentFactory(cohort=world.cohort)
    assert page_queries(world.trainer, url) == one


def test_the_partner_home_costs_the_same_for_one_contact_and_for_many(world: World) -> None:
    one = page_queries(world.partner, "/")
    for _ in range(5):
        ContactFactory(company=world.company)
    assert page_queries(world.partner, "/") == one
    assert world.partner.role == Role.PARTNER


def test_a_learner_page_shows_only_what_the_viewer_may_see(world: World) -> None:
    from tests.factories import EnrolmentFactory, GuardianFactory

    old_cohort = CohortFactory(name="Cohorte d'un autre formateur")
    EnrolmentFactory(learner=world.learner, cohort=old_cohort, status="withdrawn")
    GuardianFactory(learner=world.learner, rank=2, first_name="Coparent")

    for_trainer = signed_in(world.trainer).get(f"/apprenants/{world.learner.pk}/").content.decode()
    assert "CAP 2026" in for_trainer
    assert "autre formateur" not in for_trainer
    assert "Coparent" in for_trainer

    for_parent = (
        signed_in(world.guardian_user).get(f"/apprenants/{world.learner.pk}/").content.decode()
    )
    assert "Coparent" not in for_parent
    assert world.guardian.first_name in for_parent


@pytest.mark.parametrize("role", ["staff", "trainer", "partner", "learner", "guardian"])
def test_each_home_page_costs_the_same_for_a_small_and_a_busier_school(
    world: World, role: str
) -> None:
    """Today's sessions, orders, placements, documents: more rows, not more queries."""
    import datetime

    from django.core.cache import cache
    from django.utils import timezone

    from tests.factories import PlacementFactory, SessionFactory

    def busier() -> None:
        start = timezone.now().replace(hour=7, minute=0, second=0, microsecond=0)
        SessionFactory(cohort=world.cohort, trainer=world.trainer, start=start)
        PlacementFactory(
            learner=world.learner,
            company=world.company,
            referent=world.trainer,
            start_date=timezone.localdate() + datetime.timedelta(days=30),
            end_date=timezone.localdate() + datetime.timedelta(days=40),
        )

    client = signed_in(world.user(role))
    busier()
    client.get("/")  # the first visit makes the user's calendar token, once
    cache.clear()  # measured uncached both times (the staff's follow-up is cached)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/").status_code == 200
    for _ in range(3):
        busier()
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        assert client.get("/").status_code == 200
    assert len(many) == len(one)


def test_the_staff_home_lists_the_latest_twelve_cohorts_and_links_to_all(world: World) -> None:
    for year in range(2010, 2021):
        CohortFactory(name=f"CAP {year}", start_date=f"{year}-09-01", end_date=f"{year + 2}-06-30")

    home = signed_in(world.staff).get("/")

    # Thirteen cohorts in all (the world's two, eleven older ones): the oldest is left out.
    assert "CAP 2011" in home.text and "CAP 2010" not in home.text
    assert "Toutes les promotions" in home.text
    assert "CAP 2010" in signed_in(world.staff).get("/promotions/").text
    # A trainer's cohorts fit on the page: no link to more.
    assert "Toutes les promotions" not in signed_in(world.trainer).get("/").text
