from __future__ import annotations

from typing import Any

from companies.models import Contact
from tests.conftest import World
from tests.factories import make_siret


def test_staff_create_a_company_with_a_valid_siret(world: World, api_as: Any) -> None:
    payload = {
        "legal_name": "Polissage Haut-Marnais SARL",
        "siret": make_siret(9876543210001),
        "sector": "polishing",
        "address": "3 rue de la Coutellerie",
        "postal_code": "52800",
        "city": "Nogent",
    }
    response = api_as(world.staff).post("/api/v1/companies/", payload)
    assert response.status_code == 201, response.content
    assert response.json()["siren"] == payload["siret"][:9]


def test_a_bad_siret_is_refused_with_a_french_message(world: World, api_as: Any) -> None:
    response = api_as(world.staff).post(
        "/api/v1/companies/",
        {
            "legal_name": "X",
            "siret": "12345678901234",
            "sector": "forge",
            "address": "1 rue",
            "postal_code": "52800",
            "city": "Nogent",
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "siret": [
            "Le SIRET 12345678901234 n'est pas valide (clé de contrôle erronée) : "
            "vérifiez les chiffres."
        ]
    }


def test_a_partner_updates_their_company_but_not_its_legal_identity(
    world: World, api_as: Any
) -> None:
    response = api_as(world.partner).patch(
        f"/api/v1/companies/{world.company.pk}/",
        {"phone": "03 25 31 00 00", "legal_name": "Autre nom", "siret": make_siret(1)},
    )
    assert response.status_code == 200
    world.company.refresh_from_db()
    assert world.company.phone == "03 25 31 00 00"
    assert world.company.legal_name == "Forges de Nogent"


def test_a_partner_adds_a_tutor_to_their_company_but_cannot_make_a_signatory(
    world: World, api_as: Any
) -> None:
    response = api_as(world.partner).post(
        "/api/v1/contacts/",
        {
            "company": world.company.pk,
            "first_name": "Luc",
            "last_name": "Girard",
            "is_tutor": True,
            "is_signatory": True,
        },
    )
    assert response.status_code == 201, response.content
    contact = Contact.objects.get(pk=response.json()["id"])
    assert (contact.is_tutor, contact.is_signatory) == (True, False)


def test_a_partner_cannot_add_a_contact_to_another_company(world: World, api_as: Any) -> None:
    response = api_as(world.partner).post(
        "/api/v1/contacts/",
        {"company": world.other_company.pk, "first_name": "Intrus", "last_name": "X"},
    )
    assert response.status_code == 400
    assert "company" in response.json()["errors"]
    assert not Contact.objects.filter(first_name="Intrus").exists()


def test_a_partner_cannot_see_another_companys_contacts(world: World, api_as: Any) -> None:
    client = api_as(world.partner)
    listed = client.get("/api/v1/contacts/").json()
    assert [row["id"] for row in listed["results"]] == [world.contact.pk]
    assert client.get(f"/api/v1/contacts/{world.other_contact.pk}/").status_code == 404


def test_companies_are_filtered_by_sector_and_searched_by_name(world: World, api_as: Any) -> None:
    world.other_company.sector = "foundry"
    world.other_company.save()
    client = api_as(world.trainer)
    by_sector = client.get("/api/v1/companies/?sector=foundry").json()
    assert [c["legal_name"] for c in by_sector["results"]] == ["Fonderie de Langres"]
    searched = client.get("/api/v1/companies/?search=forges").json()
    assert [c["legal_name"] for c in searched["results"]] == ["Forges de Nogent"]


def test_lists_are_paginated_with_a_page_size_parameter(world: World, api_as: Any) -> None:
    body = api_as(world.staff).get("/api/v1/companies/?page_size=1").json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    assert body["next"].endswith("page=2&page_size=1")
    assert body["previous"] is None


def test_filtering_by_another_companys_id_reveals_nothing_about_it(
    world: World, api_as: Any
) -> None:
    client = api_as(world.partner)
    foreign = client.get(f"/api/v1/contacts/?company={world.other_company.pk}")
    unknown = client.get("/api/v1/contacts/?company=987654")
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.json()["errors"].keys() == unknown.json()["errors"].keys() == {"company"}
    own = client.get(f"/api/v1/contacts/?company={world.company.pk}").json()
    assert [row["id"] for row in own["results"]] == [world.contact.pk]


def test_a_partner_cannot_rewrite_the_verified_signatory(world: World, api_as: Any) -> None:
    world.contact.is_signatory = True
    world.contact.save()
    response = api_as(world.partner).patch(
        f"/api/v1/contacts/{world.contact.pk}/", {"first_name": "Mallory"}
    )
    assert response.status_code == 403
    assert "vérifié par l'école" in response.json()["detail"]
    world.contact.refresh_from_db()
    assert world.contact.first_name != "Mallory"
    staff = api_as(world.staff).patch(
        f"/api/v1/contacts/{world.contact.pk}/", {"first_name": "Mallory"}
    )
    assert staff.status_code == 200


def test_a_partner_sees_how_many_contacts_their_company_has(world: World) -> None:
    from tests.clients import Client
    from tests.factories import ContactFactory

    ContactFactory(company=world.company)
    ContactFactory(company=world.company)
    client = Client()
    client.force_login(world.partner)
    page = client.get("/entreprises/").content.decode()
    assert "<td>3</td>" in page


def test_an_id_too_large_for_the_database_is_refused_not_a_server_error(
    world: World, api_as: Any
) -> None:
    # Found by Schemathesis: SQLite raised OverflowError on the 20-digit id.
    response = api_as(world.partner).get("/api/v1/companies/?clusters=-13912876059099486208")
    assert response.status_code == 400
    assert "clusters" in response.json()["errors"]
