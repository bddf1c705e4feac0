"""A newcomer's first minutes, in a real browser: log in, look around, log out."""

from __future__ import annotations

from typing import Any

import pytest

from school.models import Role
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, CohortFactory, EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_trainer_logs_in_sees_their_cohort_and_logs_out(page: Any) -> None:
    trainer = UserFactory(email="formateur@metaltech.test", first_name="Karim", role=Role.TRAINER)
    EnrolmentFactory(cohort=CohortFactory(name="CAP CIP 2026-2028", head_trainer=trainer))

    log_in(page, "formateur@metaltech.test", PASSWORD)
    page.get_by_role("heading", name="Bonjour Karim").wait_for()
    page.get_by_role("link", name="CAP CIP 2026-2028").first.click()
    page.get_by_role("heading", name="Apprenants").wait_for()
    # The first table is the cohort's learners (charts and placements come after it).
    assert page.locator("table").first.locator("tbody tr").count() == 1

    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_role("heading", name="Connexion à MétalTech").wait_for()


def test_a_wrong_password_is_explained_in_french(page: Any) -> None:
    UserFactory(email="direction@metaltech.test")
    page.goto("/connexion/")
    page.get_by_label("Adresse e-mail").fill("direction@metaltech.test")
    page.get_by_label("Mot de passe").fill("erreur")
    page.get_by_role("button", name="Se connecter").click()
    assert "Saisissez" in page.locator(".errorlist").inner_text()


def test_staff_reach_the_back_office_and_the_api_docs_without_leaving_the_site(
    page: Any, live_server: Any
) -> None:
    UserFactory(email="direction@metaltech.test", role=Role.STAFF)
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((live_server.url, "data:"))
            else None
        ),
    )

    log_in(page, "direction@metaltech.test", PASSWORD)
    page.get_by_role("link", name="Administration").click()
    page.get_by_text("Back-office de l'école").wait_for()

    page.goto("/api/docs/")
    page.locator(".swagger-ui .title").filter(has_text="MétalTech API").wait_for()

    assert outside == []
