"""Writes to the timetable: sessions and weekly series, each through the one check
of ``courses.scheduling``, inside the transaction that writes them.

``by`` is who asks. A series records it; a session keeps no author of its own, but
every timetable write takes it, so that callers never need to know which one does.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from school.db import save_checked
from school.models import Cohort, Learner, User

from . import scheduling
from .models import Course, Machine, Room, Session, SessionSeries, SessionStatus
from .scheduling import Candidate

CHANGEABLE = frozenset({"course", "trainer", "room", "start", "end", "learners", "machines"})


@dataclass
class Planned:
    """A session checked against the timetable, its resources locked: ``write()`` it in
    the same transaction. The back office checks in its form and writes on save; the
    other callers do both at once (``session_create``, ``session_update``)."""

    session: Session
    learners: tuple[Learner, ...]
    machines: tuple[Machine, ...]

    def write(self) -> Session:
        if self.session.pk is not None:
            self.session.sequence += 1
        save_checked(self.session)
        self.session.learners.set(self.learners)
        self.session.machines.set(self.machines)
        return self.session


def _in_the_writing_transaction() -> None:
    # The check's locks last as long as the transaction: outside one they would be
    # gone before the write, and a second process could book the same slot meanwhile.
    if not transaction.get_connection().in_atomic_block:
        raise TypeError("plan a session inside the transaction that writes it")


@transaction.atomic
def session_create(*, by: User | None = None, **fields: Any) -> Session:
    return session_plan_create(by=by, **fields).write()


def session_plan_create(
    *,
    course: Course,
    cohort: Cohort,
    trainer: User,
    room: Room,
    start: datetime.datetime,
    end: datetime.datetime,
    learners: Iterable[Learner] = (),
    machines: Iterable[Machine] = (),
    by: User | None = None,
) -> Planned:
    _in_the_writing_transaction()
    candidate = Candidate(
        course=course,
        cohort=cohort,
        trainer=trainer,
        room=room,
        start=start,
        end=end,
        learners=tuple(learners),
        machines=tuple(machines),
    )
    session = candidate.as_session()
    _refuse(_clean(session) + scheduling.problems([candidate]))
    return Planned(session, candidate.learners, candidate.machines)


@transaction.atomic
def session_update(*, session: Session, by: User | None = None, **changes: Any) -> Session:
    """Change some of ``CHANGEABLE``; the calendar feeds see a new version (SEQUENCE).

    Returns the session as stored: the instance passed in is not updated.
    """
    return session_plan_update(session=session, by=by, **changes).write()


def session_plan_update(*, session: Session, by: User | None = None, **changes: Any) -> Planned:
    _in_the_writing_transaction()
    if unknown := set(changes) - CHANGEABLE:
        raise TypeError(f"session_update() cannot change {sorted(unknown)}")
    # Lock the row: two edits of one session must not both start from the same version.
    session = Session.objects.select_for_update(no_key=True).get(pk=session.pk)
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError(_("Cette séance est annulée : elle ne peut plus être modifiée."))
    if session.is_attendance_validated:
        # Its roll call is the record of the hours attended: moving it would rewrite them.
        raise ValidationError(
            _("L'émargement de cette séance est validé : elle ne peut plus être modifiée.")
        )
    learners = tuple(changes.pop("learners") if "learners" in changes else session.learners.all())
    machines = tuple(changes.pop("machines") if "machines" in changes else session.machines.all())
    for field, value in changes.items():
        setattr(session, field, value)
    candidate = Candidate.of(session, learners=learners, machines=machines)
    _refuse(_clean(session) + scheduling.problems([candidate], exclude=[session.pk]))
    return Planned(session, learners, machines)


@transaction.atomic
def session_cancel(*, session: Session, by: User | None = None) -> Session:
    """Cancel: the session stays on calendars as cancelled and frees its slot."""
    session = Session.objects.select_for_update(no_key=True).get(pk=session.pk)
    if session.status == SessionStatus.DONE or session.is_attendance_validated:
        # Its attendance is the ledger of hours attended: it must keep counting.
        raise ValidationError(_("Cette séance a eu lieu : elle ne peut plus être annulée."))
    if session.status != SessionStatus.CANCELLED:
        session.status = SessionStatus.CANCELLED
        session.sequence += 1
        session.save(update_fields=["status", "sequence", "updated_at"])
    return session


@transaction.atomic
def series_create(
    *,
    course: Course,
    cohort: Cohort,
    trainer: User,
    room: Room,
    weekday: int,
    start_time: datetime.time,
    end_time: datetime.time,
    first_date: datetime.date,
    last_date: datetime.date,
    learners: Iterable[Learner] = (),
    machines: Iterable[Machine] = (),
    by: User | None = None,
) -> SessionSeries:
    """A session every ``weekday`` (0 = Monday) from ``first_date`` to ``last_date``
    included, skipping closures, at local wall-clock times. All or nothing: any problem
    on any date refuses the whole series, with every problem listed."""
    series = SessionSeries(
        course=course,
        cohort=cohort,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        first_date=first_date,
        last_date=last_date,
        created_by=by,
    )
    _refuse(_clean(series) + _pattern_problems(series))
    dates = scheduling.weekly_dates(weekday=weekday, first_date=first_date, last_date=last_date)
    if not dates:
        raise ValidationError(_("Aucune séance : toutes les dates de la série sont fermées."))
    group, used = tuple(learners), tuple(machines)
    candidates = [
        Candidate(
            course=course,
            cohort=cohort,
            trainer=trainer,
            room=room,
            start=scheduling.local_datetime(day, start_time),
            end=scheduling.local_datetime(day, end_time),
            learners=group,
            machines=used,
        )
        for day in dates
    ]
    sessions = [candidate.as_session() for candidate in candidates]
    # The sessions differ only by their times, which the check validates: cleaning one
    # cleans them all, for a query count that does not grow with the series.
    _refuse(_clean(sessions[0]) + scheduling.problems(candidates))

    save_checked(series)
    for session in sessions:
        session.series = series
    Session.objects.bulk_create(sessions)
    Session.learners.through.objects.bulk_create(
        [
            Session.learners.through(session_id=session.pk, learner_id=learner.pk)
            for session in sessions
            for learner in group
        ]
    )
    Session.machines.through.objects.bulk_create(
        [
            Session.machines.through(session_id=session.pk, machine_id=machine.pk)
            for session in sessions
            for machine in used
        ]
    )
    return series


def _pattern_problems(series: SessionSeries) -> list[str]:
    found = []
    if not 0 <= series.weekday <= 6:
        found.append(_("Le jour de la semaine va de 0 (lundi) à 6 (dimanche)."))
    if series.end_time <= series.start_time:
        found.append(_("L'heure de fin des séances doit suivre leur heure de début."))
    if series.last_date < series.first_date:
        found.append(_("La dernière date de la série précède la première."))
    return found


def _clean(instance: models.Model) -> list[str]:
    # The trainer's role is checked by scheduling in people's words; the field's own
    # check (limit_choices_to) would only say that no such user exists.
    try:
        instance.full_clean(exclude=["trainer"])
    except ValidationError as error:
        return error.messages
    return []


def _refuse(messages: list[str]) -> None:
    if messages:
        raise ValidationError(list(dict.fromkeys(messages)))
