"""Demo data for ``manage.py seed_demo``: a registry of seeders and the school's own.

Everything seeded is fictional: people, birth dates and addresses are invented, and
e-mail addresses use ``.test`` domains, reserved by RFC 2606 so they reach no one.

``school`` may not import the apps built on it (DESIGN.md, "Layout"), so each higher
app registers its seeder in its ``AppConfig.ready()``; INSTALLED_APPS follows the
layering, so a seeder always finds the rows of the apps below it.

Running the seeders twice changes nothing: rows are looked up by natural key (e-mail,
code, name) and created only when missing, so what a visitor edits while exploring
the demo survives a re-run. Only the published demo logins are put back (role,
active, password), because the README promises they open.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import NamedTuple

from django.core.management.base import OutputWrapper
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from . import services
from .models import (
    Cohort,
    EnrolmentStatus,
    Guardian,
    Learner,
    Programme,
    ProgrammeLevel,
    Role,
    User,
)
from .registry import Registry

Seeder = Callable[[OutputWrapper], None]

_seeders: Registry[Seeder] = Registry()
register_seeder = _seeders.register


def run_seeders(stdout: OutputWrapper) -> None:
    # The school's rows come first: every other app's demo data hangs on them.
    for seeder in (seed_school, *_seeders):
        seeder(stdout)


def person_email(first_name: str, last_name: str, domain: str) -> str:
    return f"{slugify(first_name)}.{slugify(last_name)}@{domain}"


# Published on purpose (DESIGN.md, "Contract with the outside"): it opens demo data only.
DEMO_PASSWORD = "metaltech-demo"  # noqa: S105

STAFF_EMAIL = "direction@metaltech.test"
TRAINER_EMAIL = "formateur@metaltech.test"
PARTNER_EMAIL = "tuteur@partenaire.test"
LEARNER_EMAIL = "eleve@metaltech.test"
GUARDIAN_EMAIL = "parent@metaltech.test"

CAP_CIP = "cap-cip"
BAC_PRO_TRPM = "bac-pro-trpm"


class Account(NamedTuple):
    email: str
    role: str
    first_name: str
    last_name: str


DEMO_LOGINS = (
    Account(STAFF_EMAIL, Role.STAFF, "Hélène", "Garnier"),
    Account(TRAINER_EMAIL, Role.TRAINER, "Marc", "Aubertin"),
    Account(PARTNER_EMAIL, Role.PARTNER, "Julien", "Mercier"),
    Account(LEARNER_EMAIL, Role.LEARNER, "Léa", "Morel"),
    Account(GUARDIAN_EMAIL, Role.GUARDIAN, "Sophie", "Morel"),
)
# Not advertised, but a second trainer shows what a trainer outside a cohort cannot see.
SECOND_TRAINER = Account("formatrice@metaltech.test", Role.TRAINER, "Nadia", "Ferrand")


class ProgrammeRow(NamedTuple):
    code: str
    title: str
    level: str
    objectives: str
    total_hours: int
    placement_weeks_min: int
    placement_weeks_max: int


PROGRAMMES = (
    ProgrammeRow(
        CAP_CIP,
        "CAP Conducteur d'installations de production",
        ProgrammeLevel.LEVEL_3,
        "Conduire et surveiller une installation de production mécanique, réaliser des "
        "pièces en tournage et en fraisage, contrôler leur conformité.",
        total_hours=2000,
        placement_weeks_min=12,
        placement_weeks_max=16,
    ),
    ProgrammeRow(
        BAC_PRO_TRPM,
        "Bac pro Technicien en réalisation de produits mécaniques, "
        "option réalisation et suivi de productions",
        ProgrammeLevel.LEVEL_4,
        "Préparer, programmer et conduire la réalisation de pièces sur machines à commande "
        "numérique, en suivre la production et la qualité.",
        total_hours=3100,
        placement_weeks_min=18,
        placement_weeks_max=22,
    ),
)

CAP_2025 = "CAP CIP 2025-2027"
CAP_2026 = "CAP CIP 2026-2028"
BAC_PRO_2026 = "Bac pro TRPM 2026-2029"


class CohortRow(NamedTuple):
    name: str
    programme: str
    start_date: datetime.date
    end_date: datetime.date
    head_trainer: str
    trainers: tuple[str, ...]


COHORTS = (
    CohortRow(
        CAP_2025,
        CAP_CIP,
        datetime.date(2025, 9, 1),
        datetime.date(2027, 6, 30),
        TRAINER_EMAIL,
        (SECOND_TRAINER.email,),
    ),
    CohortRow(
        CAP_2026, CAP_CIP, datetime.date(2026, 9, 1), datetime.date(2028, 6, 30), TRAINER_EMAIL, ()
    ),
    CohortRow(
        BAC_PRO_2026,
        BAC_PRO_TRPM,
        datetime.date(2026, 9, 1),
        datetime.date(2029, 6, 30),
        SECOND_TRAINER.email,
        (TRAINER_EMAIL,),
    ),
)

POSTAL_CODES = {
    "Nogent": "52800",
    "Biesles": "52340",
    "Chaumont": "52000",
    "Langres": "52200",
    "Bologne": "52310",
    "Rolampont": "52260",
    "Foulain": "52800",
    "Poulangy": "52800",
    "Mandres-la-Côte": "52800",
    "Froncles": "52320",
}


class StatusChange(NamedTuple):
    status: str
    effective_on: datetime.date
    reason: str


class LearnerRow(NamedTuple):
    first_name: str
    last_name: str
    cohort: str
    age: int  # today: birth dates follow the calendar so minors stay minors
    city: str
    change: StatusChange | None = None


WITHDRAWN = StatusChange(
    EnrolmentStatus.WITHDRAWN,
    datetime.date(2026, 3, 13),
    "Réorientation vers un CAP Cuisine, à la demande de la famille",
)
SUSPENDED = StatusChange(
    EnrolmentStatus.SUSPENDED,
    datetime.date(2026, 11, 16),
    "Absence longue pour raison familiale ; reprise prévue en janvier",
)

# The first row is the demo learner: a minor of 15, so still a minor in two years.
LEARNERS = (
    LearnerRow("Léa", "Morel", CAP_2026, 15, "Nogent"),
    LearnerRow("Lucas", "Bernard", CAP_2025, 16, "Nogent"),
    LearnerRow("Enzo", "Petit", CAP_2025, 17, "Biesles"),
    LearnerRow("Mathis", "Roux", CAP_2025, 16, "Chaumont"),
    LearnerRow("Inès", "Fontaine", CAP_2025, 17, "Nogent"),
    LearnerRow("Noah", "Girard", CAP_2025, 18, "Langres"),
    LearnerRow("Théo", "Lambert", CAP_2025, 19, "Rolampont", WITHDRAWN),
    LearnerRow("Yanis", "Benali", CAP_2025, 17, "Chaumont"),
    LearnerRow("Maëlys", "Chevalier", CAP_2025, 16, "Foulain"),
    LearnerRow("Hugo", "Masson", CAP_2025, 20, "Bologne"),
    LearnerRow("Kylian", "Renaud", CAP_2025, 18, "Nogent"),
    LearnerRow("Louna", "Perrin", CAP_2025, 17, "Poulangy"),
    LearnerRow("Nathan", "Guérin", CAP_2025, 16, "Nogent"),
    LearnerRow("Tom", "Dupont", CAP_2026, 15, "Biesles"),
    LearnerRow("Jules", "Marchal", CAP_2026, 16, "Nogent"),
    LearnerRow("Sarah", "Henry", CAP_2026, 15, "Chaumont"),
    LearnerRow("Adam", "Haddad", CAP_2026, 16, "Langres"),
    LearnerRow("Rayan", "Colin", CAP_2026, 17, "Nogent", SUSPENDED),
    LearnerRow("Camille", "Vincent", CAP_2026, 15, "Mandres-la-Côte"),
    LearnerRow("Baptiste", "Jacquot", CAP_2026, 16, "Froncles"),
    LearnerRow("Chloé", "Barbier", CAP_2026, 18, "Chaumont"),
    LearnerRow("Evan", "Schmitt", CAP_2026, 15, "Nogent"),
    LearnerRow("Mehdi", "Amrani", CAP_2026, 19, "Langres"),
    LearnerRow("Léo", "Gauthier", CAP_2026, 16, "Biesles"),
    LearnerRow("Manon", "Caron", CAP_2026, 17, "Bologne"),
    LearnerRow("Louis", "Thiébaut", CAP_2026, 15, "Nogent"),
    LearnerRow("Gabriel", "Mathieu", BAC_PRO_2026, 15, "Chaumont"),
    LearnerRow("Arthur", "Lefèvre", BAC_PRO_2026, 15, "Nogent"),
    LearnerRow("Emma", "Clément", BAC_PRO_2026, 16, "Langres"),
    LearnerRow("Raphaël", "Noël", BAC_PRO_2026, 15, "Foulain"),
    LearnerRow("Timéo", "Humbert", BAC_PRO_2026, 16, "Nogent"),
    LearnerRow("Zoé", "Lemoine", BAC_PRO_2026, 15, "Chaumont"),
    LearnerRow("Axel", "Gérard", BAC_PRO_2026, 17, "Biesles"),
    LearnerRow("Ilyes", "Mansouri", BAC_PRO_2026, 15, "Nogent"),
    LearnerRow("Maxime", "Rousseau", BAC_PRO_2026, 18, "Rolampont"),
    LearnerRow("Jade", "Bouvier", BAC_PRO_2026, 16, "Nogent"),
    LearnerRow("Sacha", "Pierson", BAC_PRO_2026, 15, "Poulangy"),
    LearnerRow("Valentin", "Didier", BAC_PRO_2026, 16, "Chaumont"),
    LearnerRow("Clément", "Aubry", BAC_PRO_2026, 18, "Langres"),
    LearnerRow("Nolan", "Leclerc", BAC_PRO_2026, 15, "Nogent"),
)

MOTHERS = ("Nathalie", "Isabelle", "Céline", "Stéphanie", "Virginie", "Sandrine", "Aurélie")
FATHERS = ("Laurent", "Christophe", "Frédéric", "Stéphane", "David", "Sébastien", "Olivier")


def seed_school(stdout: OutputWrapper) -> None:
    today = timezone.localdate()
    users = {account.email: ensure_login(account) for account in (*DEMO_LOGINS, SECOND_TRAINER)}
    programmes = {
        row.code: Programme.objects.get_or_create(code=row.code, defaults=row._asdict())[0]
        for row in PROGRAMMES
    }
    cohorts = {row.name: _cohort(row, programmes, users) for row in COHORTS}
    for index, row in enumerate(LEARNERS):
        is_demo_learner = index == 0
        email = (
            LEARNER_EMAIL
            if is_demo_learner
            else person_email(row.first_name, row.last_name, "eleves.metaltech.test")
        )
        learner, _created = Learner.objects.get_or_create(
            email=email,
            defaults={
                "first_name": row.first_name,
                "last_name": row.last_name,
                # Spread birthdays over the year; under 365 days keeps the age exact.
                "birth_date": _born(today, row.age, days_since_birthday=(index * 47) % 360),
                "city": row.city,
                "postal_code": POSTAL_CODES[row.city],
                "user": users[LEARNER_EMAIL] if is_demo_learner else None,
            },
        )
        if learner.is_minor_on(today):
            _guardians(learner, index, users[GUARDIAN_EMAIL] if is_demo_learner else None)
        # A learner moved elsewhere while exploring the demo stays where they were put.
        if not learner.enrolments.exists():
            _enrol(learner, cohorts[row.cohort], row.change, users[STAFF_EMAIL])
    stdout.write(
        _(
            "École : %(users)d comptes, %(programmes)d formations, %(cohorts)d promotions, "
            "%(learners)d apprenants."
        )
        % {
            "users": len(users),
            "programmes": len(programmes),
            "cohorts": len(cohorts),
            "learners": len(LEARNERS),
        }
    )


def ensure_login(account: Account) -> User:
    user, created = User.objects.get_or_create(
        email=account.email,
        defaults={
            "role": account.role,
            "first_name": account.first_name,
            "last_name": account.last_name,
        },
    )
    # Checked before setting: a fresh salt on every run would be a change for nothing.
    if (
        created
        or user.role != account.role
        or not user.is_active
        or not user.check_password(DEMO_PASSWORD)
    ):
        user.role = account.role
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _cohort(row: CohortRow, programmes: dict[str, Programme], users: dict[str, User]) -> Cohort:
    cohort, created = Cohort.objects.get_or_create(
        name=row.name,
        defaults={
            "programme": programmes[row.programme],
            "start_date": row.start_date,
            "end_date": row.end_date,
            "head_trainer": users[row.head_trainer],
        },
    )
    if created:
        cohort.trainers.add(*(users[email] for email in row.trainers))
    return cohort


def _born(today: datetime.date, age: int, days_since_birthday: int) -> datetime.date:
    try:
        birthday = today.replace(year=today.year - age)
    except ValueError:  # 29 February, in a year that has none
        birthday = today.replace(year=today.year - age, day=28)
    return birthday - datetime.timedelta(days=days_since_birthday)


def _guardians(learner: Learner, index: int, account: User | None) -> None:
    """Responsable 1 for every minor, responsable 2 in two families out of three; the
    demo parent's account is responsable 1 of the demo learner."""
    mother = (Guardian.Relationship.MOTHER, MOTHERS[index % len(MOTHERS)])
    father = (Guardian.Relationship.FATHER, FATHERS[index % len(FATHERS)])
    parents: tuple[tuple[str, str], ...] = (mother, father) if index % 2 == 0 else (father, mother)
    if index % 3 == 2:
        parents = parents[:1]
    for rank, (relationship, first_name) in enumerate(parents, start=1):
        linked = account if rank == Guardian.Rank.FIRST else None
        Guardian.objects.get_or_create(
            learner=learner,
            rank=rank,
            defaults={
                "relationship": relationship,
                "first_name": linked.first_name if linked else first_name,
                "last_name": learner.last_name,
                "email": linked.email
                if linked
                else person_email(first_name, learner.last_name, "famille.test"),
                "user": linked,
            },
        )


def _enrol(learner: Learner, cohort: Cohort, change: StatusChange | None, by: User) -> None:
    enrolment = services.enrolment_create(
        learner=learner, cohort=cohort, start_date=cohort.start_date, by=by
    )
    if change is not None:
        services.enrolment_change_status(
            enrolment=enrolment,
            status=change.status,
            effective_on=change.effective_on,
            reason=change.reason,
            by=by,
        )
