"""Three everyday journeys in a real browser, on the demo data, each step photographed
into the artefacts folder (``ARTIFACTS_DIR``, default ``artifacts/``): the user guide
(`docs/guide/`) shows these very screenshots (``make guide`` takes them again).

- partner (desktop): publish an offer, accept an application, sign the agreement,
  order parts from the workshop with a drawing;
- learner (phone): read the week, apply to an offer, sign the agreement, download an
  attestation;
- staff (desktop, then a workshop tablet): create a cohort, enrol a learner, plan a
  weekly series, take the roll call, issue an attestation and open its verification
  page.
"""

from __future__ import annotations

import datetime
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfWriter

from courses.models import Course, WorkshopOrder
from internships import services as placements
from internships.models import Application, Placement, PlacementOffer, PlacementStatus
from school import services as school_services
from school.models import Cohort, Enrolment, IssuedDocument, Learner, User
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

DEMO_PASSWORD = "metaltech-demo"
SHOTS = Path(os.environ.get("ARTIFACTS_DIR", "artifacts")) / "screenshots"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def demo(live_server: Any) -> None:
    call_command("seed_demo", verbosity=0)
    SHOTS.mkdir(parents=True, exist_ok=True)


_contexts: list[Any] = []


@pytest.fixture(autouse=True)
def close_contexts() -> Iterator[None]:
    """Every browser context a journey opened is closed before the live server stops:
    an open keep-alive connection would outlive the test database's connection."""
    yield
    while _contexts:
        _contexts.pop().close()


def open_as(browser: Any, live_server: Any, email: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(locale="fr-FR", base_url=live_server.url, viewport=viewport)
    _contexts.append(context)
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, email, DEMO_PASSWORD)
    page.get_by_role("heading", name="Bonjour").wait_for()
    return page


def shot(page: Any, name: str) -> None:
    # JPEG: a tenth of a PNG's weight, and the user guide commits them.
    page.screenshot(path=str(SHOTS / f"{name}.jpg"), full_page=True, type="jpeg", quality=60)


def drawing_pdf(tmp_path: Path) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=842, height=595)
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / "plan-bride-BR-77.pdf"
    path.write_bytes(buffer.getvalue())
    return path


def test_partner_publishes_accepts_signs_and_orders(
    browser: Any, live_server: Any, demo: None, tmp_path: Path
) -> None:
    page = open_as(browser, live_server, "tuteur@partenaire.test", DESKTOP)
    shot(page, "partenaire-1-accueil")

    # Publish an offer.
    page.get_by_role("link", name="Offres de stage").first.click()
    page.get_by_role("link", name="Nouvelle offre").click()
    page.get_by_label("Intitulé").fill("Régleur sur centre d'usinage 3 axes")
    page.get_by_label("Activités confiées").fill("Monter les bridages, lancer les programmes.")
    page.get_by_label("Adresse du lieu de stage").fill("9 rue des Tourneurs")
    page.get_by_label("Code postal").fill("52800")
    page.get_by_label("Commune").fill("Nogent")
    start = timezone.localdate() + datetime.timedelta(weeks=20)
    page.locator("#id_start_date").fill(start.isoformat())
    page.locator("#id_end_date").fill((start + datetime.timedelta(days=18)).isoformat())
    shot(page, "partenaire-2-nouvelle-offre")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("button", name="Publier").click()
    page.get_by_text("Offre publiée.").wait_for()
    offer = PlacementOffer.objects.get(title="Régleur sur centre d'usinage 3 axes")
    assert offer.status == "published"

    # A learner applied meanwhile; the partner accepts.
    learner = Learner.objects.get(first_name="Chloé", last_name="Barbier")
    application = placements.application_submit(offer=offer, learner=learner, message="Motivée !")
    page.goto(f"/candidatures/{application.pk}/")
    shot(page, "partenaire-3-candidature")
    page.get_by_role("button", name="Accepter").click()
    page.get_by_text("le stage est créé en brouillon").wait_for()
    assert Application.objects.get(pk=application.pk).status == "accepted"

    # The school makes the agreement ready; the tutor signs it from the placement page.
    placement = Placement.objects.get(application=application)
    staff = User.objects.get(email="direction@metaltech.test")
    placement.tutor = placement.company.contacts.get(user__email="tuteur@partenaire.test")
    placement.signatory = placement.company.contacts.filter(is_signatory=True).first()
    placements.placement_save(
        placement,
        slots=[
            {"weekday": d, "start_time": datetime.time(8), "end_time": datetime.time(16)}
            for d in range(5)
        ],
        by=staff,
    )
    placements.placement_freeze(placement, by=staff)
    page.goto(f"/stages/{placement.pk}/")
    shot(page, "partenaire-4-convention-a-signer")
    page.get_by_role("button", name="Signer").first.click()
    page.get_by_text("Convention signée. Merci.").wait_for()
    assert Placement.objects.get(pk=placement.pk).status == PlacementStatus.PARTIALLY_SIGNED

    # Order parts from the workshop, with a drawing.
    page.get_by_role("link", name="Atelier").click()
    page.get_by_role("link", name="Nouvelle commande").click()
    page.get_by_label("Référence de la pièce").fill("BR-77")
    page.get_by_label("Description").fill("Bride Ø80, alésage Ø30 H7.")
    page.locator("#id_drawing").set_input_files(str(drawing_pdf(tmp_path)))
    page.get_by_label("Matière").fill("Acier C45")
    page.get_by_label("Quantité").fill("25")
    page.get_by_label("Livraison souhaitée le").fill(
        (timezone.localdate() + datetime.timedelta(weeks=8)).isoformat()
    )
    shot(page, "partenaire-5-commande")
    page.get_by_role("button", name="Déposer la commande").click()
    page.get_by_text("Commande déposée").wait_for()
    shot(page, "partenaire-6-commande-deposee")
    assert WorkshopOrder.objects.filter(reference="BR-77", status="submitted").exists()


def test_learner_on_a_phone_reads_the_week_applies_signs_and_downloads(
    browser: Any, live_server: Any, demo: None
) -> None:
    lea = Learner.objects.get(user__email="eleve@metaltech.test")
    staff = User.objects.get(email="direction@metaltech.test")
    document = school_services.document_issue(
        kind="attestation_fin_formation", subject=Enrolment.objects.get(learner=lea), by=staff
    )
    page = open_as(browser, live_server, "eleve@metaltech.test", PHONE)
    shot(page, "apprenant-1-accueil")

    page.get_by_role("link", name="Voir l'emploi du temps").click()
    page.get_by_role("heading", name="Mon emploi du temps").wait_for()
    shot(page, "apprenant-2-semaine")

    page.goto("/offres/")
    page.get_by_role(
        "link", name="Découverte de la forge et de l'usinage des pièces forgées"
    ).click()
    page.get_by_label("Votre message à l'entreprise").fill("Je voudrais découvrir la forge.")
    page.get_by_role("button", name="Envoyer ma candidature").click()
    page.get_by_text("Candidature envoyée.").wait_for()
    shot(page, "apprenant-3-candidature")
    assert Application.objects.filter(
        learner=lea, offer__company__legal_name="Forges de la Traire"
    ).exists()

    placement = Placement.objects.get(learner=lea, status=PlacementStatus.PARTIALLY_SIGNED)
    page.goto(f"/stages/{placement.pk}/")
    shot(page, "apprenant-4-convention")
    page.get_by_role("button", name="Signer").first.click()
    page.get_by_text("Convention signée. Merci.").wait_for()

    page.goto("/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Attestation de fin de formation").click()
    assert download.value.suggested_filename.endswith(f"{document.number}.pdf")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


# A Tuesday afternoon of the next school year: the staff's journey plans a session for
# this very afternoon and calls its roll, whatever day the suite runs.
TUESDAY_AFTERNOON = datetime.datetime(2027, 9, 7, 13, 45, tzinfo=ZoneInfo("Europe/Paris"))


def test_staff_create_a_cohort_enrol_plan_call_the_roll_and_issue(
    browser: Any, live_server: Any
) -> None:
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True):
        call_command("seed_demo", verbosity=0)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page = open_as(browser, live_server, "direction@metaltech.test", DESKTOP)
        shot(page, "equipe-1-accueil")

        # A cohort, with a learner, in the back office.
        page.goto("/admin/school/cohort/add/")
        page.locator("#id_programme").select_option(
            label="CAP Conducteur d'installations de production"
        )
        page.locator("#id_name").fill("CAP CIP 2027-2029")
        page.locator("#id_start_date").fill("01/09/2027")
        page.locator("#id_end_date").fill("30/06/2029")
        page.locator(".add-row a").first.click()
        page.locator(".select2-selection").last.click()
        page.locator(".select2-search__field").fill("Lambert")
        page.get_by_role("option", name="Théo Lambert").click()
        page.locator("#id_enrolments-0-start_date").fill("01/09/2027")
        shot(page, "equipe-2-promotion")
        page.get_by_role("button", name="Enregistrer", exact=True).click()
        page.locator(".messagelist .success").wait_for()
        cohort = Cohort.objects.get(name="CAP CIP 2027-2029")
        assert Enrolment.objects.filter(cohort=cohort, learner__last_name="Lambert").exists()

        # A weekly series: Tuesday afternoons in September, in one go, conflicts checked.
        page.goto("/admin/courses/sessionseries/add/")
        turning = Course.objects.get(programme__code="cap-cip", code="TOUR")
        page.locator("#id_course").select_option(value=str(turning.pk))
        page.locator("#id_cohort").select_option(label=str(cohort))
        page.locator("#id_trainer").select_option(label="Nadia Ferrand")
        page.locator("#id_room").select_option(label="Atelier commande numérique")
        page.locator("#id_weekday").select_option(value="1")
        page.locator("#id_start_time").fill("13:30")
        page.locator("#id_end_time").fill("16:30")
        page.locator("#id_first_date").fill("2027-09-07")
        page.locator("#id_last_date").fill("2027-09-28")
        shot(page, "equipe-3-serie")
        page.get_by_role("button", name="Créer la série").click()
        page.get_by_text("4 séances créées.").wait_for()

        # The roll call on a workshop tablet.
        session = cohort.sessions.order_by("start").first()
        assert session is not None
        tablet = open_as(browser, live_server, "direction@metaltech.test", TABLET)
        tablet.goto(f"/seances/{session.pk}/emargement/")
        tablet.get_by_role("button", name="Présent").first.click()
        tablet.get_by_role("button", name="Présent", pressed=True).wait_for()
        shot(tablet, "equipe-4-appel-tablette")

        # An attestation for the cohort, then its public verification page.
        page.goto(f"/documents/lots/nouveau/?cohort={cohort.pk}")
        page.locator("#id_kind").select_option(value="attestation_fin_formation")
        shot(page, "equipe-5-attestations")
        page.get_by_role("button", name="Lancer l'émission").click()
        page.get_by_text("1 / 1 documents émis").wait_for()
        shot(page, "equipe-6-lot")
        document = IssuedDocument.objects.get(learner__last_name="Lambert")
        page.goto(f"/verify/{document.verification_code}/")
        page.get_by_text(document.number).first.wait_for()
        shot(page, "equipe-7-verification")
