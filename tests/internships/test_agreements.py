from __future__ import annotations

import datetime
import io
import re

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from internships import services
from internships.models import (
    AgreementVersion,
    PlacementStatus,
    Signature,
    SignatureMethod,
    SignerRole,
    VersionStatus,
)
from school.models import DocumentStatus, Role
from tests.clients import Client
from tests.factories import (
    CohortFactory,
    CompetencyFactory,
    EnrolmentFactory,
    GuardianFactory,
    LearnerFactory,
    PlacementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s]+/signer/([A-Za-z0-9_-]+)/")


@pytest.fixture
def staff():
    return UserFactory(role=Role.STAFF, email="direction@test.fr")


@pytest.fixture
def minor_placement():
    """A 16-year-old's placement, with two guardians and an account each for the
    learner, one guardian and the tutor."""
    learner = LearnerFactory(
        first_name="Léa",
        last_name="Morel",
        birth_date=datetime.date(2010, 3, 14),
        user=UserFactory(role=Role.LEARNER, email="lea@test.fr"),
    )
    GuardianFactory(
        learner=learner,
        rank=1,
        first_name="Sophie",
        user=UserFactory(role=Role.GUARDIAN, email="sophie@test.fr"),
    )
    GuardianFactory(learner=learner, rank=2, first_name="Karim", email="karim@test.fr")
    cohort = CohortFactory(programme__title="CAP Conducteur d'installations de production")
    EnrolmentFactory(learner=learner, cohort=cohort)
    placement = PlacementFactory(
        learner=learner,
        company__legal_name="Forges de la Traire",
        tutor__first_name="Julien",
        tutor__last_name="Mercier",
        tutor__user=UserFactory(role=Role.PARTNER, email="julien@forges.test"),
        signatory__first_name="Anne",
        signatory__last_name="Vasseur",
        referent__first_name="Marc",
        referent__last_name="Aubertin",
        meals="Cantine de l'entreprise, prise en charge",
        transport="Navette de la zone industrielle",
        gratification_hourly="1.50",
    )
    placement.competencies.set([CompetencyFactory(code="C2.3", title="Conduire un tour CN")])
    return placement


def freeze(placement, staff, capture) -> AgreementVersion:
    with capture(execute=True):
        return services.placement_freeze(placement, by=staff)


def links() -> dict[str, str]:
    """Each recipient's signing token, from the e-mails sent."""
    found = {}
    for message in mail.outbox:
        if match := LINK.search(message.body):
            found[message.to[0]] = match.group(1)
    return found


def pdf_text(version: AgreementVersion) -> str:
    with version.document.file.open("rb") as pdf:
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read())).pages)
    return " ".join(text.split())


def test_ready_to_sign_freezes_a_numbered_convention_and_lists_every_signer(
    minor_placement, staff, django_capture_on_commit_callbacks
) -> None:
    version = freeze(minor_placement, staff, django_capture_on_commit_callbacks)
    minor_placement.refresh_from_db()
    assert minor_placement.status == PlacementStatus.READY_TO_SIGN
    assert version.number == 1 and not version.is_amendment
    assert version.document.kind == "convention_stage"
    assert version.document.status == DocumentStatus.VALID
    assert [(s.role, s.name) for s in version.signatures.all()] == [
        (SignerRole.SCHOOL_HEAD, "Hélène Garnier, directrice"),
        (SignerRole.COMPANY, "Anne Vasseur"),
        (SignerRole.TUTOR, "Julien Mercier"),
        (SignerRole.LEARNER, "Léa Morel"),
        (SignerRole.GUARDIAN, f"Sophie {minor_placement.learner.last_name}"),
        (SignerRole.GUARDIAN, f"Karim {minor_placement.learner.last_name}"),
    ]
    # Everyone with an address gets their own link; the school head signs from the app.
    assert set(links()) == {
        "julien@forges.test",
        "lea@test.fr",
        "sophie@test.fr",
        "karim@test.fr",
        minor_placement.signatory.email,
    }


def test_the_convention_pdf_carries_every_mention_of_design(
    minor_placement, staff, django_capture_on_commit_callbacks
) -> None:
    version = freeze(minor_placement, staff, django_capture_on_commit_callbacks)
    text = pdf_text(version)
    mentions = [
        # programme title and hours
        "CAP Conducteur d'installations de production",
        "2100 heures de formation",
        # referent teacher and tutor
        "Enseignant référent : Marc Aubertin",
        "Tuteur : Julien Mercier",
        # competencies to acquire, activities
        "C2.3 — Conduire un tour CN",
        "Usinage de séries sur tour CN",
        # dates and effective presence
        "du 08/03/2027 au 26/03/2027",
        "15 jours, soit 105 h",
        # weekly hours, night / Sunday / holiday presence
        "Durée hebdomadaire de présence : 35 h",
        "Aucune présence de nuit",
        "Aucune présence le dimanche",
        "Aucune présence les jours fériés",
        # supervision, gratification, benefits
        "Encadrement et suivi",
        "1,50 € par heure de présence effective, soit 157,50 €",
        "Cantine de l'entreprise",
        "Navette de la zone industrielle",
        "Hébergement",
        # social protection and insurance
        "accidents du travail",
        "responsabilité civile",
        # absences, internal rules, suspension and termination, interruption
        "Absences et congés",
        "règlement intérieur",
        "suspendre puis résilier",
        "Si le stage est interrompu",
        # conditions of the attestation
        "7 heures de présence valent un jour, 22 jours valent un mois",
        # the minor's limits and every signer, guardians included
        "35 heures par semaine",
        "Chef d'établissement",
        "Représentant de l'entreprise Anne Vasseur",
        "Responsable légal",
        "Karim",
        version.document.number,
    ]
    missing = [mention for mention in mentions if mention not in text]
    assert not missing, missing


def test_an_adult_signs_without_guardians(staff, django_capture_on_commit_callbacks) -> None:
    placement = PlacementFactory(learner=LearnerFactory(birth_date=datetime.date(2004, 5, 1)))
    GuardianFactory(learner=placement.learner)
    version = freeze(placement, staff, django_capture_on_commit_callbacks)
    assert SignerRole.GUARDIAN not in {s.role for s in version.signatures.all()}


def test_a_minor_without_a_guardian_cannot_be_made_ready(staff) -> None:
    placement = PlacementFactory(learner=LearnerFactory(birth_date=datetime.date(2010, 1, 1)))
    with pytest.raises(ValidationError, match="responsable légal doit signer"):
        services.placement_freeze(placement, by=staff)
    assert not AgreementVersion.objects.exists()


def test_a_placement_without_tutor_cannot_be_made_ready(staff) -> None:
    placement = PlacementFactory(tutor=None)
    with pytest.raises(ValidationError, match="il manque : le tuteur"):
        services.placement_freeze(placement, by=staff)


def test_signing_from_an_account_then_by_link_until_fully_signed(
    minor_placement, staff, django_capture_on_commit_callbacks
) -> None:
    version = freeze(minor_placement, staff, django_capture_on_commit_callbacks)
    blocks = {(s.role, s.name.split()[0]): s for s in version.signatures.all()}
    head = blocks[(SignerRole.SCHOOL_HEAD, "Hélène")]
    services.signature_sign(head, by=staff, ip_address="10.0.0.1", user_agent="Firefox")
    minor_placement.refresh_from_db()
    assert minor_placement.status == PlacementStatus.PARTIALLY_SIGNED
    head.refresh_from_db()
    assert head.method == SignatureMethod.ELECTRONIC
    assert (head.ip_address, head.user_agent) == ("10.0.0.1", "Firefox")
    assert head.pdf_sha256 == version.document.sha256

    learner_block = blocks[(SignerRole.LEARNER, "Léa")]
    with pytest.raises(ValidationError, match="pas le vôtre"):
        services.signature_sign(learner_block, by=staff, ip_address=None, user_agent="")

    tokens = links()
    client = Client(REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="Mobile Safari")
    for email, token in tokens.items():
        assert client.get(f"/signer/{token}/").status_code == 200
        assert client.get(f"/signer/{token}/convention.pdf").status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/signer/{token}/", {"consent": "yes"})
        assert response.status_code == 200, email
        # Once used, the link is gone: 404, page and PDF alike.
        assert client.get(f"/signer/{token}/").status_code == 404
        assert client.post(f"/signer/{token}/", {"consent": "yes"}).status_code == 404
        assert client.get(f"/signer/{token}/convention.pdf").status_code == 404

    version.refresh_from_db()
    minor_placement.refresh_from_db()
    assert version.status == VersionStatus.SIGNED
    assert minor_placement.status == PlacementStatus.SIGNED
    by_link = Signature.objects.get(version=version, role=SignerRole.TUTOR)
    assert by_link.ip_address == "192.0.2.7" and by_link.user_agent == "Mobile Safari"
    assert by_link.signed_by is None
    assert any("signée par toutes les parties" in message.body for message in mail.outbox)


def test_a_link_needs_the_signer_s_consent(
    minor_placement, staff, django_capture_on_commit_callbacks
) -> None:
    freeze(minor_placement, staff, django_capture_on_commit_callbacks)
    token = links()["lea@test.fr"]
    response = Client().post(f"/signer/{token}/", {})
    assert response.status_code == 200
    assert not Signature.objects.filter(signed_at__isnull=False).exists()


def test_an_unknown_or_expired_link_answers_404(
    minor_placement, staff, django_capture_on_commit_callbacks
) -> None:
    freeze(minor_placement, staff, django_capture_on_commit_callbacks)
    assert Client().get("/signer/not-a-token/").status_code == 404
    token = links()["lea@test.fr"]
    assert Client().get(f"/signer/{token}/").status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(days=31)):
        assert Client().get(f"/signer/{token}/").status_code == 404


def test_a_link_sent_anew_while_the_old_one_is_being_used_no_longer_signs(
    minor_placement, staff, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    freeze(minor_placement, staff, django_capture_on_commit_callbacks)
    old = links()["lea@test.fr"]
    look_up = services.signature_for_link

    def resent_meanwhile(token: str) -> Signature | None:
        # The office sends the link again between the lookup and the signature's lock.
        found = look_up(token)
        if found is not None:
            services.signature_resend_link(found)
        return found

    monkeypatch.setattr(services, "signature_for_link", resent_meanwhile)

    with pytest.raises(ValidationError, match="plus valable"):
        services.signature_sign_with_link(old, ip_address=None, user_agent="")
    assert not Signature.objects.filter(signed_at__isnull=False).exists()


def test_staff_record_a_paper_signature_with_its_scan(
    minor_placement, staff, django_capture_on_commit_callbacks
) -> None:
    version = freeze(minor_placement, staff, django_capture_on_commit_callbacks)
    block = version.signatures.get(role=SignerRole.COMPANY)
    not_a_scan = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 executable", "application/pdf")
    with pytest.raises(ValidationError, match="formats possibles JPEG, PDF, PNG"):
        services.signature_record_paper(block, scan=not_a_scan, by=staff)
    scan = SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n% signed copy\n", "application/pdf")
    services.signature_record_paper(block, scan=scan, by=staff)
    block.refresh_from_db()
    assert block.method == SignatureMethod.PAPER and block.scan.name.endswith(".pdf")
    assert block.signed_by == staff and block.pdf_sha256 == version.document.sha256


def test_any_change_to_a_version_waiting_for_signatures_voids_them(
    minor_placement, staff, django_capture_on_commit_callbacks
) -> None:
    version = freeze(minor_placement, staff, django_capture_on_commit_callbacks)
    head = version.signatures.get(role=SignerRole.SCHOOL_HEAD)
    services.signature_sign(head, by=staff, ip_address=None, user_agent="")
    token = links()["lea@test.fr"]

    minor_placement.activities = "Usinage et contrôle sur machine à mesurer tridimensionnelle."
    services.placement_save(
        minor_placement,
        slots=[
            {"weekday": s.weekday, "start_time": s.start_time, "end_time": s.end_time}
            for s in minor_placement.slots.all()
        ],
    )
    version.refresh_from_db()
    minor_placement.refresh_from_db()
    assert version.status == VersionStatus.VOID
    assert minor_placement.status == PlacementStatus.DRAFT
    assert Client().get(f"/signer/{token}/").status_code == 404
    with pytest.raises(ValidationError, match="n'est plus à signer"):
        services.signature_sign(
            version.signatures.get(role=SignerRole.LEARNER),
            by=minor_placement.learner.user,
            ip_address=None,
            user_agent="",
        )
    # Made ready again, it is version 2, to sign by everyone again.
    again = freeze(minor_placement, staff, django_capture_on_commit_callbacks)
    assert again.number == 2 and not again.is_amendment
    assert not again.signatures.filter(signed_at__isnull=False).exists()


def test_once_signed_a_change_goes_through_an_amendment(
    minor_placement, staff, django_capture_on_commit_callbacks
) -> None:
    version = freeze(minor_placement, staff, django_capture_on_commit_callbacks)
    for block in version.signatures.all():
        scan = SimpleUploadedFile("s.pdf", b"%PDF-1.7\n", "application/pdf")
        services.signature_record_paper(block, scan=scan, by=staff)
    minor_placement.refresh_from_db()
    assert minor_placement.status == PlacementStatus.SIGNED
    slots = [
        {"weekday": s.weekday, "start_time": s.start_time, "end_time": s.end_time}
        for s in minor_placement.slots.all()
    ]
    with pytest.raises(ValidationError, match="passe par un avenant"):
        services.placement_save(minor_placement, slots=slots)

    services.placement_amend(minor_placement, by=staff)
    minor_placement.refresh_from_db()
    minor_placement.end_date = datetime.date(2027, 4, 2)
    services.placement_save(minor_placement, slots=slots)
    amendment = freeze(minor_placement, staff, django_capture_on_commit_callbacks)
    version.refresh_from_db()
    assert version.status == VersionStatus.SIGNED  # what was signed stays signed
    assert amendment.number == 2 and amendment.is_amendment
    assert "Avenant" in pdf_text(amendment)
