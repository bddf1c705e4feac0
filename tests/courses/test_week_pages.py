"""The timetable's pages: each role's own week, the teaching team's other weeks, scope,
local times across a clock change, a constant number of queries; and the staff's list
of machine authorisations to renew."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
import time_machine

from courses.attendance import attendance_sign
from courses.models import (
    Course,
    Machine,
    MachineKind,
    MedicalFitness,
    Room,
    RoomKind,
    Session,
    SessionStatus,
)
from school.models import Cohort, Role, User
from tests.clients import signed_in
from tests.conftest import World
from tests.factories import EnrolmentFactory, GuardianFactory, LearnerFactory, UserFactory
from tests.queries import page_queries

PARIS = ZoneInfo("Europe/Paris")


def paris(month: int, day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2027, month, day, hour, minute, tzinfo=PARIS)


def plan_session(
    cohort: Cohort,
    trainer: User,
    start: datetime.datetime,
    hours: int = 4,
    *,
    room: str = "Atelier 1",
    title: str = "Tournage",
    status: str = SessionStatus.PLANNED,
) -> Session:
    """A session written straight to the table: the conflict check is not under test here."""
    course = Course.objects.get_or_create(
        programme=cohort.programme,
        code=title[:20].upper(),
        defaults={"title": title, "kind": "workshop", "planned_hours": 100},
    )[0]
    return Session.objects.create(
        course=course,
        cohort=cohort,
        trainer=trainer,
        room=Room.objects.get_or_create(name=room, defaults={"kind": RoomKind.WORKSHOP})[0],
        start=start,
        end=start + datetime.timedelta(hours=hours),
        status=status,
    )


MONDAY = "?semaine=2027-01-11"


@pytest.fixture
def week(world: World) -> dict[str, Session]:
    """Our cohort's Monday, the other cohort's Tuesday."""
    return {
        "ours": plan_session(world.cohort, world.trainer, paris(1, 11, 8)),
        "theirs": plan_session(
            world.other_cohort,
            world.other_trainer,
            paris(1, 12, 13),
            room="Salle 2",
            title="Fraisage",
        ),
    }


def test_a_learner_sees_their_own_week(world: World, week: dict[str, Session]) -> None:
    content = signed_in(world.learner_user).get(f"/emploi-du-temps/{MONDAY}").content.decode()

    assert "Mon emploi du temps" in content
    assert "Semaine du 11 janvier au 17 janvier 2027" in content
    assert "Lundi 11 janvier" in content
    assert "08:00–12:00" in content
    assert "Tournage" in content
    assert "Fraisage" not in content
    assert 'href="?semaine=2027-01-04"' in content
    assert 'href="?semaine=2027-01-18"' in content


def test_any_day_of_the_week_opens_that_week(world: World, week: dict[str, Session]) -> None:
    content = (
        signed_in(world.learner_user).get("/emploi-du-temps/?semaine=2027-01-15").content.decode()
    )
    assert "Semaine du 11 janvier au 17 janvier 2027" in content
    assert "Tournage" in content


def test_a_learner_gets_the_sign_button_only_while_a_session_runs(
    world: World, week: dict[str, Session]
) -> None:
    with time_machine.travel(paris(1, 11, 9)):
        running = signed_in(world.learner_user).get("/emploi-du-temps/").content.decode()
    with time_machine.travel(paris(1, 11, 13)):
        over = signed_in(world.learner_user).get("/emploi-du-temps/").content.decode()

    assert "Je suis présent(e)" in running
    assert 'action="/emargement/signer/"' in running
    assert "Je suis présent(e)" not in over


def test_once_signed_the_button_gives_way_to_the_signature(
    world: World, week: dict[str, Session]
) -> None:
    attendance_sign(learner=world.learner, at=paris(1, 11, 8, 5))

    with time_machine.travel(paris(1, 11, 9)):
        content = signed_in(world.learner_user).get("/emploi-du-temps/").content.decode()

    assert "Je suis présent(e)" not in content
    assert "Présence signée pour cette demi-journée." in content


@pytest.mark.parametrize(
    "url_of",
    [
        lambda w: f"/emploi-du-temps/apprenant/{w.other_learner.pk}/",
        lambda w: f"/emploi-du-temps/promotion/{w.cohort.pk}/",
        lambda w: f"/emploi-du-temps/formateur/{w.trainer.pk}/",
        lambda w: f"/emploi-du-temps/salle/{Room.objects.get(name='Atelier 1').pk}/",
    ],
    ids=["another-learner", "cohort", "trainer", "room"],
)
@pytest.mark.parametrize("role", ["learner", "guardian", "partner"])
def test_outside_their_own_week_learners_and_families_get_404(
    world: World, week: dict[str, Session], role: str, url_of: Callable[[World], str]
) -> None:
    assert signed_in(world.user(role)).get(url_of(world)).status_code == 404


def test_a_learner_may_open_their_own_learner_page(world: World, week: dict[str, Session]) -> None:
    response = signed_in(world.learner_user).get(
        f"/emploi-du-temps/apprenant/{world.learner.pk}/{MONDAY}"
    )
    assert response.status_code == 200
    assert "Tournage" in response.content.decode()


def test_a_guardian_sees_their_childs_week(world: World, week: dict[str, Session]) -> None:
    own = signed_in(world.guardian_user).get(f"/emploi-du-temps/{MONDAY}").content.decode()
    child = (
        signed_in(world.guardian_user)
        .get(f"/emploi-du-temps/apprenant/{world.learner.pk}/{MONDAY}")
        .content.decode()
    )

    for content in (own, child):
        assert f"Emploi du temps de {world.learner.full_name}" in content
        assert "Tournage" in content
        assert "Fraisage" not in content


def test_a_guardian_of_two_children_chooses_whose_week(
    world: World, week: dict[str, Session]
) -> None:
    sibling = LearnerFactory(
        first_name="Zoé", last_name=world.learner.last_name, birth_date=datetime.date(2012, 5, 1)
    )
    EnrolmentFactory(learner=sibling, cohort=world.other_cohort)
    GuardianFactory(learner=sibling, user=world.guardian_user)

    first = signed_in(world.guardian_user).get(f"/emploi-du-temps/{MONDAY}").content.decode()
    second = (
        signed_in(world.guardian_user)
        .get(f"/emploi-du-temps/{MONDAY}&apprenant={sibling.pk}")
        .content.decode()
    )

    assert f'href="?semaine=2027-01-11&amp;apprenant={sibling.pk}"' in first
    assert "Tournage" in first
    assert "Fraisage" not in first
    assert "Emploi du temps de Zoé" in second
    assert "Fraisage" in second
    assert "Tournage" not in second


def test_a_partner_has_no_week(world: World) -> None:
    assert signed_in(world.partner).get("/emploi-du-temps/").status_code == 404


def test_a_trainer_sees_the_sessions_they_teach_with_their_roll_call_links(
    world: World, week: dict[str, Session]
) -> None:
    content = signed_in(world.trainer).get(f"/emploi-du-temps/{MONDAY}").content.decode()

    assert "Tournage" in content
    assert "Fraisage" not in content
    assert f'href="/seances/{week["ours"].pk}/emargement/"' in content
    # and a way to every other timetable
    assert f'href="/emploi-du-temps/promotion/{world.other_cohort.pk}/"' in content


def test_a_trainer_opens_every_cohort_trainer_and_room_week(
    world: World, week: dict[str, Session]
) -> None:
    theirs = week["theirs"]
    for url in (
        f"/emploi-du-temps/promotion/{world.other_cohort.pk}/{MONDAY}",
        f"/emploi-du-temps/formateur/{world.other_trainer.pk}/{MONDAY}",
        f"/emploi-du-temps/salle/{theirs.room_id}/{MONDAY}",
    ):
        content = signed_in(world.trainer).get(url).content.decode()
        assert "Fraisage" in content, url
        assert "13:00–17:00" in content, url
        # the roll call of another trainer's session is not theirs to take
        assert f"/seances/{theirs.pk}/emargement/" not in content, url


def test_a_trainer_sees_only_the_learners_they_teach(
    world: World, week: dict[str, Session]
) -> None:
    ours = signed_in(world.trainer).get(f"/emploi-du-temps/apprenant/{world.learner.pk}/")
    theirs = signed_in(world.trainer).get(f"/emploi-du-temps/apprenant/{world.other_learner.pk}/")
    cohort = (
        signed_in(world.trainer)
        .get(f"/emploi-du-temps/promotion/{world.cohort.pk}/")
        .content.decode()
    )

    assert ours.status_code == 200
    assert theirs.status_code == 404
    assert f'href="/emploi-du-temps/apprenant/{world.learner.pk}/"' in cohort


def test_staff_choose_a_week_and_open_any(world: World, week: dict[str, Session]) -> None:
    chooser = signed_in(world.staff).get("/emploi-du-temps/").content.decode()
    learner = (
        signed_in(world.staff)
        .get(f"/emploi-du-temps/apprenant/{world.other_learner.pk}/{MONDAY}")
        .content.decode()
    )

    assert f'href="/emploi-du-temps/promotion/{world.cohort.pk}/"' in chooser
    assert f'href="/emploi-du-temps/formateur/{world.other_trainer.pk}/"' in chooser
    assert f'href="/emploi-du-temps/salle/{week["ours"].room_id}/"' in chooser
    assert "Fraisage" in learner


@pytest.mark.parametrize("asked", ["lundi", "2027-02-30", "0001-01-01", "9999-12-31"])
def test_a_week_that_cannot_be_read_shows_this_week(world: World, asked: str) -> None:
    with time_machine.travel(paris(1, 13, 9)):
        response = signed_in(world.learner_user).get(f"/emploi-du-temps/?semaine={asked}")

    assert "Semaine du 11 janvier au 17 janvier 2027" in response.content.decode()


def test_an_unknown_kind_of_week_answers_404(world: World) -> None:
    assert (
        signed_in(world.staff).get(f"/emploi-du-temps/machine/{world.cohort.pk}/").status_code
        == 404
    )


def test_a_week_shows_saturday_only_when_something_happens_on_it(world: World) -> None:
    plan_session(world.cohort, world.trainer, paris(1, 11, 8))
    url = f"/emploi-du-temps/promotion/{world.cohort.pk}/"

    weekdays = signed_in(world.trainer).get(url + MONDAY).content.decode()
    plan_session(world.cohort, world.trainer, paris(1, 16, 8), title="Portes ouvertes")
    with_saturday = signed_in(world.trainer).get(url + MONDAY).content.decode()

    assert "Vendredi 15 janvier" in weekdays
    assert "Samedi" not in weekdays
    assert 'class="week-grid days-6"' in with_saturday
    assert "Samedi 16 janvier" in with_saturday
    assert "Portes ouvertes" in with_saturday


def test_a_cancelled_session_stays_on_the_week_marked_cancelled(world: World) -> None:
    plan_session(world.cohort, world.trainer, paris(1, 11, 8), status=SessionStatus.CANCELLED)

    content = signed_in(world.learner_user).get(f"/emploi-du-temps/{MONDAY}").content.decode()

    assert 'class="week-session cancelled"' in content
    assert '<span class="badge cancelled">Annulée</span>' in content


def test_the_week_prints_local_times_across_the_change_to_summer_time(world: World) -> None:
    # Clocks go forward on Sunday 28 March 2027: 08:00 is 07:00 UTC before, 06:00 UTC after.
    winter = plan_session(world.cohort, world.trainer, paris(3, 26, 8))
    sunday_evening = plan_session(world.cohort, world.trainer, paris(3, 28, 22, 30), hours=1)
    summer = plan_session(world.cohort, world.trainer, paris(3, 29, 8), title="Métrologie")
    assert (winter.start.utcoffset(), summer.start.utcoffset()) == (
        datetime.timedelta(hours=1),
        datetime.timedelta(hours=2),
    )
    url = f"/emploi-du-temps/promotion/{world.cohort.pk}/?semaine="

    before = signed_in(world.trainer).get(url + "2027-03-24").content.decode()
    after = signed_in(world.trainer).get(url + "2027-03-29").content.decode()

    assert "Semaine du 22 mars au 28 mars 2027" in before
    assert "Vendredi 26 mars" in before
    assert "08:00–12:00" in before
    assert "Dimanche 28 mars" in before
    assert "22:30–23:30" in before
    assert "Métrologie" not in before
    assert "Lundi 29 mars" in after
    assert "08:00–12:00" in after
    assert "Métrologie" in after
    assert "22:30" not in after
    assert sunday_evening.start.utcoffset() == datetime.timedelta(hours=2)


def test_a_week_page_is_ready_for_an_a4_landscape_printout(
    world: World, week: dict[str, Session]
) -> None:
    content = signed_in(world.learner_user).get(f"/emploi-du-temps/{MONDAY}").content.decode()

    assert '<nav class="week-nav no-print"' in content
    assert 'href="/static/css/metaltech.css"' in content


WEEK_PAGES: dict[str, tuple[str, Callable[[World], str]]] = {
    "learner": ("learner", lambda w: f"/emploi-du-temps/{MONDAY}"),
    "guardian": ("guardian", lambda w: f"/emploi-du-temps/{MONDAY}"),
    "trainer": ("trainer", lambda w: f"/emploi-du-temps/{MONDAY}"),
    "learner-page": ("staff", lambda w: f"/emploi-du-temps/apprenant/{w.learner.pk}/{MONDAY}"),
    "trainer-page": ("staff", lambda w: f"/emploi-du-temps/formateur/{w.trainer.pk}/{MONDAY}"),
    "cohort-page": ("trainer", lambda w: f"/emploi-du-temps/promotion/{w.cohort.pk}/{MONDAY}"),
    "room-page": (
        "trainer",
        lambda w: f"/emploi-du-temps/salle/{Room.objects.get(name='Atelier 1').pk}/{MONDAY}",
    ),
}


@pytest.mark.parametrize("name", WEEK_PAGES)
def test_a_week_page_costs_the_same_for_one_session_and_for_fifteen(
    world: World, name: str
) -> None:
    role, url_of = WEEK_PAGES[name]
    first = plan_session(world.cohort, world.trainer, paris(1, 11, 8))
    first.learners.set([world.learner])
    url = url_of(world)
    with time_machine.travel(paris(1, 11, 9)):
        one = page_queries(world.user(role), url)

    lathe = Machine.objects.create(name="Tour 1", kind=MachineKind.CNC_LATHE, room=first.room)
    for n in range(14):
        session = plan_session(world.cohort, world.trainer, paris(1, 11 + n % 5, 13 + n // 5, 0), 1)
        session.machines.set([lathe])
        session.learners.set([world.learner, EnrolmentFactory(cohort=world.cohort).learner])
        UserFactory(role=Role.TRAINER)
        Room.objects.create(name=f"Salle {n}", kind=RoomKind.CLASSROOM)
    attendance_sign(learner=world.learner, at=paris(1, 11, 9))
    with time_machine.travel(paris(1, 11, 9)):
        assert page_queries(world.user(role), url) == one


def _expiring_fitness(valid_until: datetime.date, cohort: Cohort) -> None:
    learner = EnrolmentFactory(cohort=cohort).learner
    MedicalFitness.objects.create(
        learner=learner, issued_on=datetime.date(2026, 1, 4), valid_until=valid_until
    )


@time_machine.travel(paris(1, 11, 9))
def test_staff_see_the_minors_whose_cover_expires_within_60_days(world: World) -> None:
    MedicalFitness.objects.create(
        learner=world.learner,
        issued_on=datetime.date(2026, 3, 1),
        valid_until=datetime.date(2027, 2, 20),
    )
    MedicalFitness.objects.create(
        learner=world.other_learner,
        issued_on=datetime.date(2026, 3, 1),
        valid_until=datetime.date(2027, 9, 1),
    )

    content = signed_in(world.staff).get("/autorisations-machines/").content.decode()

    assert "dans les 60 jours" in content
    assert (
        "<td>20/02/2027</td>\n"
        f'      <td><a href="/apprenants/{world.learner.pk}/">'
        f"{world.learner.last_name.upper()} {world.learner.first_name}</a></td>\n"
        "      <td>avis médical d&#x27;aptitude</td>"
    ) in content
    assert world.other_learner.last_name.upper() not in content


@pytest.mark.parametrize("role", ["trainer", "learner", "guardian", "partner"])
def test_the_covers_to_renew_are_the_staffs_alone(world: World, role: str) -> None:
    assert signed_in(world.user(role)).get("/autorisations-machines/").status_code == 404


@time_machine.travel(paris(1, 11, 9))
def test_the_covers_to_renew_cost_the_same_for_one_learner_and_for_fifteen(world: World) -> None:
    _expiring_fitness(datetime.date(2027, 2, 1), world.cohort)
    one = page_queries(world.staff, "/autorisations-machines/")
    for n in range(14):
        _expiring_fitness(datetime.date(2027, 1, 12) + datetime.timedelta(days=n), world.cohort)
    assert page_queries(world.staff, "/autorisations-machines/") == one


@pytest.mark.django_db
def test_my_week_offers_my_calendar_link_and_a_way_to_change_it() -> None:
    from school.models import Role
    from tests.factories import UserFactory

    trainer = UserFactory(role=Role.TRAINER)
    client = signed_in(trainer)
    page = client.get("/emploi-du-temps/").content.decode()
    trainer.refresh_from_db()
    assert f"/calendar/{trainer.calendar_token}.ics" in page
    old = trainer.calendar_token
    client.post("/agenda/nouveau-lien/", {"next": "/emploi-du-temps/"})
    trainer.refresh_from_db()
    assert trainer.calendar_token != old
    assert (
        f"/calendar/{trainer.calendar_token}.ics"
        in client.get("/emploi-du-temps/").content.decode()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["apprenant", "formateur", "promotion", "salle"])
def test_week_pages_send_anonymous_visitors_to_the_login_page(kind: str) -> None:
    from tests.clients import Client

    response = Client().get(f"/emploi-du-temps/{kind}/1/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")
