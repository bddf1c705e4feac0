from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from internships import services
from internships.models import (
    Application,
    ApplicationStatus,
    OfferStatus,
    Placement,
    PlacementStatus,
)
from school.models import Role
from tests.factories import (
    ApplicationFactory,
    CohortFactory,
    ContactFactory,
    EnrolmentFactory,
    LearnerFactory,
    OfferFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(role=Role.STAFF)


def test_a_draft_offer_is_published_once(staff) -> None:
    offer = OfferFactory(status=OfferStatus.DRAFT)
    services.offer_publish(offer)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.PUBLISHED and offer.published_at is not None
    with pytest.raises(ValidationError, match="brouillon"):
        services.offer_publish(offer)


def test_a_learner_applies_once_and_the_partner_is_told(django_capture_on_commit_callbacks) -> None:
    offer = OfferFactory()
    partner = UserFactory(role=Role.PARTNER, email="tuteur@forges.test")
    ContactFactory(company=offer.company, user=partner)
    learner = LearnerFactory(first_name="Léa", last_name="Morel")
    with django_capture_on_commit_callbacks(execute=True):
        application = services.application_submit(offer=offer, learner=learner, message="Bonjour")
    assert application.status == ApplicationStatus.SUBMITTED
    assert [message.to for message in mail.outbox] == [["tuteur@forges.test"]]
    assert "Léa Morel" in mail.outbox[0].body
    with pytest.raises(ValidationError, match="déjà candidaté"):
        services.application_submit(offer=offer, learner=learner)


def test_a_withdrawn_application_frees_the_learner_to_apply_again() -> None:
    application = ApplicationFactory()
    services.application_withdraw(application)
    again = services.application_submit(offer=application.offer, learner=application.learner)
    assert again.pk != application.pk


def test_nobody_applies_to_an_offer_that_is_not_published() -> None:
    offer = OfferFactory(status=OfferStatus.DRAFT)
    with pytest.raises(ValidationError, match="pas ouverte"):
        services.application_submit(offer=offer, learner=LearnerFactory())


def test_accepting_creates_the_draft_placement_from_the_offer(staff) -> None:
    offer = OfferFactory(places=2)
    ContactFactory(company=offer.company, is_tutor=True)
    cohort = CohortFactory()
    application = ApplicationFactory(offer=offer)
    EnrolmentFactory(learner=application.learner, cohort=cohort)
    placement = services.application_accept(application, by=staff)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACCEPTED
    assert application.decided_by == staff
    assert placement.status == PlacementStatus.DRAFT
    assert (placement.start_date, placement.end_date) == (offer.start_date, offer.end_date)
    assert placement.tutor is not None and placement.referent == cohort.head_trainer
    offer.refresh_from_db()
    assert offer.status == OfferStatus.PUBLISHED  # one place left


def test_accepting_the_last_place_fills_the_offer_and_refuses_the_next(staff) -> None:
    offer = OfferFactory(places=1)
    first, second = ApplicationFactory(offer=offer), ApplicationFactory(offer=offer)
    services.application_accept(first, by=staff)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.FILLED
    with pytest.raises(ValidationError, match="déjà pourvue"):
        services.application_accept(second, by=staff)
    assert Application.objects.accepted().count() == 1


def test_a_learner_holds_one_accepted_placement_per_period(staff) -> None:
    learner = LearnerFactory()
    march = OfferFactory()
    overlapping = OfferFactory(
        start_date=datetime.date(2027, 3, 22), end_date=datetime.date(2027, 4, 9)
    )
    services.application_accept(ApplicationFactory(offer=march, learner=learner), by=staff)
    with pytest.raises(ValidationError, match="déjà un stage accepté"):
        services.application_accept(
            ApplicationFactory(offer=overlapping, learner=learner), by=staff
        )
    assert Placement.objects.filter(learner=learner).count() == 1


def test_a_rejection_needs_a_reason_and_tells_the_learner(
    staff, django_capture_on_commit_callbacks
) -> None:
    application = ApplicationFactory(learner=LearnerFactory(email="lea@example.test"))
    with pytest.raises(ValidationError, match="motivé"):
        services.application_reject(application, reason="  ", by=staff)
    with django_capture_on_commit_callbacks(execute=True):
        services.application_reject(application, reason="Période complète", by=staff)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert mail.outbox[-1].to == ["lea@example.test"]
    assert "Période complète" in mail.outbox[-1].body


def test_a_decided_application_cannot_be_withdrawn_nor_decided_again(staff) -> None:
    application = ApplicationFactory()
    services.application_reject(application, reason="Profil", by=staff)
    with pytest.raises(ValidationError):
        services.application_withdraw(application)
    with pytest.raises(ValidationError, match="déjà reçu une réponse"):
        services.application_accept(application, by=staff)
