"""The émargement: the trainer's roll call, the learner's signature, the validation,
the history of late changes, and the hours derived from it all."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from courses.attendance import (
    attendance_mark,
    attendance_sign,
    attendance_validate,
    hours_attended,
    hours_report,
    hours_reports,
    participants,
    sessions_of,
)
from courses.models import (
    Attendance,
    AttendanceStatus,
    Course,
    Room,
    RoomKind,
    Session,
    SessionStatus,
)
from school.models import Cohort, EnrolmentStatus, Learner, User
from tests.clients import Client, signed_in
from tests.conftest import World
from tests.factories import EnrolmentFactory, LearnerFactory, UserFactory
from tests.queries import page_queries

PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A time in the week of Monday 11 January 2027, Paris time."""
    return datetime.datetime(2027, 1, day, hour, minute, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _end_of_that_week() -> Any:
    # The roll call opens when a session is about to start: by Friday evening, every
    # session of the week can be marked. Tests about "now" travel further themselves.
    with time_machine.travel(at(15, 18), tick=False):
        yield


def plan_session(
    cohort: Cohort,
    trainer: User,
    start: datetime.datetime,
    hours: int = 4,
    *,
    course: Course | None = None,
    group: list[Learner] | None = None,
    status: str = SessionStatus.PLANNED,
) -> Session:
    """A session written straight to the table: the conflict check is not under test here."""
    course = (
        course
        or Course.objects.get_or_create(
            programme=cohort.programme,
            code="TOUR",
            defaults={"title": "Tournage", "kind": "workshop", "planned_hours": 100},
        )[0]
    )
    room = Room.objects.get_or_create(name="Atelier 1", defaults={"kind": RoomKind.WORKSHOP})[0]
    session = Session.objects.create(
        course=course,
        cohort=cohort,
        trainer=trainer,
        room=room,
        start=start,
        end=start + datetime.timedelta(hours=hours),
        status=status,
    )
    if group:
        session.learners.set(group)
    return session


def htmx_client(user: User) -> Client:
    return signed_in(user, **{"HX-Request": "true"})


@pytest.fixture
def session(world: World) -> Session:
    return plan_session(world.cohort, world.trainer, at(11, 8))


@pytest.fixture
def classmate(world: World) -> Learner:
    return EnrolmentFactory(
        cohort=world.cohort, learner=LearnerFactory(first_name="Inès", last_name="Bernard")
    ).learner


def mark_url(session: Session, learner: Learner) -> str:
    return f"/seances/{session.pk}/emargement/{learner.pk}/"


@pytest.mark.parametrize(
    ("status", "label", "reason"),
    [
        ("present", "Présent", ""),
        ("late", "En retard", "Bus en retard"),
        ("absent", "Absent", ""),
        ("excused", "Excusé", "Rendez-vous médical"),
    ],
)
def test_one_tap_records_each_status_and_answers_the_updated_row(
    world: World, session: Session, status: str, label: str, reason: str
) -> None:
    response = htmx_client(world.trainer).post(
        mark_url(session, world.learner), {"status": status, "reason": reason}
    )

    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith(f'<article class="roll-call-row {status}"')
    assert f'id="emargement-{world.learner.pk}"' in row
    assert f'<span class="badge {status}">{label}</span>' in row
    assert f'value="{status}" class="tap {status}" aria-pressed="true"' in row
    assert "<html" not in row
    line = Attendance.objects.get(session=session, learner=world.learner)
    assert (line.status, line.reason, line.recorded_by) == (status, reason, world.trainer)


def test_without_htmx_a_tap_takes_the_trainer_back_to_the_roll_call(
    world: World, session: Session
) -> None:
    response = signed_in(world.trainer).post(
        mark_url(session, world.learner), {"status": "present"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/seances/{session.pk}/emargement/"
    assert Attendance.objects.get(session=session).status == AttendanceStatus.PRESENT


def test_the_roll_call_lists_every_learner_taking_part_with_the_four_buttons(
    world: World, session: Session, classmate: Learner
) -> None:
    page = signed_in(world.trainer).get(f"/seances/{session.pk}/emargement/").content.decode()

    assert "BERNARD Inès" in page
    assert f"{world.learner.last_name.upper()} {world.learner.first_name}" in page
    assert world.other_learner.last_name.upper() not in page
    assert page.count('class="tap excused"') == 2
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    assert "Valider l'émargement" in page


def test_an_excused_absence_without_a_reason_is_refused_in_french(
    world: World, session: Session
) -> None:
    response = htmx_client(world.trainer).post(
        mark_url(session, world.learner), {"status": "excused", "reason": "  "}
    )

    assert response.status_code == 200
    assert "Une absence excusée demande un motif." in response.content.decode()
    assert not Attendance.objects.exists()


def test_a_change_after_validation_leaves_a_history_row_with_before_after_and_author(
    world: World, session: Session
) -> None:
    with time_machine.travel(at(11, 12), tick=False):
        htmx_client(world.trainer).post(mark_url(session, world.learner), {"status": "present"})
    with time_machine.travel(at(11, 12, 5), tick=False):
        signed_in(world.trainer).post(f"/seances/{session.pk}/emargement/valider/")

    with time_machine.travel(at(12, 9), tick=False):
        response = htmx_client(world.staff).post(
            mark_url(session, world.learner), {"status": "late", "reason": "Train supprimé"}
        )

    history = list(Attendance.history.filter(session_id=session.pk).order_by("history_date"))
    assert [(row.status, row.history_user) for row in history] == [
        ("present", world.trainer),
        ("late", world.staff),
    ]
    assert history[-1].history_date == at(12, 9)
    # The answer also swaps the page's history block, out of band.
    fragment = response.content.decode()
    assert 'id="attendance-history" class="card" hx-swap-oob="true"' in fragment
    page = signed_in(world.trainer).get(f"/seances/{session.pk}/emargement/").content.decode()
    assert f"Validé le 11/01/2027 à 12:05 par {world.trainer.get_full_name()}." in page
    assert (
        f"12/01/2027 09:00 · {world.staff.get_full_name()} · <strong>{world.learner}</strong> : "
        "Présent → En retard (Train supprimé)"
    ) in page


def test_a_change_made_outside_a_request_still_names_its_author(
    world: World, session: Session
) -> None:
    attendance_mark(session=session, learner=world.learner, status="absent", by=world.trainer)

    assert Attendance.history.get().history_user == world.trainer


def test_validation_is_refused_while_a_learner_has_no_status(
    world: World, session: Session, classmate: Learner
) -> None:
    attendance_mark(session=session, learner=world.learner, status="present", by=world.trainer)

    with pytest.raises(ValidationError) as refusal:
        attendance_validate(session=session, by=world.trainer)

    assert refusal.value.messages == [
        "Présence non relevée pour Inès Bernard : l'émargement ne peut pas être validé."
    ]
    session.refresh_from_db()
    assert session.attendance_validated_at is None


def test_the_page_shows_the_refusal_to_validate(
    world: World, session: Session, classmate: Learner
) -> None:
    response = signed_in(world.trainer).post(
        f"/seances/{session.pk}/emargement/valider/", follow=True
    )

    page = response.content.decode()
    assert "Présences non relevées pour" in page
    assert "Inès Bernard" in page


@time_machine.travel(at(11, 11, 55), tick=False)
def test_the_trainer_validates_a_complete_roll_call(world: World, session: Session) -> None:
    attendance_mark(session=session, learner=world.learner, status="late", by=world.trainer)

    attendance_validate(session=session, by=world.trainer)

    session.refresh_from_db()
    assert session.attendance_validated_at == at(11, 11, 55)
    assert session.attendance_validated_by == world.trainer


def test_only_learners_taking_part_can_be_marked(world: World, session: Session) -> None:
    response = signed_in(world.trainer).post(
        mark_url(session, world.other_learner), {"status": "present"}
    )
    assert response.status_code == 404
    with pytest.raises(ValidationError):
        attendance_mark(
            session=session, learner=world.other_learner, status="present", by=world.trainer
        )


def test_a_group_session_takes_only_its_group(world: World, classmate: Learner) -> None:
    group_session = plan_session(world.cohort, world.trainer, at(11, 14), group=[classmate])

    page = signed_in(world.trainer).get(f"/seances/{group_session.pk}/emargement/")

    assert "BERNARD Inès" in page.content.decode()
    assert world.learner.last_name.upper() not in page.content.decode()


@pytest.mark.parametrize("who", ["other_trainer", "learner_user", "guardian_user", "partner"])
def test_someone_elses_roll_call_answers_404(world: World, session: Session, who: str) -> None:
    client = signed_in(getattr(world, who))
    assert client.get(f"/seances/{session.pk}/emargement/").status_code == 404
    assert client.post(mark_url(session, world.learner), {"status": "absent"}).status_code == 404
    assert client.post(f"/seances/{session.pk}/emargement/valider/").status_code == 404
    assert not Attendance.objects.exists()


def test_the_services_refuse_another_trainer_whatever_the_page(
    world: World, session: Session
) -> None:
    with pytest.raises(PermissionDenied):
        attendance_mark(
            session=session, learner=world.learner, status="present", by=world.other_trainer
        )
    with pytest.raises(PermissionDenied):
        attendance_validate(session=session, by=world.other_trainer)


def test_a_cancelled_session_has_no_roll_call_to_take(world: World) -> None:
    cancelled = plan_session(world.cohort, world.trainer, at(11, 8), status="cancelled")

    response = htmx_client(world.trainer).post(
        mark_url(cancelled, world.learner), {"status": "present"}
    )
    page = signed_in(world.trainer).get(f"/seances/{cancelled.pk}/emargement/").content.decode()

    assert (
        "Cette séance est annulée : elle n&#x27;a pas d&#x27;émargement."
        in response.content.decode()
    )
    assert not Attendance.objects.exists()
    assert "Valider l'émargement" not in page


def test_staff_take_any_roll_call(world: World, session: Session) -> None:
    assert signed_in(world.staff).get(f"/seances/{session.pk}/emargement/").status_code == 200


@pytest.fixture
def half_day(world: World) -> dict[str, Session]:
    return {
        "first": plan_session(world.cohort, world.trainer, at(11, 8), hours=2),
        "second": plan_session(world.cohort, world.trainer, at(11, 10), hours=2),
        "afternoon": plan_session(world.cohort, world.trainer, at(11, 14), hours=2),
    }


@time_machine.travel(at(11, 9, 10), tick=False)
def test_a_learner_signs_during_a_running_session_and_the_whole_half_day_is_signed(
    world: World, half_day: dict[str, Session]
) -> None:
    response = signed_in(world.learner_user).post("/emargement/signer/", follow=True)

    assert "Présence signée à 09:10." in response.content.decode()
    lines = {line.session_id: line for line in Attendance.objects.filter(learner=world.learner)}
    assert set(lines) == {half_day["first"].pk, half_day["second"].pk}
    assert {line.signed_at for line in lines.values()} == {at(11, 9, 10)}
    # The status stays the trainer's to record: a signature never fills in the roll call.
    assert {line.status for line in lines.values()} == {""}
    assert Attendance.history.filter(history_user=world.learner_user).count() == 2


def test_a_learner_s_sessions_are_those_they_are_a_participant_of(world: World) -> None:
    classmate = LearnerFactory()
    EnrolmentFactory(learner=classmate, cohort=world.cohort)
    sessions = {
        "whole class": plan_session(world.cohort, world.trainer, at(11, 8)),
        "their group": plan_session(world.cohort, world.trainer, at(12, 8), group=[world.learner]),
        "another group": plan_session(world.cohort, world.trainer, at(13, 8), group=[classmate]),
        "another cohort": plan_session(world.other_cohort, world.other_trainer, at(11, 8)),
    }

    def seen_from_both_sides() -> set[str]:
        theirs = set(sessions_of(world.learner).values_list("pk", flat=True))
        named = {name for name, session in sessions.items() if session.pk in theirs}
        assert named == {
            name
            for name, session in sessions.items()
            if participants(session).filter(pk=world.learner.pk).exists()
        }
        return named

    assert seen_from_both_sides() == {"whole class", "their group"}
    world.enrolment.status = EnrolmentStatus.SUSPENDED
    world.enrolment.save()
    # Suspended: off the whole-class roll calls, still in the group they were put in.
    assert seen_from_both_sides() == {"their group"}


def test_a_signature_never_overrides_what_the_trainer_recorded(
    world: World, half_day: dict[str, Session]
) -> None:
    attendance_mark(
        session=half_day["first"], learner=world.learner, status="late", by=world.trainer
    )

    attendance_sign(learner=world.learner, at=at(11, 8, 40))

    first = Attendance.objects.get(session=half_day["first"], learner=world.learner)
    assert (first.status, first.signed_at) == ("late", at(11, 8, 40))


@pytest.mark.parametrize(
    "moment",
    [at(11, 7, 45), at(11, 12, 0), at(11, 13, 30), at(12, 9)],
    ids=["before", "at-the-end", "lunch", "next-day"],
)
def test_signing_outside_a_running_session_is_refused(
    world: World, half_day: dict[str, Session], moment: datetime.datetime
) -> None:
    with time_machine.travel(moment):
        response = signed_in(world.learner_user).post("/emargement/signer/", follow=True)

    assert (
        "Aucune séance en cours : la signature est possible pendant la séance."
        in response.content.decode()
    )
    assert not Attendance.objects.exists()


def test_a_cancelled_session_cannot_be_signed(world: World) -> None:
    plan_session(world.cohort, world.trainer, at(11, 8), status=SessionStatus.CANCELLED)

    with pytest.raises(ValidationError):
        attendance_sign(learner=world.learner, at=at(11, 9))


def test_only_a_learner_signs_their_own_presence(world: World, session: Session) -> None:
    with time_machine.travel(at(11, 9)):
        assert signed_in(world.guardian_user).post("/emargement/signer/").status_code == 404
        assert signed_in(world.trainer).post("/emargement/signer/").status_code == 404
        assert signed_in(world.learner_user).get("/emargement/signer/").status_code == 405


def test_hours_are_derived_from_the_roll_call(world: World, django_assert_num_queries: Any) -> None:
    present, late, excused = (
        plan_session(world.cohort, world.trainer, at(day, 8)) for day in (11, 12, 13)
    )
    plan_session(world.cohort, world.trainer, at(14, 8), status=SessionStatus.CANCELLED)
    plan_session(world.other_cohort, world.other_trainer, at(14, 8))  # not theirs
    for session, status, reason in [
        (present, "present", ""),
        (late, "late", ""),
        (excused, "excused", "Convocation au tribunal"),
    ]:
        attendance_mark(
            session=session, learner=world.learner, status=status, reason=reason, by=world.trainer
        )

    with django_assert_num_queries(1):
        hours = hours_attended(learner=world.learner)

    assert (
        hours.scheduled,
        hours.attended,
        hours.justified_absence,
        hours.unjustified_absence,
        hours.unrecorded,
    ) == (Decimal(12), Decimal(8), Decimal(4), Decimal(0), Decimal(0))


def test_hours_per_course_and_period_count_absences_and_unrecorded_sessions(
    world: World, classmate: Learner
) -> None:
    milling = Course.objects.create(
        programme=world.cohort.programme,
        code="FRAIS",
        title="Fraisage",
        kind="workshop",
        planned_hours=60,
    )
    absent = plan_session(world.cohort, world.trainer, at(11, 8), hours=3, course=milling)
    plan_session(world.cohort, world.trainer, at(12, 8), hours=2, course=milling)  # not taken
    plan_session(world.cohort, world.trainer, at(13, 8), hours=4)  # turning
    plan_session(world.cohort, world.trainer, at(18, 8), hours=4, course=milling)  # next week
    attendance_mark(session=absent, learner=world.learner, status="absent", by=world.trainer)
    attendance_mark(session=absent, learner=classmate, status="present", by=world.trainer)

    hours = hours_attended(
        learner=world.learner,
        course=milling,
        start=datetime.date(2027, 1, 11),
        end=datetime.date(2027, 1, 17),
    )

    assert (hours.scheduled, hours.attended, hours.unjustified_absence, hours.unrecorded) == (
        Decimal(5),
        Decimal(0),
        Decimal(3),
        Decimal(2),
    )


def test_the_roll_call_costs_the_same_for_one_learner_and_for_fifteen(
    world: World, session: Session
) -> None:
    url = f"/seances/{session.pk}/emargement/"
    attendance_mark(session=session, learner=world.learner, status="present", by=world.trainer)
    attendance_validate(session=session, by=world.trainer)
    one = page_queries(world.trainer, url)

    for n in range(14):
        learner = EnrolmentFactory(cohort=world.cohort).learner
        attendance_mark(
            session=session, learner=learner, status="absent", by=UserFactory(role="staff")
        )
        if n % 2:
            attendance_sign(learner=learner, at=at(11, 9))

    assert page_queries(world.trainer, url) == one


def _hours_of_each_session(learner: Learner, start: datetime.date, end: datetime.date) -> Any:
    """The oracle: the learner's sessions by ``Session.objects.attended_by`` itself, their
    lines read one by one, summed in Python."""
    first = datetime.datetime.combine(start, datetime.time(), tzinfo=PARIS)
    last = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time(), tzinfo=PARIS
    )
    figures: dict[int, list[Decimal]] = {}
    for session in Session.objects.attended_by(learner).exclude(status=SessionStatus.CANCELLED):
        if not first <= session.start < last:
            continue
        line = Attendance.objects.filter(session=session, learner=learner).first()
        status = line.status if line else ""
        hours = Decimal((session.end - session.start).total_seconds()) / 3600
        row = figures.setdefault(session.course_id, [Decimal(0)] * 4)
        row[0] += hours
        row[1] += hours if status in ("present", "late") else 0
        row[2] += hours if status == "excused" else 0
        row[3] += hours if status == "absent" else 0
    return figures


def test_a_class_hours_read_together_match_each_learner_s_sessions_and_lines(
    world: World, classmate: Learner, django_assert_num_queries: Any
) -> None:
    milling = Course.objects.create(
        programme=world.cohort.programme, code="FRAIS", title="Fraisage", kind="workshop",
        planned_hours=60,
    )  # fmt: skip
    # A learner who left the class on Tuesday evening for the other cohort.
    leaver = LearnerFactory(first_name="Hugo", last_name="Petit")
    EnrolmentFactory(
        learner=leaver,
        cohort=world.cohort,
        end_date=datetime.date(2027, 1, 12),
        status=EnrolmentStatus.WITHDRAWN,
    )
    EnrolmentFactory(
        learner=leaver, cohort=world.other_cohort, start_date=datetime.date(2027, 1, 13)
    )
    everyone = [world.learner, classmate, leaver, world.other_learner]
    sessions = [plan_session(world.cohort, world.trainer, at(day, 8)) for day in (11, 12, 13, 14)]
    sessions.append(
        plan_session(world.cohort, world.trainer, at(15, 8), status=SessionStatus.CANCELLED)
    )
    sessions.append(
        plan_session(
            world.cohort, world.trainer, at(12, 14), 3, course=milling, group=[classmate, leaver]
        )
    )
    sessions.append(
        plan_session(world.other_cohort, world.other_trainer, at(13, 14), 2, course=milling)
    )
    sessions.append(plan_session(world.other_cohort, world.other_trainer, at(11, 14), 2))
    statuses = ["present", "late", "absent", "excused"]
    for n, session in enumerate(sessions):
        for m, learner in enumerate(everyone):
            if (n + m) % 5:  # some lines left unrecorded
                Attendance.objects.create(
                    session=session, learner=learner, status=statuses[(n + m) % 4], reason="Motif"
                )
    start, end = datetime.date(2027, 1, 11), datetime.date(2027, 1, 14)

    with django_assert_num_queries(1):
        reports = hours_reports([learner.pk for learner in everyone], start=start, end=end)

    for learner in everyone:
        expected = _hours_of_each_session(learner, start, end)
        assert {
            course: [
                hours.scheduled,
                hours.attended,
                hours.justified_absence,
                hours.unjustified_absence,
            ]
            for course, hours in reports[learner.pk].by_course.items()
        } == expected, learner
        assert reports[learner.pk] == hours_report(learner=learner, start=start, end=end)
    # What the world holds: the leaver counts Monday and Tuesday in one class, then
    # Wednesday's afternoon in the other; the cancelled Friday counts for no one.
    assert reports[leaver.pk].total.scheduled == Decimal(4 + 4 + 3 + 2)
    assert reports[world.other_learner.pk].total.scheduled == Decimal(2 + 2)
