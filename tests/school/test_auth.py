from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from school.models import Role
from tests.factories import PASSWORD, CompanyFactory, ContactFactory, GuardianFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_token_is_given_for_a_good_e_mail_and_password(api_client: Any) -> None:
    user = UserFactory(email="formateur@metaltech.test", role=Role.TRAINER)

    response = api_client.post(
        "/api/v1/auth/token/", {"email": "Formateur@MetalTech.test", "password": PASSWORD}
    )

    assert response.status_code == 200
    assert response.json() == {"token": user.auth_token.key}


def test_a_wrong_password_is_refused_in_french(api_client: Any) -> None:
    UserFactory(email="formateur@metaltech.test")
    response = api_client.post(
        "/api/v1/auth/token/", {"email": "formateur@metaltech.test", "password": "faux"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["E-mail ou mot de passe incorrect."]}


def test_the_token_opens_the_api_and_me_tells_who_and_which_role(api_client: Any) -> None:
    partner = UserFactory(email="tuteur@partenaire.test", role=Role.PARTNER)
    contact = ContactFactory(company=CompanyFactory(), user=partner)
    token = api_client.post(
        "/api/v1/auth/token/", {"email": partner.email, "password": PASSWORD}
    ).json()["token"]

    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    partner.refresh_from_db()

    assert response.json() == {
        "id": partner.pk,
        "email": "tuteur@partenaire.test",
        "first_name": partner.first_name,
        "last_name": partner.last_name,
        "role": "partner",
        "learner": None,
        "children": [],
        "company": contact.company_id,
        "calendar_url": f"http://testserver/calendar/{partner.calendar_token}.ics",
    }


def test_me_lists_a_guardians_children(api_as: Any) -> None:
    parent = UserFactory(role=Role.GUARDIAN)
    first, second = GuardianFactory(user=parent), GuardianFactory(user=parent)
    body = api_as(parent).get("/api/v1/me/").json()
    assert body["role"] == "guardian"
    assert sorted(body["children"]) == sorted([first.learner_id, second.learner_id])


def test_five_wrong_passwords_lock_the_account_even_with_the_right_one(api_client: Any) -> None:
    UserFactory(email="eleve@metaltech.test", role=Role.LEARNER)
    credentials = {"email": "eleve@metaltech.test", "password": "mauvais"}
    for _ in range(5):
        api_client.post("/api/v1/auth/token/", credentials)

    response = api_client.post(
        "/api/v1/auth/token/", {"email": "eleve@metaltech.test", "password": PASSWORD}
    )

    assert response.status_code == 429
    assert "verrouillé" in response.json()["detail"]


def test_the_login_page_speaks_french_and_opens_the_home_page() -> None:
    UserFactory(email="eleve@metaltech.test", first_name="Claire", role=Role.LEARNER)
    client = Client()
    page = client.get("/connexion/")
    assert "Connexion à MétalTech" in page.content.decode()

    response = client.post(
        "/connexion/", {"username": "eleve@metaltech.test", "password": PASSWORD}, follow=True
    )

    assert "Bonjour Claire" in response.content.decode()


def test_a_wrong_password_on_the_login_page_is_explained_in_french() -> None:
    UserFactory(email="direction@metaltech.test")
    response = Client().post(
        "/connexion/", {"username": "direction@metaltech.test", "password": "faux"}
    )
    assert "Saisissez" in response.content.decode()


def test_the_login_page_locks_after_five_failures() -> None:
    UserFactory(email="direction@metaltech.test")
    client = Client()
    for _ in range(5):
        client.post("/connexion/", {"username": "direction@metaltech.test", "password": "x"})
    response = client.post(
        "/connexion/", {"username": "direction@metaltech.test", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.content.decode()


def test_pages_send_a_content_security_policy() -> None:
    response = Client().get("/connexion/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_pages_need_a_login() -> None:
    response = Client().get("/promotions/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_changing_the_capitals_of_the_e_mail_does_not_reset_the_count(api_client: Any) -> None:
    UserFactory(email="eleve@metaltech.test", role=Role.LEARNER)
    spellings = ["eleve@metaltech.test", "Eleve@metaltech.test", "ELEVE@metaltech.test"]
    for spelling in spellings + spellings[:2]:
        api_client.post("/api/v1/auth/token/", {"email": spelling, "password": "mauvais"})

    response = api_client.post(
        "/api/v1/auth/token/", {"email": "ElEvE@metaltech.test", "password": PASSWORD}
    )

    assert response.status_code == 429


def test_the_login_form_counts_every_spelling_of_an_e_mail_together() -> None:
    UserFactory(email="direction@metaltech.test")
    client = Client()
    for spelling in ["direction@metaltech.test", "DIRECTION@metaltech.test"] * 3:
        client.post("/connexion/", {"username": spelling, "password": "x"})
    response = client.post(
        "/connexion/", {"username": "Direction@MetalTech.test", "password": PASSWORD}
    )
    assert response.status_code == 429


def test_the_calendar_url_stays_the_same_until_rotated(api_as: Any) -> None:
    learner = UserFactory(role=Role.LEARNER)
    client = api_as(learner)
    first = client.get("/api/v1/me/").json()["calendar_url"]
    assert first == client.get("/api/v1/me/").json()["calendar_url"]
    learner.rotate_calendar_token()
    assert client.get("/api/v1/me/").json()["calendar_url"] != first
