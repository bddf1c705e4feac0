"""The timetable and the workshop of the large data set (``manage.py seed_large``, see
``school.large``): frameworks and courses, each school's rooms, machines and machine
cover, two school years of sessions with their groups, roll calls, workshop orders
with their time logs and inspections, and competency evidence.

Each school draws one week of ten half-days per school year and repeats it on every
day of class: a cohort spends seven half-days in the workshop in three groups (one per
îlot: turning, milling, bench work, each with its maître professionnel), one in
technology in two half-groups, two in general teaching as a whole class. The pattern
gives each trainer, room and machine one session at a time; cohorts are away, in
placements, for two periods of three weeks a year (``placement_periods``: the
internships part puts the placements there), and holidays close the school.
"""

from __future__ import annotations

import datetime
import math
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from companies.large import cluster_name
from companies.models import Company, Contact
from school.large import (
    BAC_PRO,
    CAP,
    CohortPlan,
    Entry,
    LearnerPlan,
    Network,
    Part,
    SchoolPlan,
    SchoolYear,
    at,
    insert,
    placeholder_pdf,
    register_documents,
)
from school.models import Programme

from .demo import FRAMEWORKS
from .models import (
    ORDER_PATH,
    Attendance,
    AttendanceStatus,
    Characteristic,
    ClosureKind,
    ClosurePeriod,
    Competency,
    CompetencyBlock,
    CompetencyEvidence,
    CompetencyLevel,
    Course,
    CourseKind,
    Derogation,
    EvidenceSource,
    Inspection,
    Machine,
    MachineKind,
    Measurement,
    MedicalFitness,
    Operation,
    OrderEvent,
    OrderStatus,
    Room,
    RoomKind,
    SafetyTraining,
    Session,
    SessionStatus,
    TimeLog,
    WorkshopOrder,
)

ONE_DAY = datetime.timedelta(days=1)
ONE_WEEK = datetime.timedelta(weeks=1)
HALF_DAYS = ((8, 0, 12, 0), (13, 30, 16, 30))  # 7 h a day, 35 h a week

# The three kinds of workshop îlot, three of each a school, and their machines.
TURNING, MILLING, BENCH = 0, 1, 2
ILOTS = (
    ("tournage", (MachineKind.MANUAL_LATHE, MachineKind.MANUAL_LATHE, MachineKind.CNC_LATHE)),
    ("fraisage", (MachineKind.MILLING_MACHINE, MachineKind.MILLING_MACHINE,
                  MachineKind.CNC_MACHINING_CENTRE)),
    ("ajustage", (MachineKind.DRILL, MachineKind.SAW, MachineKind.GRINDER)),
)  # fmt: skip
MACHINE_KINDS = sorted({kind for _name, kinds in ILOTS for kind in kinds})


class CourseRow(NamedTuple):
    code: str
    title: str
    kind: str
    hours: int
    competencies: tuple[str, ...]


# Per programme: the workshop course of each îlot kind, the two technology courses
# (technology room, metrology lab), general teaching, and health and safety (taught
# in a third of the cohort at the technology half-day). Codes shared with the demo's.
COURSES = {
    CAP: (
        CourseRow("TOUR", "Tournage", CourseKind.WORKSHOP, 320, ("C1.2", "C2.1")),
        CourseRow("FRAIS", "Fraisage", CourseKind.WORKSHOP, 280, ("C1.2", "C2.2")),
        CourseRow("AJUST", "Ajustage et montage", CourseKind.WORKSHOP, 160, ("C1.3", "C3.3")),
        CourseRow("PLANS", "Lecture de plans", CourseKind.TECHNOLOGY, 90, ("C1.1",)),
        CourseRow("METRO", "Métrologie", CourseKind.TECHNOLOGY, 80, ("C3.1", "C3.2")),
        CourseRow("EG", "Français, mathématiques", CourseKind.GENERAL, 400, ()),
        CourseRow("PSE", "Prévention santé environnement", CourseKind.GENERAL, 100, ("C1.3",)),
    ),
    BAC_PRO: (
        CourseRow("TOURCN", "Tournage CN", CourseKind.WORKSHOP, 360, ("C2.2",)),
        CourseRow("FRAISCN", "Fraisage CN", CourseKind.WORKSHOP, 360, ("C2.3",)),
        CourseRow("PRODUC", "Production et maintenance", CourseKind.WORKSHOP, 200,
                  ("C2.4", "C3.2")),
        CourseRow("FAO", "Programmation et FAO", CourseKind.TECHNOLOGY, 160, ("C2.1",)),
        CourseRow("METRO", "Métrologie", CourseKind.TECHNOLOGY, 90, ("C3.1",)),
        CourseRow("EG", "Enseignement général", CourseKind.GENERAL, 900, ()),
        CourseRow("PSE", "Prévention santé environnement", CourseKind.GENERAL, 130, ("C2.4",)),
    ),
}  # fmt: skip

# The week of a school, in logical half-days 0–9 (each school and year maps them onto
# its own days): the technology half-day of each cohort (by its rank in the school),
# and its two of general teaching; every other half-day is in the workshop. At most
# three cohorts are in the workshop at once (nine îlots), two in general teaching, and
# none while a cohort is at its technology half-day (a general teacher takes a third
# of that cohort, in the first classroom).
TECHNOLOGY_SLOT = (0, 3, 6, 8)
GENERAL_SLOTS = ((1, 5), (2, 7), (4, 9), (1, 5))
WORKSHOP, TECHNOLOGY, GENERAL = "W", "T", "G"


def _kind(rank: int, slot: int) -> str:
    if slot == TECHNOLOGY_SLOT[rank]:
        return TECHNOLOGY
    return GENERAL if slot in GENERAL_SLOTS[rank] else WORKSHOP


# [cohort rank][slot]: what the cohort does, and its place among the cohorts doing the
# same at that half-day (which îlot of each kind, which classroom).
KINDS = [[_kind(rank, slot) for slot in range(10)] for rank in range(4)]
PLACES = [
    [[r for r in range(4) if KINDS[r][slot] == KINDS[rank][slot]].index(rank) for slot in range(10)]
    for rank in range(4)
]


# ---------------------------------------------------------------------------------------
# The school calendar: holidays (académie zone B, approximated) and placement periods
# ---------------------------------------------------------------------------------------


def _easter(year: int) -> datetime.date:
    """Easter Sunday (Gregorian computus, « anonymous » algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    week = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * week) // 451
    month, day = divmod(h + week - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


def _saturday_from(day: datetime.date) -> datetime.date:
    return day + ONE_DAY * ((5 - day.weekday()) % 7)


def closures(year: SchoolYear) -> list[tuple[str, str, datetime.date, datetime.date]]:
    """The holidays of a school year and the public holidays that fall on a school day."""
    y = year.first_year
    fortnight = datetime.timedelta(days=15)  # Saturday to the Sunday two weeks later
    holidays = [
        ("Vacances de la Toussaint", _saturday_from(datetime.date(y, 10, 15))),
        ("Vacances de Noël", _saturday_from(datetime.date(y, 12, 17))),
        ("Vacances d'hiver", _saturday_from(datetime.date(y + 1, 2, 10))),
        ("Vacances de printemps", _saturday_from(datetime.date(y + 1, 4, 8))),
    ]
    rows = [
        (name, ClosureKind.SCHOOL_HOLIDAYS, start, start + fortnight) for name, start in holidays
    ]
    easter = _easter(y + 1)
    public = [
        ("Armistice", datetime.date(y, 11, 11), datetime.date(y, 11, 11)),
        ("Lundi de Pâques", easter + ONE_DAY, easter + ONE_DAY),
        ("Fête du Travail", datetime.date(y + 1, 5, 1), datetime.date(y + 1, 5, 1)),
        ("Victoire 1945", datetime.date(y + 1, 5, 8), datetime.date(y + 1, 5, 8)),
        ("Ascension", easter + ONE_DAY * 39, easter + ONE_DAY * 40),
        ("Lundi de Pentecôte", easter + ONE_DAY * 50, easter + ONE_DAY * 50),
    ]
    for name, start, end in public:
        in_holidays = any(s <= start <= e for _n, _k, s, e in rows)
        if start.weekday() < 5 and not in_holidays:
            rows.append((name, ClosureKind.PUBLIC_HOLIDAY, start, end))
    return sorted(rows, key=lambda row: row[2])


@dataclass
class Calendar:
    """The days of class of a school year."""

    year: SchoolYear
    first: datetime.date
    last: datetime.date
    closed: set[datetime.date]

    @classmethod
    def of(cls, year: SchoolYear) -> Calendar:
        first = year.start
        while first.weekday() >= 5:
            first += ONE_DAY
        # Classes end on the Friday before the first Saturday of July.
        last = _saturday_from(datetime.date(year.first_year + 1, 7, 1)) - ONE_DAY
        closed = {
            start + ONE_DAY * n
            for _name, _kind, start, end in closures(year)
            for n in range((end - start).days + 1)
        }
        return cls(year, first, last, closed)

    def is_open(self, day: datetime.date) -> bool:
        return self.first <= day <= self.last and day.weekday() < 5 and day not in self.closed

    @property
    def mondays(self) -> list[datetime.date]:
        monday = self.first - ONE_DAY * self.first.weekday()
        return [monday + ONE_WEEK * n for n in range((self.last - monday).days // 7 + 1)]

    def full_week(self, monday: datetime.date) -> bool:
        return all(self.is_open(monday + ONE_DAY * n) for n in range(5))


def placement_periods(
    calendar: Calendar, school: SchoolPlan, cohort: CohortPlan
) -> list[tuple[datetime.date, datetime.date]]:
    """The cohort's two placement periods of the year: three full weeks each, one before
    the winter and one in spring, staggered between the cohorts and the schools."""
    if not cohort.runs_in(calendar.year):
        return []
    rank = school.cohorts.index(cohort)
    shift = school.index % 3
    mondays = calendar.mondays
    periods: list[tuple[datetime.date, datetime.date]] = []
    for target in (9 + 3 * rank + shift, 24 + 2 * rank + shift):
        for n in range(target, len(mondays) - 2):
            weeks = mondays[n : n + 3]
            end = weeks[-1] + ONE_DAY * 4
            if (
                all(calendar.full_week(monday) for monday in weeks)
                and end <= cohort.end
                and (not periods or weeks[0] > periods[-1][1])
            ):
                periods.append((weeks[0], end))
                break
    return periods


# ---------------------------------------------------------------------------------------
# The part
# ---------------------------------------------------------------------------------------


@dataclass
class Place:
    """A school's rooms, machines and teaching team, as the timetable uses them."""

    ilots: list[list[int]]  # [kind][rank] → room id
    machines: dict[int, list[int]]  # room id → its machines
    machine_kinds: dict[int, str]
    classrooms: list[int]
    technology_rooms: list[int]  # technology room, metrology lab
    workshop_trainers: list[list[int]]  # [kind][rank] → the îlot's maître professionnel
    technology_trainers: list[int]
    general_trainers: list[int]


@dataclass
class Booked:
    """A workshop session as the orders step reads it back."""

    pk: int
    cohort: CohortPlan
    ilot: tuple[int, int]
    start: datetime.datetime
    end: datetime.datetime
    trainer: int
    machines: list[int]
    present: list[int] = field(default_factory=list)
    cancelled: bool = False


def build_courses(network: Network) -> None:
    with network.step(_("Référentiels, modules, salles, machines, fermetures")):
        courses, competencies = _frameworks()
        places = {school.index: _rooms(network, school) for school in network.schools}
        calendars = [Calendar.of(year) for year in network.years]
        _closures(calendars)
    with network.step(_("Autorisations machines des mineurs")):
        for school in network.schools:
            _cover(network, school)
    with network.step(_("Emploi du temps : séances, groupes, machines, émargements")):
        began = time.perf_counter()
        booked: dict[int, list[Booked]] = {}
        for done, school in enumerate(network.schools, start=1):
            booked[school.index] = _timetable(
                network, school, places[school.index], courses, calendars
            )
            network.progress(done, began)
    with network.step(_("Commandes de l'atelier, temps passés, contrôles")):
        for school in network.schools:
            _orders(network, school, booked.pop(school.index), calendars, competencies)
    with network.step(_("Preuves de compétences (évaluations des formateurs)")):
        for school in network.schools:
            _assessments(network, school, places[school.index], competencies)


def _frameworks() -> tuple[dict[tuple[str, int], Course], dict[str, list[int]]]:
    """The illustrative frameworks of the demo and the courses above, for both
    programmes; rows already there (the demo's) are kept."""
    courses: dict[tuple[str, int], Course] = {}
    competencies: dict[str, list[int]] = {}
    for code in (CAP, BAC_PRO):
        programme = Programme.objects.get(code=code)
        for block_code, block_title, rows in FRAMEWORKS[code]:
            block, _created = CompetencyBlock.objects.get_or_create(
                programme=programme, code=block_code, defaults={"title": block_title}
            )
            for competency_code, title in rows:
                Competency.objects.get_or_create(
                    block=block, code=competency_code, defaults={"title": title}
                )
        by_code = dict(
            Competency.objects.filter(block__programme=programme).values_list("code", "pk")
        )
        competencies[code] = sorted(by_code.values())
        for index, row in enumerate(COURSES[code]):
            course, created = Course.objects.get_or_create(
                programme=programme,
                code=row.code,
                defaults={"title": row.title, "kind": row.kind, "planned_hours": row.hours},
            )
            if created:
                course.competencies.set([by_code[c] for c in row.competencies if c in by_code])
            courses[code, index] = course
    return courses, competencies


def _rooms(network: Network, school: SchoolPlan) -> Place:
    city = school.city
    stamp = at(network.first_day - datetime.timedelta(days=60), 9)
    ilot_rooms = [
        Room(name=f"{city} — Îlot {name} {rank + 1}", kind=RoomKind.WORKSHOP, capacity=9)
        for name, _kinds in ILOTS
        for rank in range(3)
    ]
    other_rooms = [
        Room(name=f"{city} — Salle de cours 1", kind=RoomKind.CLASSROOM, capacity=26),
        Room(name=f"{city} — Salle de cours 2", kind=RoomKind.CLASSROOM, capacity=26),
        Room(name=f"{city} — Salle de technologie", kind=RoomKind.CLASSROOM, capacity=14),
        Room(name=f"{city} — Laboratoire de métrologie", kind=RoomKind.WORKSHOP, capacity=14),
    ]
    rooms = insert([*ilot_rooms, *other_rooms])
    for room in rooms:
        room.updated_at = stamp
    machines = []
    numbered: dict[str, int] = {}
    for index, room in enumerate(rooms[:9]):
        name, kinds = ILOTS[index // 3]
        for kind in kinds:
            numbered[kind] = numbered.get(kind, 0) + 1
            label = MachineKind(kind).label
            machines.append(
                Machine(
                    name=f"{city} — {label} {numbered[kind]} (îlot {name} {index % 3 + 1})",
                    kind=kind,
                    room_id=room.pk,
                )
            )
    insert(machines)
    by_room: dict[int, list[int]] = {}
    for machine in machines:
        by_room.setdefault(machine.room_id, []).append(machine.pk)
    trainers = school.trainer_ids
    return Place(
        ilots=[[rooms[kind * 3 + rank].pk for rank in range(3)] for kind in range(3)],
        machines=by_room,
        machine_kinds={machine.pk: machine.kind for machine in machines},
        classrooms=[rooms[9].pk, rooms[10].pk],
        technology_rooms=[rooms[11].pk, rooms[12].pk],
        workshop_trainers=[[trainers[kind * 3 + rank] for rank in range(3)] for kind in range(3)],
        technology_trainers=trainers[9:11],
        general_trainers=trainers[11:13],
    )


def _closures(calendars: list[Calendar]) -> None:
    """The closures of both years, but for those the database already has (the demo's)."""
    existing = set(ClosurePeriod.objects.values_list("name", "start_date"))
    insert(
        [
            ClosurePeriod(name=name, kind=kind, start_date=start, end_date=end)
            for calendar in calendars
            for name, kind, start, end in closures(calendar.year)
            if (name, start) not in existing
        ]
    )


def _cover(network: Network, school: SchoolPlan) -> None:
    """What lets a minor work on the machines (Code du travail, R. 4153-40): the school's
    derogation for every kind it has, a yearly medical fitness while a minor, and a
    safety training on each kind before the first day of the cohort's data."""
    rng = network.rng("courses-cover", school)
    Derogation.objects.create(
        declared_on=network.first_day - datetime.timedelta(days=75),
        reference=f"DREETS — déclaration de {school.name} (fictive)",
        machine_kinds=MACHINE_KINDS,
    )
    fitnesses = []
    trainings = []
    for cohort in school.cohorts:
        since = max(cohort.start, network.first_day)
        for learner in cohort.learners:
            for year in network.years:
                issued = max(year.start, since) - datetime.timedelta(days=rng.randrange(5, 25))
                if cohort.runs_in(year) and learner.is_minor_on(issued):
                    fitnesses.append(
                        MedicalFitness(
                            learner_id=learner.pk,
                            issued_on=issued,
                            valid_until=year.end + datetime.timedelta(days=rng.randrange(0, 30)),
                        )
                    )
            trained = since - datetime.timedelta(days=rng.randrange(1, 5))
            trainings += [
                SafetyTraining(
                    learner_id=learner.pk,
                    machine_kind=kind,
                    trained_on=trained,
                    trainer_id=cohort.head_trainer_id,
                )
                for kind in MACHINE_KINDS
            ]
    insert(fitnesses)
    insert(trainings)


# ---------------------------------------------------------------------------------------
# Sessions, groups, roll calls
# ---------------------------------------------------------------------------------------

EXCUSES = (
    "Rendez-vous médical",
    "Convocation à l'examen du code de la route",
    "Maladie (certificat médical)",
    "Obsèques d'un proche",
    "Journée défense et citoyenneté",
)
# How often a learner is away, late or excused, compared with the average one.
HABITS = (0.3, 0.6, 1.0, 1.0, 1.0, 1.0, 1.5, 2.5, 4.0)


@dataclass
class Planned:
    """A session before it is written, with what comes with it."""

    session: Session
    cohort: CohortPlan
    group: list[LearnerPlan] | None  # None: the whole cohort
    machines: list[int]
    ilot: tuple[int, int] | None
    roll_call: bool


def _timetable(
    network: Network,
    school: SchoolPlan,
    place: Place,
    courses: dict[tuple[str, int], Course],
    calendars: list[Calendar],
) -> list[Booked]:
    rng = network.rng("courses-timetable", school)
    planned: list[Planned] = []
    for calendar in calendars:
        planned += _year(network, rng, school, place, courses, calendar)
    insert([p.session for p in planned])

    GroupMember = Session.learners.through
    SessionMachine = Session.machines.through
    insert(
        [
            GroupMember(session_id=p.session.pk, learner_id=learner.pk)
            for p in planned
            if p.group is not None
            for learner in p.group
        ],
        batch_size=5000,
    )
    insert(
        [
            SessionMachine(session_id=p.session.pk, machine_id=machine)
            for p in planned
            for machine in p.machines
        ],
        batch_size=5000,
    )
    habits = {learner.pk: rng.choice(HABITS) for learner in school.learners}
    booked = []
    rows: list[Attendance] = []
    for p in planned:
        session = p.session
        present: list[int] = []
        if p.roll_call:
            day = session.start.date()
            members = p.group if p.group is not None else p.cohort.learners
            for learner in members:
                if learner.follows_on(day):
                    rows.append(_line(rng, session, learner.pk, habits[learner.pk], present))
        if p.ilot is not None:
            booked.append(
                Booked(
                    session.pk,
                    p.cohort,
                    p.ilot,
                    session.start,
                    session.end,
                    session.trainer_id,
                    p.machines,
                    present,
                    session.status == SessionStatus.CANCELLED,
                )
            )
        if len(rows) >= 20000:
            insert(rows, batch_size=5000)
            rows = []
    insert(rows, batch_size=5000)
    return booked


def _line(
    rng: random.Random, session: Session, learner: int, habit: float, present: list[int]
) -> Attendance:
    draw = rng.random()
    start = session.start
    reason = ""
    signed_at: datetime.datetime | None = None
    if draw < 0.02 * habit:
        status, reason = AttendanceStatus.EXCUSED, rng.choice(EXCUSES)
    elif draw < 0.05 * habit:
        status = AttendanceStatus.ABSENT
    elif draw < 0.05 * habit + 0.06:
        status = AttendanceStatus.LATE
        signed_at = start + datetime.timedelta(minutes=rng.randrange(12, 45))
    else:
        status = AttendanceStatus.PRESENT
        signed_at = start + datetime.timedelta(minutes=rng.randrange(0, 10))
    if signed_at is not None:
        present.append(learner)
    return Attendance(
        session_id=session.pk,
        learner_id=learner,
        status=status,
        reason=reason,
        signed_at=signed_at,
        recorded_by_id=session.trainer_id,
        recorded_at=start + datetime.timedelta(minutes=12),
    )


def _year(
    network: Network,
    rng: random.Random,
    school: SchoolPlan,
    place: Place,
    courses: dict[tuple[str, int], Course],
    calendar: Calendar,
) -> list[Planned]:
    cohorts = [cohort for cohort in school.cohorts if cohort.runs_in(calendar.year)]
    if not cohorts:
        return []
    # Which logical half-day each of the week's ten falls on, this school and year.
    slots = rng.sample(range(10), 10)
    away = {
        cohort.pk: {
            start + ONE_DAY * n
            for start, end in placement_periods(calendar, school, cohort)
            for n in range((end - start).days + 1)
        }
        for cohort in cohorts
    }
    groups: dict[int, list[list[LearnerPlan]]] = {}
    thirds: dict[int, list[list[LearnerPlan]]] = {}
    for cohort in cohorts:
        shuffled = rng.sample(cohort.learners, len(cohort.learners))
        groups[cohort.pk] = [shuffled[g::3] for g in range(3)]
        shuffled = rng.sample(cohort.learners, len(cohort.learners))
        thirds[cohort.pk] = [shuffled[t::3] for t in range(3)]
    drawn_up = at(calendar.year.start - datetime.timedelta(days=12), 10)
    now = network.now
    recent = now - datetime.timedelta(days=3)
    planned: list[Planned] = []
    day = calendar.first
    while day <= calendar.last:
        if not calendar.is_open(day):
            day += ONE_DAY
            continue
        week = (day - calendar.first).days // 7
        for half, (h1, m1, h2, m2) in enumerate(HALF_DAYS):
            start, end = at(day, h1, m1), at(day, h2, m2)
            slot = slots[day.weekday() * 2 + half]
            for cohort in cohorts:
                if not cohort.start <= day <= cohort.end or day in away[cohort.pk]:
                    continue
                rank = school.cohorts.index(cohort)
                for course, trainer, room, group, ilot in _sessions(
                    place, courses, cohort, rank, slot, week, groups, thirds
                ):
                    members = (
                        None
                        if group is None
                        else [learner for learner in group if learner.follows_on(day)]
                    )
                    # A trainer off sick now and then; the roll calls of the last three
                    # days not all validated yet.
                    cancelled = rng.random() < 0.004
                    pending = recent < end <= now and rng.random() < 0.25
                    done = end <= now and not cancelled and not pending
                    status = SessionStatus.PLANNED
                    validated = None
                    if cancelled:
                        status = SessionStatus.CANCELLED
                    elif done:
                        status = SessionStatus.DONE
                        validated = min(end + datetime.timedelta(minutes=rng.randrange(90)), now)
                    machines = place.machines.get(room, [])
                    if machines and rng.random() < 2 / 3:
                        machines = sorted(rng.sample(machines, 2))
                    session = Session(
                        course=course,
                        cohort_id=cohort.pk,
                        trainer_id=trainer,
                        room_id=room,
                        start=start,
                        end=end,
                        status=status,
                        # A cancellation is a change calendar clients must pick up.
                        sequence=1 if cancelled else 0,
                        created_at=drawn_up,
                        updated_at=min(start - ONE_DAY, now) if cancelled else drawn_up,
                        attendance_validated_at=validated,
                        attendance_validated_by_id=trainer if done else None,
                    )
                    planned.append(Planned(session, cohort, members, machines, ilot, done))
        day += ONE_DAY
    return planned


# A session of a slot: course, trainer, room, group (None: the cohort), îlot.
Seat = tuple[Course, int, int, list[LearnerPlan] | None, tuple[int, int] | None]


def _sessions(
    place: Place,
    courses: dict[tuple[str, int], Course],
    cohort: CohortPlan,
    rank: int,
    slot: int,
    week: int,
    groups: dict[int, list[list[LearnerPlan]]],
    thirds: dict[int, list[list[LearnerPlan]]],
) -> list[Seat]:
    """(course, trainer, room, group, îlot) of each session of the cohort (its ``rank``
    in the school) at this slot."""
    programme = cohort.programme
    kind, seat = KINDS[rank][slot], PLACES[rank][slot]
    if kind == GENERAL:
        return [
            (
                courses[programme, 5],
                place.general_trainers[seat],
                place.classrooms[seat],
                None,
                None,
            )
        ]
    sessions: list[Seat] = []
    if kind == TECHNOLOGY:
        # Plans (or CAM), metrology, health and safety: a third of the cohort each, in
        # turn from one week to the next.
        teachers = [*place.technology_trainers, place.general_trainers[0]]
        rooms = [*place.technology_rooms, place.classrooms[0]]
        for third in range(3):
            subject = (third + week) % 3
            sessions.append(
                (
                    courses[programme, (3, 4, 6)[subject]],
                    teachers[subject],
                    rooms[subject],
                    thirds[cohort.pk][third],
                    None,
                )
            )
        return sessions
    # Groups change îlot every three weeks, and from one half-day to the next.
    for group in range(3):
        ilot_kind = (group + slot + week // 3) % 3
        sessions.append(
            (
                courses[programme, ilot_kind],
                place.workshop_trainers[ilot_kind][seat],
                place.ilots[ilot_kind][seat],
                groups[cohort.pk][group],
                (ilot_kind, seat),
            )
        )
    return sessions


# ---------------------------------------------------------------------------------------
# Workshop orders
# ---------------------------------------------------------------------------------------

ORDERS_PER_SCHOOL_YEAR = 55
DRAWING = "large/plan-fictif.pdf"  # every order's drawing: one stored placeholder
PARTS = (
    ("BR", "Bride de serrage Ø60, alésage H7, deux perçages Ø8", "Acier C45"),
    ("AX", "Axe épaulé Ø25 g6", "Acier 42CrMo4"),
    ("ENT", "Entretoise Ø16 × 30, chanfreins 0,5 × 45°", "Laiton CuZn39Pb3"),
    ("BG", "Bague de guidage Ø40 / Ø25", "Bronze CuSn12"),
    ("GAL", "Galet de roulement, gorge en V", "Acier C35"),
    ("SUP", "Support de capteur, deux lumières", "Aluminium 2017A"),
    ("PL", "Plaque d'usure rectifiée", "Acier Hardox 400"),
    ("CLE", "Clé de serrage spéciale, mors usinés", "Acier 35NCD16"),
    ("MAN", "Manchon taraudé M20", "Inox 316L"),
)
OPERATIONS = (
    (Operation.TURNING, Operation.SETUP, Operation.INSPECTION),
    (Operation.MILLING, Operation.SETUP, Operation.PROGRAMMING),
    (Operation.DRILLING, Operation.DEBURRING, Operation.GRINDING),
)
# (name, nominal, lower and upper deviations)
DIMENSIONS = (
    ("Alésage Ø20 H7", "20", "0", "0.021"),
    ("Longueur 45 ± 0,1", "45", "-0.1", "0.1"),
    ("Ø25 g6", "25", "-0.020", "-0.007"),
    ("Entraxe 32 ± 0,05", "32", "-0.05", "0.05"),
)
DECLINE_REASONS = (
    "Tolérances hors de portée des machines de l'atelier",
    "Délai incompatible avec le calendrier des PFMP",
    "Matière non disponible chez nos fournisseurs",
)


@dataclass
class OrderPlan:
    order: WorkshopOrder
    sessions: list[Booked]
    learners: list[int]
    competencies: list[int]
    events: list[tuple[str, str, int | None, datetime.datetime]]
    logs: list[TimeLog]
    inspected: bool = False
    company: str = ""


def _orders(
    network: Network,
    school: SchoolPlan,
    booked: list[Booked],
    calendars: list[Calendar],
    competencies: dict[str, list[int]],
) -> None:
    rng = network.rng("courses-orders", school)
    placeholder_pdf(DRAWING)
    names = dict(
        Company.objects.filter(clusters__name=cluster_name(school)).values_list("pk", "legal_name")
    )
    companies = sorted(names)
    placed_by = dict(
        Contact.objects.filter(company__in=companies, is_signatory=True).values_list(
            "company_id", "user_id"
        )
    )
    by_ilot: dict[tuple[int, int], list[Booked]] = {}
    for session in booked:
        if not session.cancelled:
            by_ilot.setdefault(session.ilot, []).append(session)
    plans = []
    number = 0
    for calendar in calendars:
        mondays = [m for m in calendar.mondays if calendar.is_open(m)]
        for monday in sorted(rng.sample(mondays, min(ORDERS_PER_SCHOOL_YEAR, len(mondays)))):
            number += 1
            company = rng.choice(companies)
            plan = _order(
                network,
                rng,
                school,
                number,
                company,
                placed_by.get(company),
                monday,
                by_ilot,
                competencies,
            )
            if plan is not None:
                plan.company = names[company]
                plans.append(plan)
    _write_orders(network, rng, school, plans)


def _order(
    network: Network,
    rng: random.Random,
    school: SchoolPlan,
    number: int,
    company: int,
    partner: int | None,
    monday: datetime.date,
    by_ilot: dict[tuple[int, int], list[Booked]],
    competencies: dict[str, list[int]],
) -> OrderPlan | None:
    today, now = network.today, network.now
    ilot = (rng.randrange(3), rng.randrange(3))
    first, last = monday, monday + ONE_WEEK * rng.choice((1, 2, 3)) - ONE_DAY * 3
    window = [s for s in by_ilot.get(ilot, []) if first <= s.start.date() <= last]
    if not window:
        return None
    cohort = window[0].cohort
    window = [s for s in window if s.cohort is cohort]
    sessions = window[:: max(1, math.ceil(len(window) / 8))]
    prefix, description, material = rng.choice(PARTS)
    quantity = rng.choice((4, 6, 8, 10, 12, 20, 25, 50))
    # Placed three to six weeks before it is made, and never after today.
    created = min(
        at(first - datetime.timedelta(days=rng.randrange(21, 45)), 10),
        now - datetime.timedelta(days=rng.randrange(1, 20), hours=rng.randrange(8)),
    )
    if rng.random() < 0.05:
        status = OrderStatus.DECLINED
    elif last < today - datetime.timedelta(days=21):
        status = OrderStatus.CLOSED if rng.random() < 0.65 else OrderStatus.DELIVERED
    elif last < today:
        status = OrderStatus.DELIVERED if rng.random() < 0.4 else OrderStatus.QUALITY_CONTROL
    elif first <= today:
        status = OrderStatus.IN_PRODUCTION
    else:
        status = rng.choices(ORDER_PATH[:4], weights=(15, 15, 20, 50))[0]
    planned = status not in (OrderStatus.DECLINED, *ORDER_PATH[:3])
    if not planned:
        sessions = []
    supervisor = sessions[0].trainer if sessions else None
    order = WorkshopOrder(
        company_id=company,
        reference=f"{prefix}-{school.index:02d}{number:03d}",
        description=description,
        drawing=DRAWING,
        material=material,
        quantity=quantity,
        requested_date=last + ONE_WEEK * rng.choice((1, 2, 3)),
        target_price=Decimal(quantity * rng.randrange(8, 40)),
        price=Decimal(quantity * rng.randrange(8, 40)) if planned else None,
        planned_start=first if planned else None,
        planned_end=last if planned else None,
        decline_reason=rng.choice(DECLINE_REASONS) if status == OrderStatus.DECLINED else "",
        status=status,
        supervisor_id=supervisor,
        placed_by_id=partner,
        created_at=created,
    )
    plan = OrderPlan(order, sessions, [], rng.sample(competencies[cohort.programme], 2), [], [])
    if status in (OrderStatus.IN_PRODUCTION, OrderStatus.QUALITY_CONTROL, *ORDER_PATH[6:]):
        _logs(rng, plan, now)
    if not plan.learners and sessions:
        group = sessions[0].present or [x.pk for x in cohort.learners if x.follows_on(first)]
        plan.learners = sorted(rng.sample(group, min(3, len(group))))
    plan.inspected = status in (OrderStatus.QUALITY_CONTROL, *ORDER_PATH[6:])
    _events(plan, school, partner, now)
    return plan


def _logs(rng: random.Random, plan: OrderPlan, now: datetime.datetime) -> None:
    order = plan.order
    past = [s for s in plan.sessions if s.start <= now and s.present]
    operations = OPERATIONS[past[0].ilot[0]] if past else ()
    made_each = max(1, math.ceil(order.quantity / max(1, 2 * len(past))))
    makers: set[int] = set()
    for session in past:
        duration = Decimal((session.end - session.start).total_seconds()) / 3600
        count = min(len(session.present), rng.choice((2, 3, 3, 4)))
        for learner in rng.sample(session.present, count):
            makers.add(learner)
            plan.logs.append(
                TimeLog(
                    session_id=session.pk,
                    learner_id=learner,
                    hours=min(duration, Decimal(rng.choice((2, 3, 4, 5, 6))) / 2),
                    operation=rng.choice(operations),
                    machine_id=rng.choice(session.machines) if session.machines else None,
                    parts_made=made_each,
                    parts_scrapped=1 if rng.random() < 0.08 else 0,
                    logged_by_id=session.trainer,
                    created_at=session.end,
                )
            )
    plan.learners = sorted(makers)
    if order.status in ORDER_PATH[6:]:
        made = sum(log.parts_made - log.parts_scrapped for log in plan.logs)
        order.delivered_quantity = min(max(made, 0), order.quantity)


def _events(
    plan: OrderPlan,
    school: SchoolPlan,
    partner: int | None,
    now: datetime.datetime,
) -> None:
    """The order's timeline: each step up to its status, each after the one before and
    none ahead of now."""
    order = plan.order
    created = order.created_at
    first = plan.sessions[0].start if plan.sessions else created
    last_end = plan.sessions[-1].end if plan.sessions else created
    targets = {
        OrderStatus.SUBMITTED: created,
        OrderStatus.REVIEWED: created + datetime.timedelta(days=2),
        OrderStatus.ACCEPTED: created + datetime.timedelta(days=6),
        OrderStatus.PLANNED: first - datetime.timedelta(days=7),
        OrderStatus.IN_PRODUCTION: plan.logs[0].created_at if plan.logs else first,
        OrderStatus.QUALITY_CONTROL: last_end + datetime.timedelta(hours=1),
        OrderStatus.DELIVERED: last_end + datetime.timedelta(days=3),
        OrderStatus.CLOSED: last_end + datetime.timedelta(days=10),
        OrderStatus.DECLINED: created + datetime.timedelta(days=3),
    }
    path = (
        [OrderStatus.SUBMITTED, OrderStatus.DECLINED]
        if order.status == OrderStatus.DECLINED
        else ORDER_PATH[: ORDER_PATH.index(order.status) + 1]
    )
    by = {OrderStatus.SUBMITTED: partner}
    moment = created
    previous = ""
    for step in path:
        moment = max(moment, min(targets[step], now - datetime.timedelta(minutes=5)))
        who = by.get(step, order.supervisor_id if step in ORDER_PATH[4:6] else school.director_id)
        plan.events.append((previous, step, who, moment))
        previous = step
    order.updated_at = moment


def _write_orders(
    network: Network, rng: random.Random, school: SchoolPlan, plans: list[OrderPlan]
) -> None:
    orders = insert([plan.order for plan in plans])
    Linked = WorkshopOrder.sessions.through
    Assigned = WorkshopOrder.learners.through
    Mobilised = WorkshopOrder.competencies.through
    insert(
        [
            Linked(workshoporder_id=o.pk, session_id=s.pk)
            for o, p in zip(orders, plans, strict=True)
            for s in p.sessions
        ]
    )
    insert(
        [
            Assigned(workshoporder_id=o.pk, learner_id=learner)
            for o, p in zip(orders, plans, strict=True)
            for learner in p.learners
        ]
    )
    insert(
        [
            Mobilised(workshoporder_id=o.pk, competency_id=c)
            for o, p in zip(orders, plans, strict=True)
            for c in p.competencies
        ]
    )
    insert(
        [
            OrderEvent(order_id=o.pk, from_status=frm, to_status=to, by_id=by, at=moment)
            for o, p in zip(orders, plans, strict=True)
            for frm, to, by, moment in p.events
        ]
    )
    logs = []
    for order, plan in zip(orders, plans, strict=True):
        for log in plan.logs:
            log.order_id = order.pk
            logs.append(log)
    insert(logs)
    _inspections(network, rng, school, [p for p in plans if p.inspected])


def _inspections(
    network: Network, rng: random.Random, school: SchoolPlan, plans: list[OrderPlan]
) -> None:
    """Conforming reports; countersigned (and in the register) once the order is
    delivered, when its makers get the evidence of the competencies it mobilised."""
    inspections = []
    countersigned = []
    for plan in plans:
        order = plan.order
        signed = order.status in ORDER_PATH[6:]
        done_on = plan.sessions[-1].end  # a planned order has its sessions
        inspection = Inspection(
            order_id=order.pk,
            inspected_by_id=order.supervisor_id,
            inspected_on=done_on.date(),
            countersigned_by_id=order.supervisor_id if signed else None,
            countersigned_at=done_on + datetime.timedelta(days=1) if signed else None,
        )
        inspections.append(inspection)
        if signed:
            countersigned.append((plan, inspection))
    documents = register_documents(
        [
            Entry(
                kind="rapport_controle",
                title="Rapport de contrôle",
                subject=f"Rapport de contrôle — {plan.order.reference} × "
                f"{plan.order.quantity} — {plan.company}",
                issued_at=inspection.countersigned_at or network.now,
                issued_by_id=plan.order.supervisor_id,
            )
            for plan, inspection in countersigned
        ],
        rng,
    )
    for (_plan, inspection), document in zip(countersigned, documents, strict=True):
        inspection.document_id = document.pk
    insert(inspections)
    characteristics = []
    for inspection in inspections:
        for rank, (name, nominal, lower, upper) in enumerate(rng.sample(DIMENSIONS, 2)):
            characteristics.append(
                Characteristic(
                    inspection_id=inspection.pk,
                    name=name,
                    nominal=Decimal(nominal),
                    lower_tolerance=Decimal(lower),
                    upper_tolerance=Decimal(upper),
                    order=rank,
                )
            )
    insert(characteristics)
    measures = []
    for characteristic in characteristics:
        low = characteristic.nominal + characteristic.lower_tolerance
        span = characteristic.upper_tolerance - characteristic.lower_tolerance
        for part in (1, 2, 3):
            fraction = Decimal(rng.randrange(10, 90)) / 100
            measures.append(
                Measurement(
                    characteristic_id=characteristic.pk,
                    part_number=part,
                    value=(low + span * fraction).quantize(Decimal("0.0001")),
                )
            )
    insert(measures)
    insert(
        [
            CompetencyEvidence(
                learner_id=learner,
                competency_id=competency,
                level=CompetencyLevel.ACQUIRED,
                source=EvidenceSource.ORDER,
                reference=f"Commande {plan.order.reference} : contrôle conforme",
                assessor_name=school.names.get(plan.order.supervisor_id or 0, ""),
                assessor_id=plan.order.supervisor_id,
                date=inspection.countersigned_at.date(),
                created_at=inspection.countersigned_at,
            )
            for plan, inspection in countersigned
            if inspection.countersigned_at is not None
            for learner in plan.learners
            for competency in plan.competencies
        ]
    )


# ---------------------------------------------------------------------------------------
# Trainers' assessments
# ---------------------------------------------------------------------------------------

ASSESSMENTS_PER_YEAR = 6
LEVELS = tuple(CompetencyLevel)


def _assessments(
    network: Network, school: SchoolPlan, place: Place, competencies: dict[str, list[int]]
) -> None:
    """A few observations a learner and a year by the maîtres professionnels, more often
    « acquis » as the programme goes on."""
    rng = network.rng("courses-evidence", school)
    trainers = [trainer for row in place.workshop_trainers for trainer in row]
    rows = []
    for year in network.years:
        for cohort in school.cohorts:
            first = max(year.start, cohort.start)
            last = min(network.today - ONE_DAY, year.end, cohort.end)
            if last <= first:
                continue
            length = (cohort.end - cohort.start).days
            for learner in cohort.learners:
                for _n in range(ASSESSMENTS_PER_YEAR):
                    day = first + ONE_DAY * rng.randrange((last - first).days)
                    day -= ONE_DAY * max(0, day.weekday() - 4)
                    if not learner.follows_on(day):
                        continue
                    progress = (day - cohort.start).days / length
                    level = rng.choices(
                        LEVELS,
                        weights=(
                            0.3 - 0.25 * progress,
                            0.5 - 0.2 * progress,
                            0.15 + 0.3 * progress,
                            0.05 + 0.15 * progress,
                        ),
                    )[0]
                    trainer = rng.choice(trainers)
                    source = rng.choice(
                        (
                            EvidenceSource.ASSESSMENT,
                            EvidenceSource.ASSESSMENT,
                            EvidenceSource.SESSION,
                        )
                    )
                    rows.append(
                        CompetencyEvidence(
                            learner_id=learner.pk,
                            competency_id=rng.choice(competencies[cohort.programme]),
                            level=level,
                            source=source,
                            reference="Séance d'atelier"
                            if source == EvidenceSource.SESSION
                            else "",
                            assessor_name=school.names[trainer],
                            assessor_id=trainer,
                            date=day,
                            created_at=at(day, 17),
                        )
                    )
    insert(rows)


PART = Part(
    build=build_courses,
    tables=(
        (_("Modules"), Course),
        (_("Salles"), Room),
        (_("Machines"), Machine),
        (_("Fermetures"), ClosurePeriod),
        (_("Avis médicaux d'aptitude"), MedicalFitness),
        (_("Formations à la sécurité"), SafetyTraining),
        (_("Séances"), Session),
        (_("Membres des groupes de séance"), Session.learners.through),
        (_("Machines réservées par séance"), Session.machines.through),
        (_("Lignes d'émargement"), Attendance),
        (_("Commandes de l'atelier"), WorkshopOrder),
        (_("Étapes de commande"), OrderEvent),
        (_("Temps passés"), TimeLog),
        (_("Rapports de contrôle"), Inspection),
        (_("Mesures"), Measurement),
        (_("Preuves de compétences"), CompetencyEvidence),
    ),
)
