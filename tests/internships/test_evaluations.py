"""The end of a placement: its tutor's evaluation by link, the reminders, the competency
evidence it gives, and the attestation de stage."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from courses.models import CompetencyEvidence, CompetencyLevel, EvidenceSource
from internships import services
from internships.documents import placement_attestation_context
from internships.models import Absence, PlacementStatus, TutorEvaluation
from school import services as school_services
from school.models import Role
from tests.clients import Client
from tests.factories import (
    CohortFactory,
    CompetencyFactory,
    EnrolmentFactory,
    LearnerFactory,
    PlacementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/evaluation/([A-Za-z0-9_-]+)/")
AFTER_THE_PLACEMENT = datetime.datetime(2027, 3, 29, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def completed(django_capture_on_commit_callbacks):
    """A placement in March 2027, signed, with two competencies; on 29 March the daily
    command marks it completed and e-mails its tutor the link."""
    placement = PlacementFactory(
        learner=LearnerFactory(first_name="Lucas", last_name="Bernard"),
        company__legal_name="Forges de la Traire",
        tutor__email="karim@forges.test",
        status=PlacementStatus.SIGNED,
        gratification_hourly=Decimal("1.20"),
    )
    placement.competencies.set(
        [
            CompetencyFactory(code="C2.1", title="Conduire un tour CN"),
            CompetencyFactory(code="C3.1", title="Contrôler au micromètre"),
        ]
    )
    with time_machine.travel(AFTER_THE_PLACEMENT), django_capture_on_commit_callbacks(execute=True):
        assert services.placements_advance() == 1
    placement.refresh_from_db()
    return placement


def token() -> str:
    return LINK.findall(mail.outbox[-1].body)[-1]


def grid(placement, level: str = CompetencyLevel.ACQUIRED) -> dict:
    data = {"tutor_name": "Karim Djebbar", "absence_days": "1", "comments": "Sérieux"}
    for competency in placement.competencies.all():
        data[f"level_{competency.pk}"] = level
    return data


def test_at_the_end_of_the_placement_the_tutor_gets_a_link(completed) -> None:
    assert completed.status == PlacementStatus.COMPLETED
    evaluation = TutorEvaluation.objects.get(placement=completed)
    assert evaluation.sent_to == "karim@forges.test"
    assert mail.outbox[-1].to == ["karim@forges.test"]
    assert "Lucas Bernard" in mail.outbox[-1].subject


def test_the_tutor_evaluates_once_and_the_link_then_answers_404(completed) -> None:
    url = f"/evaluation/{token()}/"
    with time_machine.travel(AFTER_THE_PLACEMENT):
        page = Client().get(url)
        assert page.status_code == 200
        assert "C2.1 — Conduire un tour CN" in page.text and "Maîtrisé" in page.text
        done = Client().post(url, grid(completed))
        assert done.status_code == 200 and "Évaluation enregistrée" in done.text
        assert Client().get(url).status_code == 404
        assert Client().post(url, grid(completed)).status_code == 404
    completed.refresh_from_db()
    assert completed.status == PlacementStatus.EVALUATED
    evidence = CompetencyEvidence.objects.filter(learner=completed.learner)
    assert evidence.count() == 2
    assert {e.source for e in evidence} == {EvidenceSource.PLACEMENT}
    assert {e.assessor_name for e in evidence} == {"Karim Djebbar"}
    assert all("Forges de la Traire" in e.reference for e in evidence)


def test_every_competency_of_the_grid_must_be_rated(completed) -> None:
    data = grid(completed)
    data.pop(next(key for key in data if key.startswith("level_")))
    with time_machine.travel(AFTER_THE_PLACEMENT):
        response = Client().post(f"/evaluation/{token()}/", data)
    assert response.status_code == 200
    assert not CompetencyEvidence.objects.exists()


def test_a_revoked_or_expired_link_answers_404(completed) -> None:
    link = token()
    with time_machine.travel(AFTER_THE_PLACEMENT):
        services.evaluation_revoke(completed.evaluation)
        assert Client().get(f"/evaluation/{link}/").status_code == 404
    with time_machine.travel(AFTER_THE_PLACEMENT):
        assert services.evaluation_for_link(link) is None
        with pytest.raises(ValidationError, match="n'est plus ouverte"):
            services.evaluation_record(completed.evaluation, levels={}, tutor_name="X")


def test_the_link_expires_after_thirty_days(completed) -> None:
    link = token()
    with time_machine.travel(AFTER_THE_PLACEMENT + datetime.timedelta(days=31)):
        assert Client().get(f"/evaluation/{link}/").status_code == 404


def test_tutors_are_reminded_after_three_then_ten_days_with_a_fresh_link(
    completed, django_capture_on_commit_callbacks
) -> None:
    first = token()
    sent = len(mail.outbox)
    for days, expected in [(2, 0), (3, 1), (4, 0), (10, 1), (20, 0)]:
        moment = AFTER_THE_PLACEMENT + datetime.timedelta(days=days, hours=1)
        with time_machine.travel(moment), django_capture_on_commit_callbacks(execute=True):
            assert services.evaluation_reminders() == expected, days
    reminders = mail.outbox[sent:]
    assert len(reminders) == 2 and all(m.subject.startswith("Rappel") for m in reminders)
    with time_machine.travel(AFTER_THE_PLACEMENT + datetime.timedelta(days=11)):
        assert Client().get(f"/evaluation/{first}/").status_code == 404  # replaced
        assert Client().get(f"/evaluation/{token()}/").status_code == 200


def test_no_reminder_once_the_evaluation_is_filled(
    completed, django_capture_on_commit_callbacks
) -> None:
    with time_machine.travel(AFTER_THE_PLACEMENT):
        Client().post(f"/evaluation/{token()}/", grid(completed))
    with time_machine.travel(AFTER_THE_PLACEMENT + datetime.timedelta(days=12)):
        assert services.evaluation_reminders() == 0


def test_the_attestation_states_effective_duration_and_gratification(completed) -> None:
    cohort = CohortFactory(programme__title="CAP Conducteur d'installations de production")
    EnrolmentFactory(learner=completed.learner, cohort=cohort)
    # 105 h planned (3 weeks of 35 h); a day and a half missed: 10.5 h.
    Absence.objects.create(placement=completed, date=datetime.date(2027, 3, 10), hours=7)
    Absence.objects.create(placement=completed, date=datetime.date(2027, 3, 11), hours="3.5")
    context = placement_attestation_context(
        completed.learner, start=datetime.date(2027, 3, 1), end=datetime.date(2027, 3, 31)
    )
    [attested] = context["placements"]
    assert attested.presence.hours == Decimal("94.50")
    assert attested.presence.days == Decimal("13.5")
    assert attested.presence.months_and_days == (0, Decimal("13.5"))
    assert attested.gratification == Decimal("113.40")

    with time_machine.travel(AFTER_THE_PLACEMENT):
        document = school_services.document_issue(
            kind="attestation_stage",
            subject=completed.learner,
            by=UserFactory(role=Role.STAFF),
            start=datetime.date(2027, 3, 1),
            end=datetime.date(2027, 3, 31),
        )
    with document.file.open("rb") as pdf:
        text = " ".join(
            " ".join(
                page.extract_text() for page in PdfReader(io.BytesIO(pdf.read())).pages
            ).split()
        )
    for mention in [
        "D.124-9",
        "Forges de la Traire",  # host identity
        completed.company.address,  # and address
        "Lucas Bernard",
        "Date de naissance",
        "CAP Conducteur d'installations de production",  # programme
        "MétalTech",  # school
        "du 08/03/2027 au 26/03/2027",
        "94,50 heures, soit 13,5 jours (0 mois et 13,5 jours)",
        "Montant total de la gratification versée : 113,40 €",
        "Fait à Nogent",
        "Hélène Garnier",
    ]:
        assert mention in text, mention


def test_no_attestation_without_a_completed_placement_in_the_period(completed) -> None:
    with pytest.raises(ValidationError, match="pas de stage terminé"):
        placement_attestation_context(
            completed.learner, start=datetime.date(2027, 4, 1), end=datetime.date(2027, 6, 30)
        )


def test_the_attestation_is_issued_in_bulk_for_a_cohort(completed) -> None:
    from school.batches import batch_create
    from school.models import DocumentBatchItem

    cohort = CohortFactory()
    EnrolmentFactory(learner=completed.learner, cohort=cohort)
    EnrolmentFactory(cohort=cohort)  # no placement: fails with the reason
    with time_machine.travel(AFTER_THE_PLACEMENT):
        batch = batch_create(
            kind="attestation_stage",
            cohort=cohort,
            by=UserFactory(role=Role.STAFF),
            start=datetime.date(2027, 3, 1),
            end=datetime.date(2027, 3, 31),
        )
    items = {item.learner_id: item for item in DocumentBatchItem.objects.filter(batch=batch)}
    assert items[completed.learner_id].document is not None
    assert items[completed.learner_id].document.kind == "attestation_stage"
    others = [item for learner, item in items.items() if learner != completed.learner_id]
    assert "pas de stage terminé" in others[0].error


def test_cancelling_the_placement_kills_the_tutor_s_link(
    django_capture_on_commit_callbacks,
) -> None:
    placement = PlacementFactory(status=PlacementStatus.IN_PROGRESS, tutor__email="t@f.test")
    with django_capture_on_commit_callbacks(execute=True):
        evaluation = services.evaluation_request(placement)
    link = token()
    services.placement_cancel(placement, reason="Erreur de saisie", by=UserFactory(role=Role.STAFF))
    assert Client().get(f"/evaluation/{link}/").status_code == 404
    with pytest.raises(ValidationError, match="n'est plus ouverte"):
        services.evaluation_record(evaluation, levels={}, tutor_name="X")
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.CANCELLED
