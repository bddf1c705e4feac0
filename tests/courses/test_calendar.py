"""The personal live calendar: who sees which sessions, what each event says (RFC 5545,
read back with icalendar), conditional requests, and the secret link's rotation."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import F
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date

from courses.calendar import Feed
from courses.models import Session, SessionStatus
from school.models import Enrolment, Role, User
from tests.clients import Client
from tests.conftest import World
from tests.factories import (
    CourseFactory,
    EnrolmentFactory,
    GuardianFactory,
    LearnerFactory,
    MachineFactory,
    RoomFactory,
    SessionFactory,
    UserFactory,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime.datetime(2026, 10, 1, 10, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _on_1_october_2026(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def at(day: datetime.date, hour: int = 8) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=PARIS)


def session(world: World, **fields: Any) -> Session:
    """A morning session of the learner's cohort, taught by their trainer, on 12/01/2027."""
    fields.setdefault("cohort", world.cohort)
    fields.setdefault("trainer", world.trainer)
    if "course" not in fields:
        fields["course"] = CourseFactory(programme=fields["cohort"].programme)
    return SessionFactory(**fields)


def fetch(user: User, **headers: str) -> HttpResponse:
    return Client().get(f"/calendar/{user.get_calendar_token()}.ics", headers=headers)


def events_of(response: HttpResponse) -> dict[int, icalendar.Event]:
    """The feed's events by session id, read back from their UID."""
    calendar = icalendar.Calendar.from_ical(response.content)
    return {
        int(str(event["UID"]).removeprefix("session-").split("@")[0]): event
        for event in calendar.walk("VEVENT")
    }


# --- whose sessions ----------------------------------------------------------------------


def test_a_learners_feed_holds_their_cohort_and_group_sessions_and_no_other(world: World) -> None:
    classmate = LearnerFactory()
    EnrolmentFactory(learner=classmate, cohort=world.cohort)
    whole_cohort = session(world)
    their_group = session(world, learners=[world.learner, classmate])
    other_group = session(world, learners=[classmate])
    other_cohort = session(world, cohort=world.other_cohort, trainer=world.other_trainer)

    feed = events_of(fetch(world.learner_user))

    assert set(feed) == {whole_cohort.pk, their_group.pk}
    assert other_group.pk not in feed and other_cohort.pk not in feed


def test_a_trainers_feed_holds_the_sessions_they_teach(world: World) -> None:
    taught = session(world)
    taught_elsewhere = session(world, cohort=world.other_cohort)
    session(world, trainer=world.other_trainer)

    assert set(events_of(fetch(world.trainer))) == {taught.pk, taught_elsewhere.pk}


def test_a_guardians_feed_holds_their_childs_sessions(world: World) -> None:
    childs = session(world)
    session(world, cohort=world.other_cohort, trainer=world.other_trainer)

    feed = events_of(fetch(world.guardian_user))

    assert set(feed) == {childs.pk}
    assert str(feed[childs.pk]["SUMMARY"]) == childs.course.title


def test_a_guardian_of_two_children_sees_whose_session_each_is(world: World) -> None:
    world.learner.first_name = "Léa"
    world.learner.save()
    brother = LearnerFactory(first_name="Hugo")
    EnrolmentFactory(learner=brother, cohort=world.other_cohort)
    GuardianFactory(learner=brother, user=world.guardian_user)
    leas = session(world)
    hugos = session(world, cohort=world.other_cohort, trainer=world.other_trainer)

    feed = events_of(fetch(world.guardian_user))

    assert str(feed[leas.pk]["SUMMARY"]) == f"{leas.course.title} (Léa)"
    assert str(feed[hugos.pk]["SUMMARY"]) == f"{hugos.course.title} (Hugo)"


@pytest.mark.parametrize("role", ["staff", "partner"])
def test_staff_and_partners_get_a_valid_calendar_without_events(world: World, role: str) -> None:
    session(world)

    response = fetch(world.user(role))

    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar.name == "VCALENDAR"
    assert calendar.walk("VEVENT") == []


def test_a_learner_account_not_yet_linked_to_a_pupil_gets_an_empty_calendar(
    world: World,
) -> None:
    session(world)

    response = fetch(UserFactory(role=Role.LEARNER))

    assert response.status_code == 200
    assert icalendar.Calendar.from_ical(response.content).walk("VEVENT") == []


def test_the_feed_covers_sixty_days_back_and_a_year_ahead(world: World) -> None:
    today = NOW.date()
    # Enrolled long before: only the window limits what the feed holds.
    Enrolment.objects.filter(pk=world.enrolment.pk).update(start_date=datetime.date(2025, 9, 1))
    inside = [
        session(world, start=at(today - datetime.timedelta(days=60))),
        session(world, start=at(today + datetime.timedelta(days=365))),
    ]
    session(world, start=at(today - datetime.timedelta(days=61)))
    session(world, start=at(today + datetime.timedelta(days=366)))

    assert set(events_of(fetch(world.learner_user))) == {s.pk for s in inside}


# --- what the calendar and each event say ------------------------------------------------


def test_the_calendar_names_itself_and_stays_out_of_caches(world: World) -> None:
    response = fetch(world.learner_user)

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="metaltech.ics"'
    assert response["Cache-Control"] == "private, no-store"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["PRODID"]) == "-//MetalTech//Agenda//FR"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == f"MétalTech — {world.learner_user}"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Paris"
    assert calendar.decoded("REFRESH-INTERVAL") == datetime.timedelta(hours=1)
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in response.content


def test_an_event_says_what_where_who_and_when(world: World) -> None:
    world.trainer.first_name, world.trainer.last_name = "Paul", "Girard"
    world.trainer.save()
    lathe, mill = MachineFactory(name="Tour CN 2"), MachineFactory(name="Fraiseuse 1")
    planned = session(
        world,
        course=CourseFactory(programme=world.cohort.programme, title="Tournage"),
        room=RoomFactory(name="Atelier 1"),
        machines=[lathe, mill],
    )

    event = events_of(fetch(world.learner_user))[planned.pk]

    assert str(event["UID"]) == f"session-{planned.pk}@testserver"  # SITE_DOMAIN
    assert event.decoded("DTSTAMP") == NOW
    assert event.decoded("DTSTART") == datetime.datetime(2027, 1, 12, 8, tzinfo=PARIS)
    assert event.decoded("DTEND") == datetime.datetime(2027, 1, 12, 12, tzinfo=PARIS)
    assert str(event["SUMMARY"]) == "Tournage"
    assert str(event["LOCATION"]) == "Atelier 1"
    assert str(event["DESCRIPTION"]) == (
        "Formateur : Paul Girard\nPromotion : CAP 2026\nMachines : Fraiseuse 1, Tour CN 2"
    )
    assert event.decoded("SEQUENCE") == 0
    assert event.decoded("CREATED") == NOW
    assert event.decoded("LAST-MODIFIED") == NOW
    assert str(event["STATUS"]) == "CONFIRMED"


def test_times_carry_the_paris_zone_and_its_definition(world: World) -> None:
    planned = session(world)

    response = fetch(world.learner_user)

    calendar = icalendar.Calendar.from_ical(response.content)
    event = events_of(response)[planned.pk]
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event["DTEND"].params["TZID"] == "Europe/Paris"
    assert b"\r\nDTSTART;TZID=Europe/Paris:20270112T080000\r\n" in response.content
    [vtimezone] = calendar.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "Europe/Paris"
    assert {component.name for component in vtimezone.subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_local_times_hold_across_the_change_to_winter_time(world: World) -> None:
    # Summer time ends on Sunday 25 October 2026: 8 h stays 8 h, the UTC offset moves.
    friday = session(world, start=at(datetime.date(2026, 10, 23)))
    monday = session(world, start=at(datetime.date(2026, 10, 26)))

    feed = events_of(fetch(world.learner_user))

    before, after = feed[friday.pk].decoded("DTSTART"), feed[monday.pk].decoded("DTSTART")
    assert (before.hour, after.hour) == (8, 8)
    assert before.utcoffset() == datetime.timedelta(hours=2)
    assert after.utcoffset() == datetime.timedelta(hours=1)


def test_a_cancelled_session_stays_in_the_feed_marked_cancelled(world: World) -> None:
    cancelled = session(
        world,
        course=CourseFactory(programme=world.cohort.programme, title="Fraisage"),
        status=SessionStatus.CANCELLED,
    )

    event = events_of(fetch(world.learner_user))[cancelled.pk]

    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]) == "Annulée : Fraisage"


def test_the_uid_stays_the_same_from_one_fetch_to_the_next(world: World) -> None:
    planned = session(world)

    first, second = events_of(fetch(world.learner_user)), events_of(fetch(world.learner_user))

    assert str(first[planned.pk]["UID"]) == str(second[planned.pk]["UID"])


def test_an_edit_raises_sequence_and_last_modified(world: World, time_machine: Any) -> None:
    planned = session(world)
    time_machine.shift(datetime.timedelta(hours=2))
    planned.start += datetime.timedelta(hours=1)
    planned.end += datetime.timedelta(hours=1)
    planned.sequence += 1
    planned.save()

    event = events_of(fetch(world.learner_user))[planned.pk]

    edited_at = NOW + datetime.timedelta(hours=2)
    assert event.decoded("SEQUENCE") == 1
    assert event.decoded("LAST-MODIFIED") == edited_at
    assert event.decoded("DTSTAMP") == edited_at
    assert event.decoded("DTSTART").hour == 9


def test_the_feed_speaks_french_whatever_the_client_asks(world: World) -> None:
    planned = session(world)

    event = events_of(fetch(world.learner_user, accept_language="en"))[planned.pk]

    assert str(event["DESCRIPTION"]).startswith("Formateur : ")


def test_long_lines_are_folded_at_75_octets(world: World) -> None:
    machines = [
        MachineFactory(name=f"Centre d'usinage à commande numérique n° {n}") for n in range(4)
    ]
    planned = session(world, machines=machines)

    response = fetch(world.learner_user)

    assert max(len(line) for line in response.content.split(b"\r\n")) <= 75
    description = str(events_of(response)[planned.pk]["DESCRIPTION"])
    assert description.endswith(", ".join(sorted(m.name for m in machines)))


# --- conditional requests ----------------------------------------------------------------


def test_the_feed_answers_an_etag_and_its_last_change(world: World, time_machine: Any) -> None:
    session(world)
    time_machine.shift(datetime.timedelta(minutes=30))
    latest = session(world)

    response = fetch(world.learner_user)

    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert response["Last-Modified"] == http_date(latest.updated_at.timestamp())


def test_a_second_full_fetch_is_served_from_the_cache_until_something_changes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = session(world)
    renders: list[int] = []
    real_render = Feed.render
    monkeypatch.setattr(Feed, "render", lambda feed: renders.append(1) or real_render(feed))

    body = fetch(world.learner_user).content
    with CaptureQueriesContext(connection) as queries:
        again = fetch(world.learner_user)  # a client that never sends If-None-Match
    assert again.content == body and len(renders) == 1
    assert len(queries) == 3  # the token, the aggregate, the periods: no session read

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5), tick=False):
        first.room = RoomFactory(name="Atelier 2")
        first.save()
        changed = fetch(world.learner_user)
    assert len(renders) == 2
    assert "Atelier 2" in changed.content.decode()


def test_a_matching_etag_answers_304_with_no_body_from_three_queries(world: World) -> None:
    session(world)
    etag = fetch(world.learner_user)["ETag"]

    with CaptureQueriesContext(connection) as queries:
        response = fetch(world.learner_user, if_none_match=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "private, no-store"
    # The token, one aggregate of the sessions, the placement periods: nothing rendered.
    assert len(queries) == 3


def test_if_modified_since_the_last_change_answers_304(world: World) -> None:
    session(world)
    last_modified = fetch(world.learner_user)["Last-Modified"]

    assert fetch(world.learner_user, if_modified_since=last_modified).status_code == 304
    an_hour_earlier = http_date(NOW.timestamp() - 3600)
    assert fetch(world.learner_user, if_modified_since=an_hour_earlier).status_code == 200


def test_a_change_to_a_session_changes_the_etag(world: World, time_machine: Any) -> None:
    planned = session(world)
    etag = fetch(world.learner_user)["ETag"]
    time_machine.shift(datetime.timedelta(minutes=5))

    Session.objects.filter(pk=planned.pk).update(
        sequence=F("sequence") + 1, updated_at=timezone.now()
    )

    response = fetch(world.learner_user, if_none_match=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_a_sequence_bumped_without_updated_at_still_changes_the_etag(world: World) -> None:
    planned = session(world)
    etag = fetch(world.learner_user)["ETag"]

    Session.objects.filter(pk=planned.pk).update(sequence=F("sequence") + 1)

    assert fetch(world.learner_user, if_none_match=etag).status_code == 200


def test_a_learner_moved_to_another_group_changes_the_etag(world: World) -> None:
    classmate = LearnerFactory()
    EnrolmentFactory(learner=classmate, cohort=world.cohort)
    group_a = session(world, learners=[world.learner])
    group_b = session(world, learners=[classmate])
    etag = fetch(world.learner_user)["ETag"]

    # Same number of sessions, none of them edited: only their ids tell the change.
    group_a.learners.set([classmate])
    group_b.learners.set([world.learner])

    response = fetch(world.learner_user, if_none_match=etag)
    assert response.status_code == 200
    assert set(events_of(response)) == {group_b.pk}


def test_the_etag_changes_with_the_day_as_the_window_moves(world: World, time_machine: Any) -> None:
    session(world)
    etag = fetch(world.learner_user)["ETag"]

    time_machine.shift(datetime.timedelta(days=1))

    assert fetch(world.learner_user, if_none_match=etag).status_code == 200


# --- the secret link ---------------------------------------------------------------------


def test_an_unknown_token_answers_a_bare_404(world: World) -> None:
    response = Client().get("/calendar/not-a-token.ics")

    assert response.status_code == 404
    assert b"not-a-token" not in response.content


def test_an_inactive_account_has_no_feed(world: World) -> None:
    world.learner_user.is_active = False
    world.learner_user.save()

    assert fetch(world.learner_user).status_code == 404


def test_a_rotated_token_answers_404_and_the_new_one_200(world: World) -> None:
    old = world.learner_user.get_calendar_token()
    client = Client()
    client.force_login(world.learner_user)

    response = client.post("/agenda/nouveau-lien/", {"next": "/emploi-du-temps/"})

    world.learner_user.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == "/emploi-du-temps/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Nouveau lien d'agenda créé : l'ancien ne fonctionne plus."
    ]
    assert world.learner_user.calendar_token != old
    assert Client().get(f"/calendar/{old}.ics").status_code == 404
    assert fetch(world.learner_user).status_code == 200


def test_rotating_sends_back_home_rather_than_to_another_site(world: World) -> None:
    client = Client()
    client.force_login(world.learner_user)

    response = client.post("/agenda/nouveau-lien/", {"next": "https://ailleurs.example/"})

    assert response["Location"] == "/"


def test_rotating_needs_a_signed_in_user_and_a_post(world: World) -> None:
    token = world.learner_user.get_calendar_token()
    signed_in = Client()
    signed_in.force_login(world.learner_user)

    anonymous = Client().post("/agenda/nouveau-lien/")
    by_get = signed_in.get("/agenda/nouveau-lien/")

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/connexion/")
    assert by_get.status_code == 405
    world.learner_user.refresh_from_db()
    assert world.learner_user.calendar_token == token


def test_calendar_url_is_absolute_and_gives_a_token_on_first_use(db: None) -> None:
    user = UserFactory(role=Role.LEARNER)
    assert user.calendar_token is None

    url = user.get_calendar_url(RequestFactory().get("/"))

    user.refresh_from_db()
    assert url == f"http://testserver/calendar/{user.calendar_token}.ics"


# --- cost --------------------------------------------------------------------------------


def test_the_query_count_is_the_same_for_one_and_fifty_sessions(world: World) -> None:
    def queries_for(user: User) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert fetch(user).status_code == 200
        return len(queries)

    one, many = UserFactory(role=Role.TRAINER), UserFactory(role=Role.TRAINER)
    session(world, trainer=one, machines=[MachineFactory()])
    for day in range(50):
        session(
            world,
            trainer=many,
            start=at(NOW.date() + datetime.timedelta(days=day)),
            course=CourseFactory(programme=world.cohort.programme),
            room=RoomFactory(),
            machines=[MachineFactory(), MachineFactory()],
        )
    one.get_calendar_token(), many.get_calendar_token()

    assert queries_for(one) == queries_for(many)


def test_renaming_a_course_or_a_room_changes_the_etag(world: World) -> None:
    planned = session(world, start=at(NOW.date() + datetime.timedelta(days=3)))
    etag = fetch(world.learner_user)["ETag"]

    with time_machine.travel(NOW + datetime.timedelta(minutes=5)):
        planned.course.title = "Tournage avancé"
        planned.course.save()
    renamed = fetch(world.learner_user, if_none_match=etag)
    assert renamed.status_code == 200
    assert "Tournage avancé" in renamed.content.decode()

    with time_machine.travel(NOW + datetime.timedelta(minutes=10)):
        planned.room.name = "Atelier B"
        planned.room.save()
    moved = fetch(world.learner_user, if_none_match=renamed["ETag"])
    assert moved.status_code == 200
