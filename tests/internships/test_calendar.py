"""Placement periods in the personal feeds: the learner's, the guardian's, the tutor's."""

from __future__ import annotations

import datetime

import icalendar
import pytest

from internships import services
from school.models import Role, User
from tests.clients import Client
from tests.conftest import World
from tests.factories import ContactFactory, PlacementFactory, UserFactory

pytestmark = pytest.mark.django_db


def periods(user: User) -> list[icalendar.Event]:
    response = Client().get(f"/calendar/{user.get_calendar_token()}.ics")
    assert response.status_code == 200
    return [
        event
        for event in icalendar.Calendar.from_ical(response.content).walk("VEVENT")
        if str(event["UID"]).startswith("placement-")
    ]


def test_a_placement_is_an_all_day_event_for_learner_guardian_and_tutor(world: World) -> None:
    placement = PlacementFactory(learner=world.learner, company=world.company, tutor=world.contact)
    world.contact.is_tutor = True
    world.contact.save()
    for user in (world.learner_user, world.guardian_user, world.partner, placement.referent):
        [event] = periods(user)
        assert event.decoded("DTSTART") == datetime.date(2027, 3, 8)
        assert event.decoded("DTEND") == datetime.date(2027, 3, 27)  # the day after the last
        assert world.company.legal_name in str(event["SUMMARY"])
    stranger = UserFactory(role=Role.PARTNER)
    ContactFactory(company=world.company, user=stranger)  # same company, not the tutor
    assert periods(stranger) == []
    assert periods(world.other_guardian.user or UserFactory(role=Role.GUARDIAN)) == []


def test_a_cancelled_placement_leaves_the_feed_and_changes_its_etag(world: World) -> None:
    placement = PlacementFactory(learner=world.learner)
    url = f"/calendar/{world.learner_user.get_calendar_token()}.ics"
    etag = Client().get(url)["ETag"]
    services.placement_cancel(placement, reason="Entreprise fermée", by=world.staff)
    assert Client().get(url, headers={"if-none-match": etag}).status_code == 200
    assert periods(world.learner_user) == []
