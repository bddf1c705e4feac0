from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import PlacementGrid, Situation, SituationKind, Term
from companies.models import Company, Contact
from companies.validators import luhn_valid
from courses.models import Competency, ExcuseNote, ExcuseStatus
from school.demo import DEMO_LOGINS, DEMO_PASSWORD, GUARDIAN_EMAIL, LEARNER_EMAIL, PARTNER_EMAIL
from school.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Guardian,
    IssuedDocument,
    Learner,
    Programme,
    Role,
    User,
)

# Seeded once for the module (tests/conftest.py); a test that seeds again does so in its
# own savepoint, rolled back after it.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_demo")]

SEEDED_APPS = ("school", "companies", "courses")


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def every_seeded_row() -> dict[str, list[dict[str, Any]]]:
    """Every row of the seeded apps, through tables and history included."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for app_label in SEEDED_APPS
        for model in apps.get_app_config(app_label).get_models(include_auto_created=True)
    }


def token_for(client: APIClient, email: str, password: str) -> str:
    response = client.post(
        "/api/v1/auth/token/", {"email": email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_running_it_twice_changes_nothing() -> None:
    first = every_seeded_row()

    seed()

    assert every_seeded_row() == first


def test_it_prints_the_five_logins_and_the_password(seeded_demo: str) -> None:
    out = seeded_demo

    assert "metaltech-demo" in out
    for account in DEMO_LOGINS:
        assert account.email in out


@pytest.mark.parametrize("account", DEMO_LOGINS, ids=lambda account: account.role)
def test_each_demo_login_gets_a_token_and_its_role(api_client: APIClient, account: Any) -> None:
    token = token_for(api_client, account.email, DEMO_PASSWORD)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api_client.get("/api/v1/me/").json()

    assert (me["email"], me["role"]) == (account.email, account.role)


def test_seeding_again_restores_a_demo_password(api_client: APIClient) -> None:
    user = User.objects.get(email=LEARNER_EMAIL)
    user.set_password("changed-by-a-visitor")
    user.save()

    seed()

    assert token_for(api_client, LEARNER_EMAIL, DEMO_PASSWORD)


def test_the_demo_learner_is_a_minor_for_a_year_in_the_parents_care(
    api_client: APIClient,
) -> None:
    learner = Learner.objects.get(user__email=LEARNER_EMAIL)
    today = timezone.localdate()

    api_client.credentials(
        HTTP_AUTHORIZATION=f"Token {token_for(api_client, GUARDIAN_EMAIL, DEMO_PASSWORD)}"
    )
    me = api_client.get("/api/v1/me/").json()

    assert learner.is_minor_on(today)
    assert learner.is_minor_on(today + datetime.timedelta(days=366))
    assert me["children"] == [learner.pk]
    assert Guardian.objects.get(learner=learner, user__email=GUARDIAN_EMAIL).rank == 1


def test_the_partner_login_is_a_company_tutor(api_client: APIClient) -> None:
    contact = Contact.objects.get(user__email=PARTNER_EMAIL)

    api_client.credentials(
        HTTP_AUTHORIZATION=f"Token {token_for(api_client, PARTNER_EMAIL, DEMO_PASSWORD)}"
    )
    me = api_client.get("/api/v1/me/").json()

    assert contact.is_tutor
    assert me["company"] == contact.company_id


def test_the_school_has_two_programmes_three_cohorts_and_forty_learners() -> None:
    today = timezone.localdate()
    learners = list(Learner.objects.all())

    assert Programme.objects.count() == 2
    assert Cohort.objects.count() == 3
    assert len(learners) == 40
    assert Enrolment.objects.count() == 40
    assert any(learner.is_minor_on(today) for learner in learners)
    assert any(not learner.is_minor_on(today) for learner in learners)
    assert Cohort.objects.filter(head_trainer__email="formateur@metaltech.test").count() >= 2
    assert (
        Cohort.objects.filter(head_trainer__role=Role.TRAINER)
        .exclude(head_trainer__email="formateur@metaltech.test")
        .exists()
    )


def test_every_minor_has_a_guardian_and_no_adult_needs_one() -> None:
    today = timezone.localdate()

    for learner in Learner.objects.prefetch_related("guardians"):
        assert bool(learner.guardians.all()) == learner.is_minor_on(today), learner


def test_a_withdrawal_and_a_suspension_leave_a_reason_in_the_history() -> None:
    for status in (EnrolmentStatus.WITHDRAWN, EnrolmentStatus.SUSPENDED):
        enrolment = Enrolment.objects.get(status=status)
        change = EnrolmentStatusChange.objects.filter(enrolment=enrolment).last()
        assert change is not None
        assert (change.status, bool(change.reason)) == (status, True)


def test_companies_have_valid_sirets_that_no_real_company_holds() -> None:
    companies = list(Company.objects.prefetch_related("contacts"))

    assert len(companies) >= 12
    for company in companies:
        company.full_clean()
        # Every real SIREN passes Luhn itself: failing it proves the company is fictional.
        assert company.siret.startswith("9") and not luhn_valid(company.siren), company
        assert 1 <= len(company.contacts.all()) <= 3, company


def test_each_programme_has_an_illustrative_framework() -> None:
    for programme in Programme.objects.all():
        assert Competency.objects.filter(block__programme=programme).count() >= 6, programme


def test_the_demo_has_a_term_of_marks_a_locked_ccf_bulletins_and_a_note_waiting() -> None:
    learner = Learner.objects.get(user__email=LEARNER_EMAIL)
    cohort = learner.enrolments.get().cohort
    assert Term.objects.filter(cohort=cohort).count() == 1
    assert Situation.objects.filter(cohort=cohort, published_at__isnull=False).count() >= 2
    assert Situation.objects.filter(kind=SituationKind.CCF, locked_at__isnull=False).exists()
    assert IssuedDocument.objects.filter(kind="bulletin", learner=learner).exists()
    assert ExcuseNote.objects.filter(learner=learner, status=ExcuseStatus.PENDING).count() == 1
    # CCF in PFMP: the grid the demo partner's tutor filled, which they see.
    grid = PlacementGrid.objects.select_related("placement__tutor__user").get()
    assert grid.submitted_at is not None and grid.result is not None
    assert grid.placement.tutor.user.email == PARTNER_EMAIL
    assert grid.result.levels.count() == 3
