"""One rule for "a learner's sessions": their group's, and their cohort's whole-class
sessions on the days they were enrolled. Schedules, feeds and hours all follow it."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from courses.attendance import hours_attended
from courses.models import Session
from school.services import enrolment_change_status
from tests.factories import CohortFactory, EnrolmentFactory, LearnerFactory, SessionFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def on(month: int, day: int, year: int = 2027) -> datetime.datetime:
    return datetime.datetime(year, month, day, 8, tzinfo=PARIS)


def test_a_learner_takes_the_sessions_of_the_days_they_were_enrolled() -> None:
    cohort = CohortFactory(start_date=datetime.date(2026, 9, 1))
    learner = LearnerFactory()
    enrolment = EnrolmentFactory(
        learner=learner, cohort=cohort, start_date=datetime.date(2027, 1, 4)
    )
    before = SessionFactory(cohort=cohort, start=on(1, 1))
    during = SessionFactory(
        cohort=cohort, start=on(1, 12), trainer=before.trainer, room=before.room
    )
    after_leaving = SessionFactory(
        cohort=cohort, start=on(3, 2), trainer=before.trainer, room=before.room
    )

    enrolment_change_status(
        enrolment=enrolment,
        status="withdrawn",
        effective_on=datetime.date(2027, 2, 1),
        reason="Réorientation",
    )

    assert list(Session.objects.attended_by(learner)) == [during]
    assert hours_attended(learner=learner).scheduled == 4
    assert after_leaving not in Session.objects.attended_by(learner)


def test_a_group_session_counts_for_its_members_only() -> None:
    cohort = CohortFactory()
    member, other = LearnerFactory(), LearnerFactory()
    for learner in (member, other):
        EnrolmentFactory(learner=learner, cohort=cohort)
    group = SessionFactory(cohort=cohort, learners=[member])
    assert list(Session.objects.attended_by(member)) == [group]
    assert list(Session.objects.attended_by(other)) == []


def test_a_session_lasts_twelve_hours_at_most_and_the_database_says_so() -> None:
    # ``between`` relies on it to read one short range of the start index.
    session = SessionFactory()
    session.end = session.start + datetime.timedelta(hours=13)
    with pytest.raises(ValidationError, match="12 heures au plus"):
        session.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=session.pk).update(end=session.end)


def test_a_session_that_began_before_the_window_is_still_in_it() -> None:
    session = SessionFactory()
    inside = session.start + datetime.timedelta(minutes=30)
    assert list(Session.objects.between(inside, inside + datetime.timedelta(hours=1))) == [session]
