"""The lists filtered by status (applications, placements, workshop orders) page and
filter alike: one rule, ``school.pagination.status_page_of``."""

from __future__ import annotations

import pytest
from django.urls import reverse

from internships.models import ApplicationStatus
from school.pagination import LIST_PAGE_SIZE
from tests.clients import Client
from tests.conftest import World
from tests.factories import (
    ApplicationFactory,
    CompetencyFactory,
    OfferFactory,
    PlacementFactory,
    SessionFactory,
)
from tests.states import order_planned

pytestmark = pytest.mark.django_db


def staff_page(world: World, url: str) -> str:
    client = Client()
    client.force_login(world.staff)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def rows(page: str) -> str:
    return page[page.index("<tbody>") : page.index("</tbody>")]


def test_a_status_filter_is_kept_in_the_links_of_every_page(world: World) -> None:
    offer = OfferFactory(company=world.company, places=LIST_PAGE_SIZE + 5)
    for _ in range(LIST_PAGE_SIZE + 1):  # a learner each
        ApplicationFactory(offer=offer, status=ApplicationStatus.WITHDRAWN)
    ApplicationFactory(offer=offer, status=ApplicationStatus.SUBMITTED)

    first = staff_page(world, reverse("application-list") + "?statut=withdrawn")

    assert "Page 1 sur 2" in first
    assert 'href="?statut=withdrawn&amp;page=2"' in first


@pytest.mark.parametrize("name", ["application-list", "placement-list", "order-list"])
def test_an_unknown_status_lists_everything_instead_of_nothing(world: World, name: str) -> None:
    ApplicationFactory(offer=OfferFactory(company=world.company), learner=world.learner)
    PlacementFactory(learner=world.learner, company=world.company)
    order_planned(
        company=world.company,
        partner=world.partner,
        staff=world.staff,
        supervisor=world.trainer,
        competency=CompetencyFactory(),
        session=SessionFactory(cohort=world.cohort, trainer=world.trainer),
        learner=world.learner,
        reference="BRIDE-1",
        description="Bride de serrage",
    )
    url = reverse(name)
    everything = staff_page(world, url)
    assert "<td>" in rows(everything)  # a row to lose

    assert rows(staff_page(world, f"{url}?statut=inconnu")) == rows(everything)
