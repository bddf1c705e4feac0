"""The placement path through the API, as each role sees it: scoped lists, 404 for
what is not theirs, every write through the services."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from internships import services
from internships.models import OfferStatus, PlacementStatus, SignerRole
from school.models import Role
from tests.conftest import World
from tests.factories import (
    ApplicationFactory,
    ContactFactory,
    GuardianFactory,
    LearnerFactory,
    OfferFactory,
    PlacementFactory,
    UserFactory,
    VisitFactory,
)
from tests.queries import assert_a_list_costs_the_same_for_one_row_and_for_many, list_queries
from tests.states import placement_ready

pytestmark = pytest.mark.django_db


def test_a_partner_publishes_two_learners_apply_the_partner_accepts_one(
    world: World, api_as: Any
) -> None:
    partner = api_as(world.partner)
    created = partner.post(
        "/api/v1/offers/",
        {
            "company": world.company.pk,
            "title": "Régleur sur centre d'usinage",
            "activities": "Régler, usiner, contrôler.",
            "address": "ZI Sud",
            "postal_code": "52800",
            "city": "Nogent",
            "start_date": "2027-03-08",
            "end_date": "2027-03-26",
            "places": 1,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    offer_id = created.json()["id"]
    # The answer to the creation is the offer as the list shows it.
    assert created.json() == partner.get(f"/api/v1/offers/{offer_id}/").json()
    assert created.json()["places_taken"] == 0
    assert partner.post(f"/api/v1/offers/{offer_id}/publish/").json()["status"] == "published"

    other = LearnerFactory(user=UserFactory(role=Role.LEARNER))
    ids = []
    for learner_user in (world.learner_user, other.user):
        response = api_as(learner_user).post(
            "/api/v1/applications/", {"offer": offer_id, "message": "Motivé"}, format="json"
        )
        assert response.status_code == 201, response.json()
        ids.append(response.json()["id"])

    partner = api_as(world.partner)
    assert partner.get("/api/v1/applications/").json()["count"] == 2
    accepted = partner.post(f"/api/v1/applications/{ids[0]}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    refused = partner.post(f"/api/v1/applications/{ids[1]}/accept/")
    assert refused.status_code == 400
    assert "déjà pourvue" in str(refused.json())
    assert partner.get(f"/api/v1/offers/{offer_id}/").json()["status"] == OfferStatus.FILLED
    placement = partner.get("/api/v1/placements/").json()["results"][0]
    assert placement["learner"] == world.learner.pk and placement["status"] == "draft"


def test_another_company_s_partner_never_sees_any_of_it(world: World, api_as: Any) -> None:
    offer = OfferFactory(company=world.company)
    application = ApplicationFactory(offer=offer, learner=world.learner)
    placement = PlacementFactory(company=world.company, learner=world.learner)
    stranger = UserFactory(role=Role.PARTNER)
    ContactFactory(company=world.other_company, user=stranger)
    client = api_as(stranger)
    for url in ("/api/v1/offers/", "/api/v1/applications/", "/api/v1/placements/"):
        assert client.get(url).json()["count"] == 0, url
    assert client.get(f"/api/v1/offers/{offer.pk}/").status_code == 404
    assert client.get(f"/api/v1/applications/{application.pk}/").status_code == 404
    assert client.get(f"/api/v1/placements/{placement.pk}/").status_code == 404
    assert client.post(f"/api/v1/applications/{application.pk}/accept/").status_code == 404
    assert (
        client.post(f"/api/v1/placements/{placement.pk}/sign/", {"signature": 1}).status_code == 404
    )


def test_learners_see_published_offers_and_only_their_own_applications(
    world: World, api_as: Any
) -> None:
    OfferFactory(status=OfferStatus.DRAFT)
    published = OfferFactory()
    mine = ApplicationFactory(offer=published, learner=world.learner)
    theirs = ApplicationFactory(offer=published, learner=world.other_learner)
    client = api_as(world.learner_user)
    assert [row["id"] for row in client.get("/api/v1/offers/").json()["results"]] == [published.pk]
    assert [row["id"] for row in client.get("/api/v1/applications/").json()["results"]] == [mine.pk]
    assert client.get(f"/api/v1/applications/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/v1/applications/{theirs.pk}/withdraw/").status_code == 404
    assert client.post(f"/api/v1/applications/{mine.pk}/withdraw/").json()["status"] == "withdrawn"
    # A learner does not decide.
    assert client.post(f"/api/v1/applications/{mine.pk}/accept/").status_code == 403


def test_offers_filter_by_sector_commune_period_and_competency(world: World, api_as: Any) -> None:
    match = OfferFactory(company__sector="forge", city="Langres")
    OfferFactory(company__sector="forge", city="Nogent")
    OfferFactory(
        company__sector="forge",
        city="Langres",
        start_date=datetime.date(2027, 6, 1),
        end_date=datetime.date(2027, 6, 20),
    )
    client = api_as(world.learner_user)
    found = client.get(
        "/api/v1/offers/",
        {"sector": "forge", "city": "langres", "available_until": "2027-04-01"},
    ).json()
    assert [row["id"] for row in found["results"]] == [match.pk]


def test_a_guardian_signs_their_child_s_agreement_from_the_api(
    world: World, api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world.learner.birth_date = datetime.date(2010, 3, 14)
    world.learner.save()
    placement = PlacementFactory(learner=world.learner, company=world.company)
    with django_capture_on_commit_callbacks(execute=True):
        version = services.placement_freeze(placement, by=world.staff)
    block = version.signatures.get(role=SignerRole.GUARDIAN, user=world.guardian_user)
    client = api_as(world.guardian_user)
    answer = client.post(f"/api/v1/placements/{placement.pk}/sign/", {"signature": block.pk})
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == PlacementStatus.PARTIALLY_SIGNED
    learner_block = version.signatures.get(role=SignerRole.LEARNER)
    refused = client.post(
        f"/api/v1/placements/{placement.pk}/sign/", {"signature": learner_block.pk}
    )
    assert refused.status_code == 400 and "pas le vôtre" in str(refused.json())
    # The convention's PDF is the guardian's to read, and the partner's.
    pdf = f"/api/v1/documents/{version.document.pk}/pdf/"
    assert client.get(pdf).status_code == 200
    assert api_as(world.partner).get(pdf).status_code == 200
    stranger = UserFactory(role=Role.PARTNER)
    ContactFactory(company=world.other_company, user=stranger)
    assert api_as(stranger).get(pdf).status_code == 404


def test_a_minor_s_forty_hour_week_is_refused_through_the_api(world: World, api_as: Any) -> None:
    minor = LearnerFactory(birth_date=datetime.date(2010, 3, 14))
    GuardianFactory(learner=minor)
    placement = PlacementFactory(learner=minor)
    answer = api_as(world.staff).patch(
        f"/api/v1/placements/{placement.pk}/",
        {
            "slots": [
                {"weekday": day, "start_time": "08:00", "end_time": "16:00"} for day in range(5)
            ]
        },
        format="json",
    )
    assert answer.status_code == 400
    assert "35 heures par semaine (Code du travail, art. L3162-1)" in str(answer.json())


def test_staff_record_a_paper_signature_through_the_api(world: World, api_as: Any) -> None:
    version = placement_ready(by=world.staff)
    placement = version.placement
    block = version.signatures.get(role=SignerRole.COMPANY)
    scan = SimpleUploadedFile("signee.pdf", b"%PDF-1.7\n%scan\n", "application/pdf")
    answer = api_as(world.staff).post(
        f"/api/v1/placements/{placement.pk}/paper-signature/",
        {"signature": block.pk, "scan": scan},
        format="multipart",
    )
    assert answer.status_code == 200, answer.json()
    signatures = answer.json()["versions"][0]["signatures"]
    assert [s["method"] for s in signatures if s["role"] == "company"] == ["paper"]


ROW_MAKERS: dict[str, Callable[[], Any]] = {
    "offers": OfferFactory,
    "applications": ApplicationFactory,
    "placements": PlacementFactory,
    "visits": VisitFactory,
}


@pytest.mark.parametrize("endpoint", ROW_MAKERS)
def test_a_placement_list_costs_the_same_for_one_row_and_for_many(
    api_as: Any, endpoint: str
) -> None:
    client = api_as(UserFactory(role=Role.STAFF))
    assert_a_list_costs_the_same_for_one_row_and_for_many(
        client, f"/api/v1/{endpoint}/", ROW_MAKERS[endpoint], more=8
    )


def test_the_placement_list_with_signed_versions_costs_the_same(api_as: Any) -> None:
    staff = UserFactory(role=Role.STAFF)
    client = api_as(staff)
    placement_ready(by=staff)
    one, _rows = list_queries(client, "/api/v1/placements/")
    for _ in range(4):
        placement_ready(by=staff)
    many, _rows = list_queries(client, "/api/v1/placements/")
    assert many == one


def test_staff_request_the_tutor_s_evaluation_and_read_it_back(
    world: World, api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    placement = PlacementFactory(status=PlacementStatus.IN_PROGRESS, tutor__email="t@f.test")
    client = api_as(world.staff)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/api/v1/placements/{placement.pk}/request-evaluation/")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["evaluation"]["sent_to"] == "t@f.test"
    draft = PlacementFactory()
    refused = client.post(f"/api/v1/placements/{draft.pk}/request-evaluation/")
    assert refused.status_code == 400 and "en cours ou terminé" in str(refused.json())
    assert (
        api_as(world.partner)
        .post(f"/api/v1/placements/{placement.pk}/request-evaluation/")
        .status_code
        == 404
    )


def test_an_offer_keeps_at_least_as_many_places_as_accepted_applications(
    world: World, api_as: Any
) -> None:
    offer = OfferFactory(company=world.company, places=2)
    for application in ApplicationFactory.create_batch(2, offer=offer):
        services.application_accept(application, by=world.staff)
    answer = api_as(world.partner).patch(f"/api/v1/offers/{offer.pk}/", {"places": 1})
    assert answer.status_code == 400
    assert "2 candidatures sont déjà acceptées" in str(answer.json())


def _accepting_once_validated(
    monkeypatch: pytest.MonkeyPatch, target: Any, name: str, application: Any, by: Any
) -> None:
    """The partner's change is validated; before it is saved, the school accepts another
    application (committed): the interleaving two requests at once may take."""
    validate = getattr(target, name)

    def then_accept(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = validate(self, *args, **kwargs)
        services.application_accept(application, by=by)
        return result

    monkeypatch.setattr(target, name, then_accept)


def test_fewer_places_are_counted_again_against_an_acceptance_made_meanwhile_in_the_api(
    world: World, api_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from internships.serializers import OfferSerializer

    offer = OfferFactory(company=world.company, places=2)
    first, second = ApplicationFactory.create_batch(2, offer=offer)
    services.application_accept(first, by=world.staff)
    _accepting_once_validated(monkeypatch, OfferSerializer, "validate", second, world.staff)

    answer = api_as(world.partner).patch(f"/api/v1/offers/{offer.pk}/", {"places": 1})

    assert answer.status_code == 400
    assert "2 candidatures sont déjà acceptées" in str(answer.json())
    offer.refresh_from_db()
    assert offer.places == 2


def test_fewer_places_are_counted_again_against_an_acceptance_made_meanwhile_on_the_page(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from internships.forms import OfferForm
    from tests.clients import Client

    offer = OfferFactory(company=world.company, places=2)
    first, second = ApplicationFactory.create_batch(2, offer=offer)
    services.application_accept(first, by=world.staff)
    _accepting_once_validated(monkeypatch, OfferForm, "_post_clean", second, world.staff)
    client = Client()
    client.force_login(world.partner)
    form = client.get(f"/offres/{offer.pk}/modifier/").context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["places"] = 1

    page = client.post(f"/offres/{offer.pk}/modifier/", data)

    assert page.status_code == 200
    assert "2 candidatures sont déjà acceptées" in page.content.decode()
    offer.refresh_from_db()
    assert offer.places == 2


def test_a_cancelled_placement_gives_its_place_and_period_back(world: World) -> None:
    offer = OfferFactory(places=1)
    first = ApplicationFactory(offer=offer, learner=world.learner)
    placement = services.application_accept(first, by=world.staff)
    services.placement_cancel(placement, reason="L'entreprise ferme", by=world.staff)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.PUBLISHED
    # The place is free again, and so is the learner's period.
    second = ApplicationFactory(offer=offer)
    services.application_accept(second, by=world.staff)
    other = OfferFactory(start_date=offer.start_date, end_date=offer.end_date)
    services.application_accept(
        ApplicationFactory(offer=other, learner=world.learner), by=world.staff
    )


def test_a_placement_keeps_its_learner_and_company(world: World, api_as: Any) -> None:
    placement = PlacementFactory(learner=world.learner, referent=world.trainer)
    answer = api_as(world.trainer).patch(
        f"/api/v1/placements/{placement.pk}/", {"learner": world.other_learner.pk}, format="json"
    )
    assert answer.status_code == 200
    placement.refresh_from_db()
    assert placement.learner == world.learner
