"""Places and periods hold when partners click « accepter » at the same instant
(PostgreSQL only: SQLite serialises every write, so there is no race to lose there)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from internships import services
from internships.models import Application, ApplicationStatus, OfferStatus, Placement
from school.models import Role
from tests.factories import (
    ApplicationFactory,
    LearnerFactory,
    OfferFactory,
    PlacementFactory,
    UserFactory,
)
from tests.school.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… to run it")


@pytest.mark.parametrize("attempt", range(5))
def test_twenty_acceptances_at_once_on_three_places_accept_exactly_three(attempt: int) -> None:
    staff = UserFactory(role=Role.STAFF)
    offer = OfferFactory(places=3)
    applications = [ApplicationFactory(offer=offer) for _ in range(20)]

    outcomes = race(
        *[
            (lambda application=application: services.application_accept(application, by=staff))
            for application in applications
        ]
    )

    assert outcomes.count("ok") == 3
    assert outcomes.count("Les 3 places de l'offre sont déjà pourvues.") == 17
    assert Application.objects.filter(offer=offer, status=ApplicationStatus.ACCEPTED).count() == 3
    assert Placement.objects.filter(application__offer=offer).count() == 3
    offer.refresh_from_db()
    assert offer.status == OfferStatus.FILLED


@pytest.mark.parametrize("attempt", range(3))
def test_one_learner_accepted_by_two_companies_at_once_gets_one_placement(attempt: int) -> None:
    staff = UserFactory(role=Role.STAFF)
    learner = LearnerFactory()
    first = ApplicationFactory(learner=learner, offer=OfferFactory())
    second = ApplicationFactory(
        learner=learner,
        offer=OfferFactory(
            start_date=datetime.date(2027, 3, 15), end_date=datetime.date(2027, 4, 2)
        ),
    )

    outcomes = race(
        lambda: services.application_accept(first, by=staff),
        lambda: services.application_accept(second, by=staff),
    )

    assert outcomes.count("ok") == 1
    assert any("déjà un stage accepté" in outcome for outcome in outcomes)
    assert Placement.objects.filter(learner=learner).count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_a_session_and_a_placement_written_at_once_never_overlap(attempt: int) -> None:
    from courses import services as course_services
    from tests.factories import CohortFactory, CourseFactory, EnrolmentFactory, RoomFactory

    learner = LearnerFactory(birth_date=datetime.date(2004, 1, 1))
    cohort = CohortFactory()
    EnrolmentFactory(learner=learner, cohort=cohort)
    # The company and its people exist; the placement is still to be written.
    model = PlacementFactory(learner=learner)
    fresh = Placement(
        learner=learner,
        company=model.company,
        tutor=model.tutor,
        signatory=model.signatory,
        referent=model.referent,
        start_date=model.start_date,
        end_date=model.end_date,
        activities=model.activities,
    )
    model.delete()
    trainer = UserFactory(role=Role.TRAINER)
    course, room = CourseFactory(programme=cohort.programme), RoomFactory()
    slots = [{"weekday": 0, "start_time": datetime.time(8), "end_time": datetime.time(12)}]

    outcomes = race(
        lambda: services.placement_save(fresh, slots=slots),
        lambda: course_services.session_create(
            course=course,
            cohort=cohort,
            trainer=trainer,
            room=room,
            start=datetime.datetime(2027, 3, 15, 7, tzinfo=datetime.UTC),
            end=datetime.datetime(2027, 3, 15, 11, tzinfo=datetime.UTC),
        ),
    )

    assert outcomes.count("ok") == 1, outcomes
    assert any("chevauche" in o or "en stage" in o for o in outcomes), outcomes


@pytest.mark.parametrize("attempt", range(3))
def test_two_runs_of_the_daily_reminders_at_once_remind_a_tutor_once(attempt: int) -> None:
    import time_machine
    from django.core import mail

    from internships.models import PlacementStatus, TutorEvaluation

    after = datetime.datetime(2027, 3, 29, 9, 0, tzinfo=datetime.UTC)
    PlacementFactory(tutor__email="karim@forges.test", status=PlacementStatus.SIGNED)
    with time_machine.travel(after):
        assert services.placements_advance() == 1  # completed: the tutor gets the link
    sent = len(mail.outbox)

    with time_machine.travel(after + datetime.timedelta(days=3, hours=1)):
        outcomes = race(services.evaluation_reminders, services.evaluation_reminders)

    assert outcomes == ["ok", "ok"]
    assert [m.subject.startswith("Rappel") for m in mail.outbox[sent:]] == [True]
    assert TutorEvaluation.objects.get().reminders_sent == 1
