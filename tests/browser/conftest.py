"""Browser tests drive Debian's Chromium through Playwright, headless.

They skip, saying why, when Chromium or Playwright is missing — except under
``BROWSER_TESTS=1`` (CI), where a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing() -> str | None:
    if not shutil.which(CHROMIUM):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        if os.environ.get("BROWSER_TESTS") == "1":
            pytest.fail(f"BROWSER_TESTS=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests
    # make between page actions are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR", base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


def log_in(page: Any, email: str, password: str) -> None:
    """Sign in through the login page as a person would. A staff member or trainer then
    types their app's code: at the first sign-in they enrol, typing the key shown on the
    page into the "app" (here ``totp``); later, the code of the device they enrolled."""
    import base64

    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page.goto("/connexion/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: not url.endswith("/connexion/"))
    if "/connexion/double-facteur/" in page.url:
        key = page.locator("#otp-key").inner_text().replace(" ", "")
        secret = base64.b32decode(key + "=" * (-len(key) % 8))
        page.get_by_label("Code à 6 chiffres").fill(f"{totp(secret):06d}")
        page.get_by_role("button", name="Activer").click()
    elif "/connexion/code/" in page.url:
        device = TOTPDevice.objects.get(user__email=email, confirmed=True)
        # A second browser of the same person within 30 s: the phone shows the same code,
        # which django-otp accepts only once; the test forgets that it was used.
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
        page.get_by_label("Code à 6 chiffres").fill(f"{totp(device.bin_key):06d}")
        page.get_by_role("button", name="Valider").click()
    else:
        return
    page.wait_for_url(lambda url: "/connexion/" not in url)
