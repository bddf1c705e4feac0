"""The placement pages of each role: what they show, what they refuse, what they cost."""

from __future__ import annotations

import datetime
import html
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from internships.models import Application, ApplicationStatus, Placement, PlacementStatus
from school.models import Role
from tests.clients import signed_in
from tests.conftest import World
from tests.factories import (
    ApplicationFactory,
    ContactFactory,
    LearnerFactory,
    OfferFactory,
    PlacementFactory,
    UserFactory,
)
from tests.states import placement_ready

pytestmark = pytest.mark.django_db


def test_a_learner_browses_offers_and_applies_from_the_page(world: World) -> None:
    offer = OfferFactory(title="Fraiseur sur centre CN", company__sector="tooling")
    OfferFactory(title="Forgeron", company__sector="forge")
    client = signed_in(world.learner_user)
    listing = client.get("/offres/", {"secteur": "tooling"})
    assert "Fraiseur sur centre CN" in listing.text and "Forgeron" not in listing.text
    assert client.get(f"/offres/{offer.pk}/").status_code == 200
    response = client.post(f"/offres/{offer.pk}/candidater/", {"message": "Motivée"}, follow=True)
    assert "Candidature envoyée." in response.text
    assert Application.objects.get(offer=offer).learner == world.learner


def test_the_partner_accepts_from_the_application_page(world: World) -> None:
    offer = OfferFactory(company=world.company)
    application = ApplicationFactory(offer=offer, learner=world.learner)
    client = signed_in(world.partner)
    page = client.get(f"/candidatures/{application.pk}/")
    assert "Accepter" in page.text
    response = client.post(f"/candidatures/{application.pk}/accept/", follow=True)
    assert "le stage est créé en brouillon" in response.text
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACCEPTED
    assert Placement.objects.filter(application=application).exists()


def test_a_refusal_without_reason_is_explained_on_the_page(world: World) -> None:
    application = ApplicationFactory(offer=OfferFactory(company=world.company))
    response = signed_in(world.partner).post(
        f"/candidatures/{application.pk}/reject/", {"reason": ""}, follow=True
    )
    assert "Un refus doit être motivé." in response.text
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_another_company_s_partner_gets_404_everywhere(world: World) -> None:
    offer = OfferFactory(company=world.company, status="draft")
    application = ApplicationFactory(offer=offer, learner=world.learner)
    placement = PlacementFactory(company=world.company, learner=world.learner)
    stranger = UserFactory(role=Role.PARTNER)
    ContactFactory(company=world.other_company, user=stranger)
    client = signed_in(stranger)
    for url in (
        f"/offres/{offer.pk}/",
        f"/offres/{offer.pk}/modifier/",
        f"/candidatures/{application.pk}/",
        f"/stages/{placement.pk}/",
        f"/stages/{placement.pk}/modifier/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/candidatures/{application.pk}/accept/").status_code == 404
    assert "Forges de Nogent" not in client.get("/stages/").text


def test_staff_make_the_agreement_ready_and_a_learner_signs_it_on_the_page(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    world.learner.birth_date = datetime.date(2004, 1, 1)
    world.learner.save()
    placement = PlacementFactory(learner=world.learner, company=world.company)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(world.staff).post(f"/stages/{placement.pk}/ready/", follow=True)
    assert "Convention prête à signer" in response.text
    assert mail.outbox  # the signers' links
    learner = signed_in(world.learner_user)
    page = learner.get(f"/stages/{placement.pk}/")
    block = placement.versions.get().signatures.get(user=world.learner_user)
    assert f"/stages/{placement.pk}/signer/{block.pk}/" in page.text
    signed = learner.post(f"/stages/{placement.pk}/signer/{block.pk}/", follow=True)
    assert "Convention signée." in signed.text
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.PARTIALLY_SIGNED


def test_the_placement_form_refuses_a_minor_s_long_day_with_the_rule(world: World) -> None:
    minor = LearnerFactory(birth_date=datetime.date(2010, 3, 14))
    placement = PlacementFactory(learner=minor)
    form = {
        "tutor": placement.tutor.pk,
        "signatory": placement.signatory.pk,
        "referent": placement.referent.pk,
        "start_date": "2027-03-08",
        "end_date": "2027-03-26",
        "activities": "Usinage",
        "gratification_hourly": "0",
        "slots-TOTAL_FORMS": "1",
        "slots-INITIAL_FORMS": "0",
        "slots-MIN_NUM_FORMS": "0",
        "slots-MAX_NUM_FORMS": "21",
        "slots-0-weekday": "0",
        "slots-0-start_time": "07:00",
        "slots-0-end_time": "17:00",
    }
    response = signed_in(world.staff).post(f"/stages/{placement.pk}/modifier/", form)
    assert response.status_code == 200
    assert "8 heures par jour (Code du travail, art. L3162-1)" in response.text


PAGES: dict[str, tuple[str, Callable[[], Any]]] = {
    "offres": ("/offres/", OfferFactory),
    "candidatures": ("/candidatures/", ApplicationFactory),
    "stages": ("/stages/", PlacementFactory),
}


@pytest.mark.parametrize("page", PAGES)
def test_a_placement_list_page_costs_the_same_for_one_row_and_for_many(page: str) -> None:
    url, make = PAGES[page]
    client = signed_in(UserFactory(role=Role.STAFF))
    make()
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _ in range(8):
        make()
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(one)


def test_staff_follow_up_names_missing_signers_learners_without_placement_and_short_weeks(
    world: World,
) -> None:
    placement_ready(by=world.staff, learner=world.learner, company=world.company)
    page = signed_in(world.staff).get("/stages/suivi/")
    assert page.status_code == 200
    text = " ".join(html.unescape(page.text).split())
    assert "1 convention en attente de signatures" in text
    assert "manque chef d'établissement (Hélène Garnier, directrice)" in text
    # The other learner has no placement at all; the first has 3 weeks of 12.
    assert f"{world.other_learner} — Bac pro 2026" in text
    assert "3,0 semaine(s) sur 12 requises" in text
    assert signed_in(world.learner_user).get("/stages/suivi/").status_code == 404
    # The same lists head the staff's home page; the learner's shows the agreement to sign.
    home = html.unescape(signed_in(world.staff).get("/").text)
    assert "1 convention en attente de signatures" in " ".join(home.split())
    mine = html.unescape(signed_in(world.learner_user).get("/").text)
    assert "Conventions à signer" in mine and world.company.legal_name in mine


def test_the_follow_up_costs_the_same_for_one_learner_and_for_many(world: World) -> None:
    from tests.factories import EnrolmentFactory

    client = signed_in(world.staff)
    PlacementFactory(learner=world.learner)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/stages/suivi/").status_code == 200
    for _ in range(6):
        learner = EnrolmentFactory(cohort=world.cohort).learner
        PlacementFactory(learner=learner)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/stages/suivi/").status_code == 200
    assert len(many) == len(one)


def test_the_follow_up_is_computed_once_until_a_placement_changes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from internships import follow_up

    computed: list[int] = []
    real = follow_up._follow_up
    monkeypatch.setattr(follow_up, "_follow_up", lambda day: computed.append(1) or real(day))
    client = signed_in(world.staff)
    placement = PlacementFactory(learner=world.learner)

    client.get("/stages/suivi/")
    client.get("/")  # the staff's home shows the same follow-up
    assert len(computed) == 1

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1), tick=False):
        placement.end_date += datetime.timedelta(days=7)
        placement.save()
        client.get("/stages/suivi/")
    assert len(computed) == 2


def test_the_staff_home_shows_the_first_ten_of_each_list_and_the_full_counts(
    world: World,
) -> None:
    from tests.factories import EnrolmentFactory

    for n in range(11):
        EnrolmentFactory(cohort=world.cohort, learner__last_name=f"Zeller-{n:02d}")
    client = signed_in(world.staff)

    home = " ".join(html.unescape(client.get("/").text).split())
    whole = " ".join(html.unescape(client.get("/stages/suivi/").text).split())

    # Thirteen learners in training, none with a placement to come.
    assert "13 apprenants sans stage à venir" in home
    assert "13 apprenants sans stage à venir" in whole
    shown = [f"Zeller-{n:02d}" for n in range(11) if f"Zeller-{n:02d}" in home]
    assert len(shown) == 10 - 2  # Durand and Martin come first in their cohorts' order
    assert all(f"Zeller-{n:02d}" in whole for n in range(11))


def test_a_tutor_with_an_account_evaluates_from_the_partner_home(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    from courses.models import CompetencyEvidence
    from internships import services
    from tests.factories import CompetencyFactory

    world.contact.is_tutor = True
    world.contact.save()
    placement = PlacementFactory(
        company=world.company, tutor=world.contact, status=PlacementStatus.COMPLETED
    )
    competency = CompetencyFactory()
    placement.competencies.set([competency])
    with django_capture_on_commit_callbacks(execute=True):
        services.evaluation_request(placement)
    client = signed_in(world.partner)
    assert f"/stages/{placement.pk}/evaluation/" in client.get("/").text
    answer = client.post(
        f"/stages/{placement.pk}/evaluation/",
        {"tutor_name": "Julien Mercier", "absence_days": "0", f"level_{competency.pk}": "mastered"},
    )
    assert "Évaluation enregistrée" in answer.text
    assert CompetencyEvidence.objects.get(learner=placement.learner).level == "mastered"
    assert client.get(f"/stages/{placement.pk}/evaluation/").status_code == 404
    stranger = UserFactory(role=Role.PARTNER)
    ContactFactory(company=world.company, user=stranger)
    assert signed_in(stranger).get(f"/stages/{placement.pk}/evaluation/").status_code == 404


def test_the_referent_records_a_visit_and_an_absence_on_the_placement_page(world: World) -> None:
    from internships.models import Absence, Visit

    placement = PlacementFactory(referent=world.trainer)
    client = signed_in(world.trainer)
    client.post(
        f"/stages/{placement.pk}/visit/",
        {"kind": "call", "date": "2027-03-10", "notes": "Point avec le tuteur : RAS."},
    )
    outside = client.post(
        f"/stages/{placement.pk}/absence/", {"date": "2027-04-10", "hours": "7"}, follow=True
    )
    assert "Ce jour n'est pas dans la période du stage." in html.unescape(outside.text)
    client.post(f"/stages/{placement.pk}/absence/", {"date": "2027-03-11", "hours": "3.5"})
    assert Visit.objects.get(placement=placement).by == world.trainer
    assert Absence.objects.get(placement=placement).hours == 3.5
    page = client.get(f"/stages/{placement.pk}/").text
    assert "Point avec le tuteur" in page
    # Another trainer (not the referent) records nothing.
    other = PlacementFactory()
    assert (
        signed_in(world.other_trainer)
        .post(f"/stages/{other.pk}/visit/", {"kind": "call", "date": "2027-03-10", "notes": "x"})
        .status_code
        == 404
    )


def test_the_cohort_page_shows_placement_weeks_to_the_teaching_team_only(world: World) -> None:
    PlacementFactory(learner=world.learner, referent=world.trainer)
    staff_page = html.unescape(signed_in(world.staff).get(f"/promotions/{world.cohort.pk}/").text)
    assert "Stages de la promotion" in staff_page
    assert "3,0 / 12" in staff_page
    learner_page = html.unescape(
        signed_in(world.learner_user).get(f"/promotions/{world.cohort.pk}/").text
    )
    assert "Stages de la promotion" not in learner_page


def test_visit_notes_stay_with_the_teaching_team_and_a_second_absence_is_explained(
    world: World,
) -> None:
    from internships.models import Visit

    placement = PlacementFactory(
        learner=world.learner, company=world.company, referent=world.trainer
    )
    Visit.objects.create(placement=placement, kind="call", notes="Difficultés familiales")
    assert (
        "Difficultés familiales"
        not in signed_in(world.learner_user).get(f"/stages/{placement.pk}/").text
    )
    assert (
        "Difficultés familiales"
        not in signed_in(world.partner).get(f"/stages/{placement.pk}/").text
    )
    assert "Difficultés familiales" in signed_in(world.trainer).get(f"/stages/{placement.pk}/").text
    client = signed_in(world.trainer)
    client.post(f"/stages/{placement.pk}/absence/", {"date": "2027-03-10", "hours": "7"})
    again = client.post(
        f"/stages/{placement.pk}/absence/", {"date": "2027-03-10", "hours": "3"}, follow=True
    )
    assert again.status_code == 200
    assert "Une absence est déjà notée ce jour-là." in html.unescape(again.text)
