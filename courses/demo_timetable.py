"""Demo timetable for ``manage.py seed_demo``: rooms, machines, courses, closures,
machine authorisations for minors, a term of weekly sessions and their roll calls.

Everything is fictional. Closure dates are indicative (académie de Reims, zone B);
staff replace them with the official calendar in the admin.
"""

from __future__ import annotations

import datetime
import random
from typing import NamedTuple

from django.core.management.base import OutputWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from school.demo import (
    BAC_PRO_2026,
    BAC_PRO_TRPM,
    CAP_2025,
    CAP_2026,
    CAP_CIP,
    LEARNER_EMAIL,
    SECOND_TRAINER,
    STAFF_EMAIL,
    TRAINER_EMAIL,
    Account,
    ensure_login,
)
from school.models import (
    Cohort,
    EnrolmentStatus,
    IssuedDocument,
    Learner,
    Programme,
    Role,
    User,
)
from school.services import document_issue

from . import attendance, services
from .models import (
    AttendanceStatus,
    ClosureKind,
    ClosurePeriod,
    Competency,
    Course,
    CourseKind,
    Derogation,
    Machine,
    MachineKind,
    MedicalFitness,
    Room,
    RoomKind,
    SafetyTraining,
    Session,
    SessionSeries,
)

GENERAL_TEACHER = Account(
    "enseignement.general@metaltech.test", Role.TRAINER, "Claire", "Petitjean"
)
TECHNOLOGY_TEACHER = Account("technologie@metaltech.test", Role.TRAINER, "Yann", "Leclerc")

CONVENTIONAL = "Atelier usinage conventionnel"
CNC = "Atelier commande numérique"
TECHNOLOGY_ROOM = "Salle de technologie"
CLASSROOM = "Salle de cours 1"
METROLOGY_LAB = "Laboratoire de métrologie"

ROOMS = (
    (CONVENTIONAL, RoomKind.WORKSHOP, 14),
    (CNC, RoomKind.WORKSHOP, 12),
    (TECHNOLOGY_ROOM, RoomKind.CLASSROOM, 16),
    (CLASSROOM, RoomKind.CLASSROOM, 18),
    (METROLOGY_LAB, RoomKind.WORKSHOP, 10),
)

MACHINES = (
    ("Tour conventionnel 1 (Cazeneuve HB 500)", MachineKind.MANUAL_LATHE, CONVENTIONAL),
    ("Tour conventionnel 2 (Cazeneuve HB 500)", MachineKind.MANUAL_LATHE, CONVENTIONAL),
    ("Tour conventionnel 3 (Ernault Toyoda)", MachineKind.MANUAL_LATHE, CONVENTIONAL),
    ("Fraiseuse 1 (Huron MU)", MachineKind.MILLING_MACHINE, CONVENTIONAL),
    ("Fraiseuse 2 (Huron MU)", MachineKind.MILLING_MACHINE, CONVENTIONAL),
    ("Perceuse à colonne", MachineKind.DRILL, CONVENTIONAL),
    ("Scie à ruban", MachineKind.SAW, CONVENTIONAL),
    ("Tour CN 1 (DMG CTX)", MachineKind.CNC_LATHE, CNC),
    ("Centre d'usinage CN 1 (Haas VF-2)", MachineKind.CNC_MACHINING_CENTRE, CNC),
)


class CourseRow(NamedTuple):
    programme: str
    code: str
    title: str
    kind: str
    hours: int
    competencies: tuple[str, ...]


COURSES = (
    CourseRow(CAP_CIP, "TOUR", "Tournage", CourseKind.WORKSHOP, 320, ("C1.2", "C2.1")),
    CourseRow(CAP_CIP, "FRAIS", "Fraisage", CourseKind.WORKSHOP, 280, ("C1.2", "C2.2")),
    CourseRow(CAP_CIP, "PLANS", "Lecture de plans", CourseKind.TECHNOLOGY, 90, ("C1.1",)),
    CourseRow(CAP_CIP, "METRO", "Métrologie", CourseKind.TECHNOLOGY, 80, ("C3.1", "C3.2")),
    CourseRow(CAP_CIP, "PREV", "Prévention et sécurité", CourseKind.WORKSHOP, 40, ("C1.3",)),
    CourseRow(CAP_CIP, "EG", "Français, mathématiques", CourseKind.GENERAL, 400, ()),
    CourseRow(BAC_PRO_TRPM, "TOURCN", "Tournage CN", CourseKind.WORKSHOP, 360, ("C2.2",)),
    CourseRow(BAC_PRO_TRPM, "FRAISCN", "Fraisage CN", CourseKind.WORKSHOP, 360, ("C2.3",)),
    CourseRow(BAC_PRO_TRPM, "FAO", "Programmation et FAO", CourseKind.TECHNOLOGY, 160, ("C2.1",)),
    CourseRow(BAC_PRO_TRPM, "METRO", "Métrologie", CourseKind.TECHNOLOGY, 90, ("C3.1",)),
    CourseRow(BAC_PRO_TRPM, "EG", "Enseignement général", CourseKind.GENERAL, 900, ()),
)

MORNING = (datetime.time(8), datetime.time(12))
AFTERNOON = (datetime.time(13, 30), datetime.time(16, 30))


class Slot(NamedTuple):
    cohort: str
    weekday: int
    hours: tuple[datetime.time, datetime.time]
    course: str
    trainer: str
    room: str
    machines: tuple[str, ...]


M, N = TRAINER_EMAIL, SECOND_TRAINER.email
G, T = GENERAL_TEACHER.email, TECHNOLOGY_TEACHER.email
LATHE_1, LATHE_2, LATHE_3, MILL_1, MILL_2 = (name for name, _kind, _room in MACHINES[:5])
CNC_LATHE, CNC_CENTRE = MACHINES[7][0], MACHINES[8][0]

# One week, built so that no trainer, room or machine is in two places at once.
WEEK = (
    Slot(CAP_2025, 0, MORNING, "TOUR", M, CONVENTIONAL, (LATHE_1, LATHE_2)),
    Slot(CAP_2025, 0, AFTERNOON, "PLANS", T, TECHNOLOGY_ROOM, ()),
    Slot(CAP_2025, 1, MORNING, "FRAIS", M, CONVENTIONAL, (MILL_1,)),
    Slot(CAP_2025, 1, AFTERNOON, "EG", G, CLASSROOM, ()),
    Slot(CAP_2025, 3, MORNING, "METRO", T, METROLOGY_LAB, ()),
    Slot(CAP_2025, 3, AFTERNOON, "PREV", M, CONVENTIONAL, ()),
    Slot(CAP_2026, 0, MORNING, "EG", G, CLASSROOM, ()),
    Slot(CAP_2026, 0, AFTERNOON, "TOUR", M, CONVENTIONAL, (LATHE_3,)),
    Slot(CAP_2026, 1, MORNING, "PLANS", T, TECHNOLOGY_ROOM, ()),
    Slot(CAP_2026, 1, AFTERNOON, "FRAIS", M, CONVENTIONAL, (MILL_2,)),
    Slot(CAP_2026, 2, MORNING, "METRO", T, METROLOGY_LAB, ()),
    Slot(CAP_2026, 3, MORNING, "TOUR", M, CONVENTIONAL, (LATHE_1,)),
    Slot(BAC_PRO_2026, 0, MORNING, "TOURCN", N, CNC, (CNC_LATHE,)),
    Slot(BAC_PRO_2026, 0, AFTERNOON, "FAO", N, CLASSROOM, ()),
    Slot(BAC_PRO_2026, 1, MORNING, "FRAISCN", N, CNC, (CNC_CENTRE,)),
    Slot(BAC_PRO_2026, 1, AFTERNOON, "METRO", T, METROLOGY_LAB, ()),
    Slot(BAC_PRO_2026, 2, MORNING, "EG", G, CLASSROOM, ()),
    Slot(BAC_PRO_2026, 2, AFTERNOON, "TOURCN", N, CNC, (CNC_LATHE,)),
    Slot(BAC_PRO_2026, 4, MORNING, "EG", G, CLASSROOM, ()),
)

CLOSURES = (
    ("Vacances de la Toussaint", ClosureKind.SCHOOL_HOLIDAYS, (2026, 10, 17), (2026, 11, 1)),
    ("Armistice", ClosureKind.PUBLIC_HOLIDAY, (2026, 11, 11), (2026, 11, 11)),
    ("Vacances de Noël", ClosureKind.SCHOOL_HOLIDAYS, (2026, 12, 19), (2027, 1, 3)),
    ("Vacances d'hiver", ClosureKind.SCHOOL_HOLIDAYS, (2027, 2, 13), (2027, 2, 28)),
    ("Lundi de Pâques", ClosureKind.PUBLIC_HOLIDAY, (2027, 3, 29), (2027, 3, 29)),
    ("Vacances de printemps", ClosureKind.SCHOOL_HOLIDAYS, (2027, 4, 10), (2027, 4, 25)),
    ("Ascension", ClosureKind.PUBLIC_HOLIDAY, (2027, 5, 6), (2027, 5, 7)),
    ("Lundi de Pentecôte", ClosureKind.PUBLIC_HOLIDAY, (2027, 5, 17), (2027, 5, 17)),
)

DEROGATION_REFERENCE = "DREETS Grand Est — déclaration n° 52-2025-017 (fictive)"


def term_start(today: datetime.date) -> datetime.date:
    """The demo term begins on last week's Monday: the days already past have their roll
    calls, so the registers, rates and attestations have a week to show even on a Monday
    morning."""
    return today - datetime.timedelta(days=today.weekday(), weeks=1)


def seed_timetable(stdout: OutputWrapper) -> None:
    today = timezone.localdate()
    staff = User.objects.get(email=STAFF_EMAIL)
    trainers = {
        account.email: ensure_login(account) for account in (GENERAL_TEACHER, TECHNOLOGY_TEACHER)
    }
    trainers.update({user.email: user for user in User.objects.filter(role=Role.TRAINER)})
    rooms = {name: _room(name, kind, capacity) for name, kind, capacity in ROOMS}
    machines = {
        name: Machine.objects.get_or_create(
            name=name, defaults={"kind": kind, "room": rooms[room]}
        )[0]
        for name, kind, room in MACHINES
    }
    courses = {(row.programme, row.code): _course(row) for row in COURSES}
    for name, kind, start, end in CLOSURES:
        ClosurePeriod.objects.get_or_create(
            name=name,
            start_date=datetime.date(*start),
            defaults={"kind": kind, "end_date": datetime.date(*end)},
        )
    _authorisations(today, trainers[TRAINER_EMAIL])

    first = term_start(today)
    last = first + datetime.timedelta(weeks=8)
    cohorts = {cohort.name: cohort for cohort in Cohort.objects.all()}
    for slot in WEEK:
        cohort = cohorts[slot.cohort]
        course = courses[(cohort.programme.code, slot.course)]
        if SessionSeries.objects.filter(
            course=course, cohort=cohort, weekday=slot.weekday, start_time=slot.hours[0]
        ).exists():
            continue
        services.series_create(
            course=course,
            cohort=cohort,
            trainer=trainers[slot.trainer],
            room=rooms[slot.room],
            machines=[machines[name] for name in slot.machines],
            weekday=slot.weekday,
            start_time=slot.hours[0],
            end_time=slot.hours[1],
            first_date=first,
            last_date=last,
            by=staff,
        )
    roll_calls(timezone.now())
    _documents(first, today, staff)
    stdout.write(
        _("Emploi du temps : %(rooms)d salles, %(machines)d machines, %(sessions)d séances.")
        % {
            "rooms": len(rooms),
            "machines": len(machines),
            "sessions": Session.objects.count(),
        }
    )


def _room(name: str, kind: str, capacity: int) -> Room:
    return Room.objects.get_or_create(name=name, defaults={"kind": kind, "capacity": capacity})[0]


def _course(row: CourseRow) -> Course:
    programme = Programme.objects.get(code=row.programme)
    course, created = Course.objects.get_or_create(
        programme=programme,
        code=row.code,
        defaults={"title": row.title, "kind": row.kind, "planned_hours": row.hours},
    )
    if created:
        course.competencies.set(
            Competency.objects.filter(block__programme=programme, code__in=row.competencies)
        )
    return course


def _authorisations(today: datetime.date, trainer: User) -> None:
    # Dates follow the day of seeding, so the demo works whenever `make run` is typed:
    # a derogation for every kind of machine the workshops hold, declared a year ago.
    Derogation.objects.get_or_create(
        reference=DEROGATION_REFERENCE,
        defaults={
            "declared_on": today - datetime.timedelta(days=365),
            "machine_kinds": sorted({kind for _name, kind, _room in MACHINES}),
        },
    )
    checked_on = today - datetime.timedelta(days=60)
    kinds_by_programme = {
        CAP_CIP: (MachineKind.MANUAL_LATHE, MachineKind.MILLING_MACHINE),
        BAC_PRO_TRPM: (MachineKind.CNC_LATHE, MachineKind.CNC_MACHINING_CENTRE),
    }
    active = Learner.objects.filter(enrolments__status=EnrolmentStatus.ACTIVE)
    for index, learner in enumerate(active.order_by("pk")):
        if MedicalFitness.objects.filter(learner=learner).exists():
            continue
        programme = learner.enrolments.get(status=EnrolmentStatus.ACTIVE).cohort.programme.code
        # Every fifth pupil's opinion runs out within 60 days, yet after the demo term:
        # the cover list has something to show and no session is refused.
        valid_until = today + datetime.timedelta(days=55 + index % 4 if index % 5 == 0 else 300)
        MedicalFitness.objects.create(
            learner=learner,
            issued_on=checked_on,
            valid_until=valid_until,
        )
        for kind in kinds_by_programme[programme]:
            SafetyTraining.objects.get_or_create(
                learner=learner,
                machine_kind=kind,
                defaults={"trained_on": checked_on, "trainer": trainer},
            )


# Most pupils are there; a few are late, away, or excused for a reason someone gave.
_REASONS = ("Rendez-vous médical", "Convocation examen du code", "Enfant malade (fratrie)")


def roll_calls(now: datetime.datetime) -> None:
    """Every past session without a validated roll call gets one (most pupils there)."""
    chance = random.Random(2026)  # noqa: S311 — demo data, not secrets
    past = (
        Session.objects.filter(end__lte=now, attendance_validated_at__isnull=True)
        .select_related("cohort", "trainer")
        .order_by("start")
    )
    for session in past:
        learners = Learner.objects.filter(
            enrolments__cohort=session.cohort, enrolments__status=EnrolmentStatus.ACTIVE
        )
        for learner in learners:
            draw = chance.random()
            status, reason = AttendanceStatus.PRESENT, ""
            if draw > 0.97:
                status, reason = AttendanceStatus.EXCUSED, chance.choice(_REASONS)
            elif draw > 0.94:
                status = AttendanceStatus.ABSENT
            elif draw > 0.88:
                status = AttendanceStatus.LATE
            attendance.attendance_mark(
                session=session, learner=learner, status=status, reason=reason, by=session.trainer
            )
        attendance.attendance_validate(session=session, by=session.trainer)


def _documents(first: datetime.date, today: datetime.date, staff: User) -> None:
    """The demo pupil's attestation d'assiduité for the term so far: the register, the
    PDF and the public verification page have something to show."""
    learner = Learner.objects.filter(user__email=LEARNER_EMAIL).first()
    if (
        learner is None
        or IssuedDocument.objects.filter(learner=learner, kind="attestation_assiduite").exists()
    ):
        return
    document_issue(kind="attestation_assiduite", subject=learner, by=staff, start=first, end=today)
