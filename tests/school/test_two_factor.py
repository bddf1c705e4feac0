"""Staff and trainers need a TOTP code after their password; accounts, tokens and
sessions end; a forgotten password is reset by e-mail.

These tests sign in through the real pages with Django's plain client (not
``tests.clients.Client``, which passes the second factor for the rest of the suite).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from school.models import Role, User
from tests.factories import PASSWORD, LearnerFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)


def code_of(device: TOTPDevice) -> str:
    """What the person's phone shows for this device now (the clock as the server reads it)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def password_login(email: str) -> Client:
    client = Client()
    response = client.post("/connexion/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, "the password was accepted"
    return client


def enrolled(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="téléphone", confirmed=True)


# --- the second factor ---------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.STAFF, Role.TRAINER])
def test_a_staff_member_or_trainer_without_a_second_factor_reaches_nothing(role: str) -> None:
    UserFactory(email="direction@metaltech.test", role=role)
    client = password_login("direction@metaltech.test")

    for url in ("/", "/admin/", "/admin/school/learner/", "/apprenants/", "/promotions/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/connexion/double-facteur/?next="), url

    api = client.get("/api/v1/learners/")
    assert api.status_code == 403
    assert "Double authentification requise" in api.json()["detail"]


def test_learners_guardians_and_partners_are_not_asked_for_a_code() -> None:
    for role in (Role.LEARNER, Role.GUARDIAN, Role.PARTNER):
        UserFactory(email=f"{role}@metaltech.test", role=role)
        assert password_login(f"{role}@metaltech.test").get("/").status_code == 200


def test_a_staff_member_enrols_an_app_with_its_code_and_then_opens_the_admin() -> None:
    staff = UserFactory(email="direction@metaltech.test", role=Role.STAFF)
    with time_machine.travel(NOW, tick=False):
        client = password_login(staff.email)
        page = client.get("/connexion/double-facteur/?next=/admin/")
    html = page.content.decode()
    assert "<svg" in html and "Activer la double authentification" in html
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    shown_key = re.search(r'id="otp-key">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    assert shown_key  # the same secret as the QR code, for typing by hand

    with time_machine.travel(NOW, tick=False):
        wrong = client.post("/connexion/double-facteur/", {"code": "000000", "next": "/admin/"})
        assert "Ce code ne correspond pas" in wrong.content.decode()
        assert client.get("/admin/").status_code == 302
        # A wrong code makes the next try wait: guessing six digits is out of reach.
        hurried = client.post("/connexion/double-facteur/", {"code": code_of(device)})
        assert "attendez quelques secondes" in hurried.content.decode()

    # Still on the pinned clock: the session was opened at NOW and lasts a school day.
    with time_machine.travel(NOW + datetime.timedelta(seconds=5), tick=False):
        done = client.post(
            "/connexion/double-facteur/", {"code": code_of(device), "next": "/admin/"}
        )
        assert done.status_code == 302 and done["Location"] == "/admin/"
        device.refresh_from_db()
        assert device.confirmed
        assert client.get("/admin/").status_code == 200
        assert client.get("/api/v1/learners/").status_code == 200


def test_an_enrolled_staff_member_types_the_code_at_each_sign_in_and_each_code_opens_once() -> None:
    staff = UserFactory(email="direction@metaltech.test", role=Role.STAFF)
    device = enrolled(staff)
    with time_machine.travel(NOW, tick=False):
        first = password_login(staff.email)
        assert first.get("/admin/")["Location"].startswith("/connexion/code/")
        code = code_of(device)
        assert first.post("/connexion/code/", {"code": code, "next": "/admin/"}).status_code == 302
        assert first.get("/admin/").status_code == 200

        # The same code, seen over a shoulder, does not open a second session.
        second = password_login(staff.email)
        replay = second.post("/connexion/code/", {"code": code, "next": "/admin/"})
        assert "Code incorrect ou déjà utilisé" in replay.content.decode()
        assert second.get("/admin/").status_code == 302
        # And a wrong code makes the next one wait.
        hurried = second.post("/connexion/code/", {"code": code, "next": "/admin/"})
        assert "attendez quelques secondes" in hurried.content.decode()

    with time_machine.travel(NOW + datetime.timedelta(seconds=30), tick=False):
        ok = second.post("/connexion/code/", {"code": code_of(device), "next": "/admin/"})
        assert ok.status_code == 302
        assert second.get("/admin/").status_code == 200


def test_the_code_page_sends_nowhere_outside_the_site() -> None:
    staff = UserFactory(email="direction@metaltech.test", role=Role.STAFF)
    device = enrolled(staff)
    client = password_login(staff.email)
    response = client.post(
        "/connexion/code/", {"code": code_of(device), "next": "https://ailleurs.example/"}
    )
    assert response["Location"] == "/"


# --- API tokens ------------------------------------------------------------------------


def test_an_enrolled_staff_member_needs_the_code_for_an_api_token(api_client: Any) -> None:
    staff = UserFactory(email="direction@metaltech.test", role=Role.STAFF)
    device = enrolled(staff)
    credentials = {"email": staff.email, "password": PASSWORD}

    missing = api_client.post("/api/v1/auth/token/", credentials)
    assert missing.status_code == 400
    assert missing.json()["errors"] == {
        "otp": ["Code de double authentification manquant ou incorrect."]
    }
    with time_machine.travel(NOW, tick=False):
        wrong = api_client.post("/api/v1/auth/token/", {**credentials, "otp": "12345"})
        assert wrong.status_code == 400
    with time_machine.travel(NOW + datetime.timedelta(seconds=5), tick=False):
        given = api_client.post("/api/v1/auth/token/", {**credentials, "otp": code_of(device)})
    assert given.status_code == 200
    assert given.json() == {"token": staff.auth_token.key}


def test_a_token_expires_and_a_new_one_replaces_it(api_client: Any, settings: Any) -> None:
    settings.API_TOKEN_DAYS = 30
    learner = UserFactory(email="eleve@metaltech.test", role=Role.LEARNER)
    LearnerFactory(user=learner)
    credentials = {"email": learner.email, "password": PASSWORD}
    old = api_client.post("/api/v1/auth/token/", credentials).json()["token"]

    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=31)):
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
        refused = api_client.get("/api/v1/me/")
        assert refused.status_code == 401
        assert refused.json() == {"detail": "Jeton expiré : demandez-en un nouveau."}

        api_client.credentials()
        new = api_client.post("/api/v1/auth/token/", credentials).json()["token"]
        assert new != old
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
        assert api_client.get("/api/v1/me/").status_code == 200


def test_logging_out_of_the_api_revokes_the_token(api_client: Any) -> None:
    learner = UserFactory(email="eleve@metaltech.test", role=Role.LEARNER)
    token = api_client.post(
        "/api/v1/auth/token/", {"email": learner.email, "password": PASSWORD}
    ).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert api_client.post("/api/v1/auth/logout/").status_code == 204
    assert api_client.get("/api/v1/me/").status_code == 401
    assert not Token.objects.filter(user=learner).exists()


# --- sessions and passwords ------------------------------------------------------------


def test_a_browser_session_ends_after_a_school_day(settings: Any) -> None:
    assert settings.SESSION_COOKIE_AGE == 10 * 3600
    UserFactory(email="eleve@metaltech.test", role=Role.LEARNER)
    with time_machine.travel(NOW, tick=False):
        client = password_login("eleve@metaltech.test")
        assert client.get("/").status_code == 200
    with time_machine.travel(NOW + datetime.timedelta(hours=11), tick=False):
        assert client.get("/")["Location"].startswith("/connexion/")


def test_a_forgotten_password_is_reset_through_a_link_sent_by_e_mail(api_client: Any) -> None:
    user = UserFactory(email="tuteur@partenaire.test", role=Role.PARTNER)
    Token.objects.create(user=user)
    client = Client()
    assert "Mot de passe oublié" in client.get("/connexion/").content.decode()

    sent = client.post("/mot-de-passe/oubli/", {"email": "Tuteur@Partenaire.test"})
    assert sent["Location"] == "/mot-de-passe/oubli/envoye/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["tuteur@partenaire.test"]
    assert "nouveau mot de passe" in message.subject
    link = re.search(r"http://testserver(/mot-de-passe/nouveau/\S+/)", message.body).group(1)

    form = client.get(link, follow=True)
    set_url = form.redirect_chain[-1][0]
    too_short = client.post(set_url, {"new_password1": "abc", "new_password2": "abc"})
    assert "trop court" in too_short.content.decode()

    new_password = "Tour-CN-2027-fraiseuse"
    done = client.post(set_url, {"new_password1": new_password, "new_password2": new_password})
    assert done["Location"] == "/mot-de-passe/nouveau/fait/"
    assert not Token.objects.filter(user=user).exists()  # the old token died with the password
    signed_in = Client().post("/connexion/", {"username": user.email, "password": new_password})
    assert signed_in.status_code == 302
    # The link served once.
    assert "Lien invalide" in client.get(link, follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail() -> None:
    response = Client().post("/mot-de-passe/oubli/", {"email": "personne@nulle-part.test"})
    assert response["Location"] == "/mot-de-passe/oubli/envoye/"
    assert mail.outbox == []
