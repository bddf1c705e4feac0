"""Each demo user's home page, audited by axe-core (vendored under static/) in a real
browser: no serious or critical violation, on a desktop and on a 360 px phone, where
nothing scrolls sideways. Screenshots land in the artefacts folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

DEMO_PASSWORD = "metaltech-demo"
USERS = [
    "direction@metaltech.test",
    "formateur@metaltech.test",
    "tuteur@partenaire.test",
    "eleve@metaltech.test",
    "parent@metaltech.test",
]
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR", "artifacts")) / "screenshots"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}


def audit(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_every_home_page_passes_the_audit_on_desktop_and_phone(
    browser: Any, live_server: Any
) -> None:
    call_command("seed_demo", verbosity=0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[str]] = {}
    for email in USERS:
        for name, viewport in (("bureau", DESKTOP), ("telephone", PHONE)):
            context = browser.new_context(
                locale="fr-FR", base_url=live_server.url, viewport=viewport
            )
            page = context.new_page()
            log_in(page, email, DEMO_PASSWORD)
            role = email.split("@")[0]
            page.screenshot(
                path=str(ARTIFACTS / f"accueil-{role}-{name}.jpg"),
                full_page=True,
                type="jpeg",
                quality=60,
            )
            if problems := audit(page):
                found[f"{email} ({name})"] = problems
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                found.setdefault(f"{email} ({name})", []).append(
                    f"défilement horizontal de {overflow} px"
                )
            context.close()
    assert not found, "\n".join(f"{who}: {p}" for who, problems in found.items() for p in problems)


def test_the_sign_in_password_and_second_factor_pages_pass_the_audit(
    browser: Any, live_server: Any
) -> None:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from school.models import IssuedDocument, User

    call_command("seed_demo", verbosity=0)
    staff = User.objects.get(email="direction@metaltech.test")
    reset = (
        f"/mot-de-passe/nouveau/{urlsafe_base64_encode(force_bytes(staff.pk))}/"
        f"{default_token_generator.make_token(staff)}/"
    )
    document = IssuedDocument.objects.exclude(verification_code="").first()
    pages = ["/connexion/", "/mot-de-passe/oubli/", "/mot-de-passe/oubli/envoye/", reset]
    if document is not None:
        pages.append(f"/verify/{document.verification_code}/")
    found: dict[str, list[str]] = {}
    for name, viewport in (("bureau", DESKTOP), ("telephone", PHONE)):
        context = browser.new_context(locale="fr-FR", base_url=live_server.url, viewport=viewport)
        page = context.new_page()
        for url in pages:
            page.goto(url)
            if problems := audit(page):
                found[f"{url} ({name})"] = problems
        # The second factor: enrolment at the first sign-in, the code at the next ones.
        for step in ("double-facteur", "code"):
            page.goto("/connexion/")
            page.get_by_label("Adresse e-mail").fill(staff.email)
            page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_url(f"**/connexion/{step}/**")
            if problems := audit(page):
                found[f"/connexion/{step}/ ({name})"] = problems
            if step == "double-facteur":
                context.close()
                log_in_context = browser.new_context(locale="fr-FR", base_url=live_server.url)
                log_in(log_in_context.new_page(), staff.email, DEMO_PASSWORD)  # enrols
                log_in_context.close()
                context = browser.new_context(
                    locale="fr-FR", base_url=live_server.url, viewport=viewport
                )
                page = context.new_page()
        context.close()
        # The next viewport starts again from an account without a device.
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.filter(user=staff).delete()
    assert not found, "\n".join(f"{url}: {p}" for url, problems in found.items() for p in problems)
