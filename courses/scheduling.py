"""The timetable's one conflict check, and the machine cover a minor needs.

Every write of a session (the services in ``courses.services``, hence the admin, the
API and imports) hands its candidate sessions to :func:`problems` inside the
transaction that will write them. The check is set-based: one session or a year's
series, it locks the resources involved, loads what already stands in their way with
a handful of queries, and compares in memory.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from django.db import models
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from school.models import Cohort, Enrolment, Learner, Role, User
from school.registry import Registry

from .models import (
    ClosurePeriod,
    Course,
    Derogation,
    Machine,
    MachineKind,
    MedicalFitness,
    Room,
    SafetyTraining,
    Session,
    SessionStatus,
)

ONE_DAY = datetime.timedelta(days=1)
MIDNIGHT = datetime.time(0)
ONE_WEEK = datetime.timedelta(weeks=1)


@dataclass(frozen=True)
class Candidate:
    """A session about to be written, as the check sees it."""

    course: Course
    cohort: Cohort
    trainer: User
    room: Room
    start: datetime.datetime
    end: datetime.datetime
    learners: tuple[Learner, ...] = ()  # a group of the cohort; empty: the whole cohort
    machines: tuple[Machine, ...] = ()

    # What a candidate and its session hold alike.
    SESSION_FIELDS: ClassVar[tuple[str, ...]] = (
        "course",
        "cohort",
        "trainer",
        "room",
        "start",
        "end",
    )

    @classmethod
    def of(
        cls,
        session: Session,
        *,
        learners: tuple[Learner, ...] = (),
        machines: tuple[Machine, ...] = (),
    ) -> Candidate:
        """A stored session as the check sees it, with its group and machines."""
        fields = {name: getattr(session, name) for name in cls.SESSION_FIELDS}
        return cls(**fields, learners=learners, machines=machines)

    def as_session(self) -> Session:
        """The session to write (its group and machines are set once it is saved)."""
        return Session(**{name: getattr(self, name) for name in self.SESSION_FIELDS})

    @property
    def day(self) -> datetime.date:
        return local(self.start).date()


# What a higher app adds to the check (internships: a learner away on placement). It is
# registered from that app's AppConfig.ready(), since courses may not import it.
ConflictSource = Callable[[Sequence[tuple[Candidate, tuple[Learner, ...]]]], Iterable[str]]
_sources: Registry[ConflictSource] = Registry()
register_conflict_source = _sources.register


def local(moment: datetime.datetime) -> datetime.datetime:
    # The school's clock, whatever time zone a request may have activated.
    return timezone.localtime(moment, timezone.get_default_timezone())


def local_datetime(day: datetime.date, time: datetime.time) -> datetime.datetime:
    """``time`` on ``day`` by the school's wall clock: 8 h stays 8 h across a DST change."""
    return datetime.datetime.combine(day, time, tzinfo=timezone.get_default_timezone())


def weekly_dates(
    *, weekday: int, first_date: datetime.date, last_date: datetime.date
) -> list[datetime.date]:
    """The ``weekday`` dates (0 = Monday) from ``first_date`` to ``last_date`` included,
    without the days a closure period (holidays, public holidays) covers."""
    closed: set[datetime.date] = set()
    for start, end in ClosurePeriod.objects.overlapping(first_date, last_date).values_list(
        "start_date", "end_date"
    ):
        closed.update(start + ONE_DAY * n for n in range((end - start).days + 1))
    day = first_date + ONE_DAY * ((weekday - first_date.weekday()) % 7)
    dates = []
    while day <= last_date:
        if day not in closed:
            dates.append(day)
        day += ONE_WEEK
    return dates


def problems(candidates: Sequence[Candidate], *, exclude: Iterable[int] = ()) -> list[str]:
    """Every reason the candidates cannot be written, in French; empty when they can.

    Call it inside the transaction that writes them: it first locks the rows of the
    trainers, rooms, machines and cohorts involved, so that a concurrent writer of an
    overlapping session waits for this transaction to end and then sees its sessions.
    ``exclude`` names sessions to ignore (the one being moved).
    """
    if not candidates:
        return []
    _lock(candidates)
    members = _active_members({candidate.cohort.pk for candidate in candidates})
    taking_part = [
        (candidate, candidate.learners or tuple(members.get(candidate.cohort.pk, {}).values()))
        for candidate in candidates
    ]
    found = [
        *_invalid(candidates, members),
        *_conflicts(candidates, set(exclude)),
        *missing_cover(taking_part),
    ]
    for source in _sources:
        found.extend(source(taking_part))
    # A series repeats a fault of its pattern on every date: say it once.
    return list(dict.fromkeys(found))


def _lock(candidates: Sequence[Candidate]) -> None:
    # Always the same order (users, rooms, machines, cohorts; by id), so that two writers
    # wait for each other instead of deadlocking. NO KEY: a lock that still lets other
    # rows point at these (an enrolment, an attendance) while we hold it.
    rows: list[tuple[type[models.Model], set[int]]] = [
        (User, {candidate.trainer.pk for candidate in candidates}),
        (Room, {candidate.room.pk for candidate in candidates}),
        (Machine, {machine.pk for candidate in candidates for machine in candidate.machines}),
        (Cohort, {candidate.cohort.pk for candidate in candidates}),
    ]
    for model, ids in rows:
        if ids:
            list(
                model._default_manager.select_for_update(no_key=True)
                .filter(pk__in=sorted(ids))
                .order_by("pk")
                .values_list("pk", flat=True)
            )


def _active_members(cohort_ids: set[int]) -> dict[int, dict[int, Learner]]:
    members: dict[int, dict[int, Learner]] = defaultdict(dict)
    for enrolment in (
        Enrolment.objects.active().filter(cohort_id__in=cohort_ids).select_related("learner")
    ):
        members[enrolment.cohort_id][enrolment.learner_id] = enrolment.learner
    return members


def _invalid(
    candidates: Sequence[Candidate], members: dict[int, dict[int, Learner]]
) -> Iterator[str]:
    for candidate in candidates:
        if candidate.end <= candidate.start:
            yield _("La fin de la séance doit suivre son début.")
        if candidate.course.programme_id != candidate.cohort.programme_id:
            yield _("Le module « %(course)s » n'appartient pas à la formation de %(cohort)s.") % {
                "course": candidate.course,
                "cohort": candidate.cohort,
            }
        if candidate.trainer.role != Role.TRAINER:
            yield _("%(user)s n'est pas formateur : seul un formateur anime une séance.") % {
                "user": candidate.trainer
            }
        for machine in candidate.machines:
            if machine.room_id != candidate.room.pk:
                yield _(
                    "La machine %(machine)s est dans la salle %(its_room)s, pas dans %(room)s."
                ) % {
                    "machine": machine,
                    "its_room": machine.room,
                    "room": candidate.room,
                }
            if not machine.is_active:
                yield _("La machine %(machine)s est hors service.") % {"machine": machine}
        enrolled = members.get(candidate.cohort.pk, {})
        for learner in candidate.learners:
            if learner.pk not in enrolled:
                yield _("%(learner)s n'est pas en formation dans la promotion %(cohort)s.") % {
                    "learner": learner,
                    "cohort": candidate.cohort,
                }


# A resource a session holds for its duration: ("trainer", user id), ("room", id)…
Key = tuple[str, int]
TRAINER, ROOM, MACHINE, COHORT = "trainer", "room", "machine", "cohort"
_ORDER = {TRAINER: 0, ROOM: 1, MACHINE: 2, COHORT: 3}


@dataclass(eq=False)
class _Booking:
    """A session on the timetable, existing or candidate, as the sweep sees it."""

    course: str
    start: datetime.datetime
    end: datetime.datetime
    keys: list[Key]
    learners: dict[int, Learner] | None  # None: the whole cohort
    is_candidate: bool


def _keys(trainer: int, room: int, cohort: int, machines: Iterable[int]) -> list[Key]:
    return [(TRAINER, trainer), (ROOM, room), (COHORT, cohort), *((MACHINE, m) for m in machines)]


def _conflicts(candidates: Sequence[Candidate], exclude: set[int]) -> list[str]:
    labels: dict[Key, str] = {}
    bookings: list[_Booking] = []
    for candidate in candidates:
        if candidate.end <= candidate.start:
            continue  # refused already; an empty interval overlaps nothing
        keys = _keys(
            candidate.trainer.pk,
            candidate.room.pk,
            candidate.cohort.pk,
            (machine.pk for machine in candidate.machines),
        )
        names = [candidate.trainer, candidate.room, candidate.cohort, *candidate.machines]
        labels.update(zip(keys, map(str, names), strict=True))
        group = {learner.pk: learner for learner in candidate.learners} or None
        bookings.append(
            _Booking(str(candidate.course), candidate.start, candidate.end, keys, group, True)
        )
    if not bookings:
        return []
    bookings += _existing(
        min(booking.start for booking in bookings),
        max(booking.end for booking in bookings),
        set(labels),
        exclude,
    )

    buckets: dict[Key, list[_Booking]] = defaultdict(list)
    for booking in bookings:
        for key in booking.keys:
            if key in labels:
                buckets[key].append(booking)
    found: list[tuple[datetime.datetime, int, str]] = []
    for key, bucket in buckets.items():
        for earlier, later in _overlapping_pairs(bucket):
            subject, other = (later, earlier) if later.is_candidate else (earlier, later)
            if subject.is_candidate and (message := _conflict(key, labels[key], subject, other)):
                found.append((subject.start, _ORDER[key[0]], message))
    found.sort(key=lambda item: item[:2])
    return [message for _start, _order, message in found]


def _existing(
    start: datetime.datetime, end: datetime.datetime, keys: set[Key], exclude: set[int]
) -> list[_Booking]:
    """The planned sessions between ``start`` and ``end`` that hold one of ``keys``."""
    ids: dict[str, list[int]] = defaultdict(list)
    for kind, pk in keys:
        ids[kind].append(pk)
    holds = Q(trainer_id__in=ids[TRAINER]) | Q(room_id__in=ids[ROOM]) | Q(cohort_id__in=ids[COHORT])
    if ids[MACHINE]:
        holds |= Q(
            pk__in=Session.machines.through.objects.filter(machine_id__in=ids[MACHINE]).values(
                "session_id"
            )
        )
    sessions = Session.objects.active().between(start, end).filter(holds).exclude(pk__in=exclude)
    # Through rows filtered by the same query, not by a list of ids: a year of sessions
    # would exceed SQLite's limit of parameters in one statement.
    found = sessions.values("pk")
    machines: dict[int, list[int]] = defaultdict(list)
    for session_id, machine_id in Session.machines.through.objects.filter(
        session_id__in=found
    ).values_list("session_id", "machine_id"):
        machines[session_id].append(machine_id)
    groups: dict[int, dict[int, Learner]] = defaultdict(dict)
    for row in Session.learners.through.objects.filter(session_id__in=found).select_related(
        "learner"
    ):
        groups[row.session_id][row.learner_id] = row.learner
    return [
        _Booking(
            str(session.course),
            session.start,
            session.end,
            _keys(session.trainer_id, session.room_id, session.cohort_id, machines[session.pk]),
            groups.get(session.pk),
            False,
        )
        for session in sessions.select_related("course")
    ]


def _overlapping_pairs(bookings: list[_Booking]) -> Iterator[tuple[_Booking, _Booking]]:
    """Each pair of bookings whose half-open intervals [start, end) intersect, the
    earlier first: one sort, then a sweep that keeps only the bookings still running."""
    running: list[_Booking] = []
    for booking in sorted(bookings, key=lambda b: (b.start, b.end)):
        running = [other for other in running if other.end > booking.start]
        for other in running:
            yield other, booking
        running.append(booking)


def _conflict(key: Key, label: str, subject: _Booking, other: _Booking) -> str | None:
    """The refusal of ``subject`` because ``other`` holds ``key`` at the same time."""
    words = {"course": other.course, "when": _when(other.start, other.end)}
    kind = key[0]
    if kind == TRAINER:
        return _("Le formateur %(trainer)s est déjà en « %(course)s » %(when)s.") % {
            "trainer": label,
            **words,
        }
    if kind == ROOM:
        return _("La salle %(room)s est déjà occupée par « %(course)s » %(when)s.") % {
            "room": label,
            **words,
        }
    if kind == MACHINE:
        return _("La machine %(machine)s est déjà réservée pour « %(course)s » %(when)s.") % {
            "machine": label,
            **words,
        }
    if other.learners is None:
        return _("La promotion %(cohort)s a déjà « %(course)s » %(when)s.") % {
            "cohort": label,
            **words,
        }
    busy = [
        learner
        for pk, learner in other.learners.items()
        if subject.learners is None or pk in subject.learners
    ]
    if not busy:
        return None  # two groups of one cohort with no one in common may work at once
    busy.sort(key=lambda learner: (learner.last_name, learner.first_name))
    return ngettext(
        "%(learners)s a déjà « %(course)s » %(when)s.",
        "%(learners)s ont déjà « %(course)s » %(when)s.",
        len(busy),
    ) % {"learners": _enumerate([str(learner) for learner in busy]), **words}


def _enumerate(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return _("%(first)s et %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def _when(start: datetime.datetime, end: datetime.datetime) -> str:
    start, end = local(start), local(end)
    return _("le %(day)s de %(start)s à %(end)s") % {
        "day": f"{start:%d/%m}",
        "start": _clock(start),
        "end": _clock(end),
    }


def _clock(moment: datetime.datetime) -> str:
    """French clock time: « 8 h », « 13 h 30 »."""
    if moment.minute:
        return _("%(hour)d h %(minute)02d") % {"hour": moment.hour, "minute": moment.minute}
    return _("%(hour)d h") % {"hour": moment.hour}


def missing_cover(taking_part: Sequence[tuple[Candidate, tuple[Learner, ...]]]) -> list[str]:
    """A minor on a machine needs, on that date, the school's derogation for the machine's
    kind, a medical fitness and a safety training for that kind (Code du travail,
    R. 4153-40 and following)."""
    needs = [
        (candidate, candidate.day, learner)
        for candidate, learners in taking_part
        if candidate.machines
        for learner in learners
        if learner.is_minor_on(candidate.day)
    ]
    if not needs:
        return []
    first = min(day for _candidate, day, _learner in needs)
    last = max(day for _candidate, day, _learner in needs)
    minors = {learner.pk for _candidate, _day, learner in needs}
    derogations = list(Derogation.objects.filter(declared_on__lte=last))
    fitnesses: dict[int, list[MedicalFitness]] = defaultdict(list)
    for fitness in MedicalFitness.objects.filter(
        learner_id__in=minors, issued_on__lte=last, valid_until__gte=first
    ):
        fitnesses[fitness.learner_id].append(fitness)
    trained_on = {
        (learner_id, kind): day
        for learner_id, kind, day in SafetyTraining.objects.filter(
            learner_id__in=minors, trained_on__lte=last
        ).values_list("learner_id", "machine_kind", "trained_on")
    }

    found = []
    for candidate, day, learner in needs:
        fit = any(f.issued_on <= day <= f.valid_until for f in fitnesses[learner.pk])
        for machine in candidate.machines:
            kind = {"kind": machine.get_kind_display()}
            missing = []
            if not any(derogation.covers(machine.kind, day) for derogation in derogations):
                missing.append(
                    _("pas de déclaration de dérogation valable pour « %(kind)s »") % kind
                )
            if not fit:
                missing.append(_("pas d'avis médical d'aptitude valable"))
            if trained_on.get((learner.pk, machine.kind), day + ONE_DAY) > day:
                missing.append(_("pas de formation à la sécurité sur « %(kind)s »") % kind)
            if missing:
                found.append(
                    _(
                        "%(learner)s (moins de 18 ans le %(day)s) ne peut pas travailler "
                        "sur %(machine)s : %(missing)s."
                    )
                    % {
                        "learner": learner,
                        "day": f"{day:%d/%m/%Y}",
                        "machine": machine,
                        "missing": ", ".join(missing),
                    }
                )
    return found


def cover_problems_on_joining(enrolment: Enrolment) -> list[str]:
    """A learner joining a cohort takes its whole-class sessions to come: a minor among
    them needs the same machine cover as if they had been scheduled one by one."""
    upcoming = (
        Session.objects.filter(cohort_id=enrolment.cohort_id, learners__isnull=True)
        .exclude(status=SessionStatus.CANCELLED)
        .filter(start__gte=max(timezone.now(), local_datetime(enrolment.start_date, MIDNIGHT)))
        .exclude(machines__isnull=True)
        .select_related("course", "cohort", "trainer", "room")
        .prefetch_related("machines")
        .distinct()
    )
    taking_part = [
        (
            Candidate.of(session, machines=tuple(session.machines.all())),
            (enrolment.learner,),
        )
        for session in upcoming
    ]
    # The first refusals say what is missing; one per session to come would flood the page.
    return missing_cover(taking_part)[:3]


@dataclass(frozen=True)
class ExpiringCover:
    """A minor's cover that lapses soon: what it is, and the last day it covers."""

    learner: Learner
    what: str
    last_day: datetime.date


def learners_with_cover_expiring(
    *, within_days: int = 60, today: datetime.date | None = None
) -> list[ExpiringCover]:
    """The active learners whose medical fitness, or the derogation for a machine kind
    they are trained on, covers them for the last time within ``within_days`` of
    ``today``, and who will still be minors the day after: sorted by that last day."""
    today = today or timezone.localdate()
    horizon = today + ONE_DAY * within_days
    # Learners in training, as a subquery: on a network, only the few whose cover lapses
    # are read, not every learner.
    in_training = Enrolment.objects.active().values("learner_id")
    lapsing_fitness = list(
        MedicalFitness.objects.filter(learner_id__in=in_training)
        .values("learner_id")
        .annotate(last_day=Max("valid_until"))
        .filter(last_day__range=(today, horizon))
    )

    # A later declaration for the same kind renews the cover: only the last one counts.
    last_covered: dict[str, datetime.date] = {}
    for derogation in Derogation.objects.all():
        for kind in derogation.machine_kinds:
            last_covered[kind] = max(
                last_covered.get(kind, datetime.date.min), derogation.valid_until
            )
    lapsing = {kind: day for kind, day in last_covered.items() if today <= day <= horizon}
    kinds_by_learner_and_day: dict[tuple[int, datetime.date], list[str]] = defaultdict(list)
    for learner_id, kind in SafetyTraining.objects.filter(
        learner_id__in=in_training, machine_kind__in=lapsing
    ).values_list("learner_id", "machine_kind"):
        kinds_by_learner_and_day[learner_id, lapsing[kind]].append(str(MachineKind(kind).label))
    learners = Learner.objects.in_bulk(
        {row["learner_id"] for row in lapsing_fitness}
        | {learner_id for learner_id, _day in kinds_by_learner_and_day}
    )
    rows = [
        ExpiringCover(learners[row["learner_id"]], _("avis médical d'aptitude"), row["last_day"])
        for row in lapsing_fitness
    ]
    rows += [
        ExpiringCover(
            learners[learner_id],
            _("déclaration de dérogation (%(kinds)s)") % {"kinds": ", ".join(sorted(kinds))},
            day,
        )
        for (learner_id, day), kinds in kinds_by_learner_and_day.items()
    ]
    return sorted(
        (row for row in rows if row.learner.is_minor_on(row.last_day + ONE_DAY)),
        key=lambda row: (row.last_day, row.learner.last_name, row.learner.first_name, row.what),
    )
