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
