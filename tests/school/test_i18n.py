from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from school.models import Role
from tests.clients import Client
from tests.factories import UserFactory

CATALOG = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")

pytestmark = pytest.mark.django_db


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


def _entries() -> list[Entry]:
    """The catalog's entries, header excluded, read by hand: polib is no dependency."""
    entries = []
    for block in CATALOG.read_text(encoding="utf-8").split("\n\n"):
        entry, fields, key = Entry(), {}, ""
        for line in block.splitlines():
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith('"'):
                fields[key] += ast.literal_eval(line)
            elif line and not line.startswith("#"):
                key, _space, value = line.partition(" ")
                fields[key] = ast.literal_eval(value)
        entry.msgid = fields.get("msgid", "")
        entry.msgid_plural = fields.get("msgid_plural", "")
        entry.msgstrs = [text for key, text in fields.items() if key.startswith("msgstr")]
        if entry.msgid:
            entries.append(entry)
        else:
            assert "fuzzy" not in entry.flags, "the catalog's header is marked fuzzy"
    return entries


def test_the_login_page_is_french_by_default_and_offers_the_language_switch() -> None:
    page = Client().get("/connexion/").content.decode()
    assert '<html lang="fr">' in page
    assert "Connexion à MétalTech" in page
    assert 'action="/i18n/setlang/"' in page
    assert '<option value="en" lang="en">English</option>' in page


def test_choosing_english_puts_the_login_page_in_english() -> None:
    client = Client()

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/connexion/"})

    assert response.status_code == 302
    assert response["Location"] == "/connexion/"
    page = client.get("/connexion/").content.decode()
    assert '<html lang="en">' in page
    assert "Log in to MétalTech" in page
    assert "Connexion à MétalTech" not in page


def test_a_signed_in_user_switches_to_english_and_back_to_french() -> None:
    client = Client()
    client.force_login(UserFactory(first_name="Claire", role=Role.STAFF))

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    french = client.get("/").content.decode()

    assert "Hello Claire" in english
    assert "School staff" in english
    assert "Bonjour Claire" in french


@pytest.mark.parametrize("accept_language", ["en", "en-GB,en;q=0.9,fr;q=0.8"])
def test_a_browser_asking_for_english_gets_english(accept_language: str) -> None:
    page = Client(headers={"accept-language": accept_language}).get("/connexion/")
    assert "Log in to MétalTech" in page.content.decode()


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [
        (None, "E-mail ou mot de passe incorrect."),
        ("fr", "E-mail ou mot de passe incorrect."),
        ("en", "Incorrect email or password."),
    ],
)
def test_the_api_refuses_a_wrong_password_in_the_callers_language(
    accept_language: str | None, message: str
) -> None:
    UserFactory(email="formateur@metaltech.test")
    headers = {"accept-language": accept_language} if accept_language else {}

    response = Client(headers=headers).post(
        "/api/v1/auth/token/", {"email": "formateur@metaltech.test", "password": "faux"}
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": [message]}


def test_every_entry_of_the_english_catalog_is_translated() -> None:
    entries = _entries()
    assert entries
    assert [entry.msgid for entry in entries if not all(entry.msgstrs)] == []
    assert [entry.msgid for entry in entries if "fuzzy" in entry.flags] == []


def test_no_translation_invents_or_loses_a_placeholder() -> None:
    # An unknown placeholder is a KeyError, hence a server error, in English only.
    wrong = [
        (entry.msgid, text)
        for entry in _entries()
        for text in entry.msgstrs
        if set(PLACEHOLDER.findall(text))
        != set(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
    ]
    assert wrong == []


def test_the_committed_mo_file_matches_the_po_file() -> None:
    # A .po edited without `compilemessages` would leave English pages on the old text.
    with CATALOG.with_suffix(".mo").open("rb") as compiled:
        english = gettext.GNUTranslations(compiled)
    stale = [
        entry.msgid
        for entry in _entries()
        if (
            [english.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
            if entry.msgid_plural
            else [english.gettext(entry.msgid)]
        )
        != entry.msgstrs
    ]
    assert stale == []
