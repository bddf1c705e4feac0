"""The large data set of ``manage.py seed_large``: a network of écoles de production in
one database, for load tests and query plans at the size of ~30 schools.

Each app builds its own part (``register_part`` in its ``AppConfig.ready()``, as with
``school.demo``); INSTALLED_APPS follows the layering, so a part always finds the rows
of the apps below it. The school's part comes first: accounts, programmes, cohorts,
learners, guardians, enrolments, and the plan (``Network``) the other parts read.

Built for speed, not through the services: rows go in with ``bulk_create``, without
``save()``, ``full_clean()`` or signals, so django-simple-history writes no historical
rows. The generators respect the database constraints and the rules the services
enforce (no overlap, machine cover, placements away from sessions); the tests check it.
Every account shares one password, hashed once (``DEMO_PASSWORD``).

Deterministic: one ``random.Random`` per part and school, seeded from ``--seed``, so a
school's rows do not depend on how many schools are built. Dates follow the day of the
run: the previous school year and the current one.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import OutputWrapper
from django.db import models
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .demo import DEMO_PASSWORD, PROGRAMMES
from .models import (
    REGISTER_SERIES,
    Cohort,
    DocumentCounter,
    DocumentStatus,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Guardian,
    IssuedDocument,
    Learner,
    Programme,
    Role,
    User,
)
from .registry import Registry

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

M = TypeVar("M", bound=models.Model)

BATCH = 2000
CAP = "cap-cip"
BAC_PRO = "bac-pro-trpm"
LEARNERS_PER_COHORT = 25
# Nine maîtres professionnels (one per workshop îlot), two technology and two
# general-education teachers: ``courses.large`` gives each their subject, in this order.
TRAINERS_PER_SCHOOL = 13

# Where the ~60 écoles de production of a network could be: (city, postal code).
CITIES = (
    ("Nogent", "52800"), ("Chaumont", "52000"), ("Langres", "52200"), ("Saint-Dizier", "52100"),
    ("Troyes", "10000"), ("Reims", "51100"), ("Charleville-Mézières", "08000"),
    ("Épinal", "88000"), ("Nancy", "54000"), ("Metz", "57000"), ("Besançon", "25000"),
    ("Montbéliard", "25200"), ("Dijon", "21000"), ("Le Creusot", "71200"),
    ("Chalon-sur-Saône", "71100"), ("Lyon", "69007"), ("Saint-Étienne", "42000"),
    ("Oyonnax", "01100"), ("Annecy", "74000"), ("Cluses", "74300"), ("Grenoble", "38000"),
    ("Clermont-Ferrand", "63000"), ("Thiers", "63300"), ("Roanne", "42300"),
    ("Vierzon", "18100"), ("Orléans", "45000"), ("Le Mans", "72000"), ("Angers", "49000"),
    ("Nantes", "44000"), ("Cholet", "49300"), ("Rennes", "35000"), ("Brest", "29200"),
    ("Caen", "14000"), ("Rouen", "76000"), ("Le Havre", "76600"), ("Amiens", "80000"),
    ("Lille", "59000"), ("Valenciennes", "59300"), ("Maubeuge", "59600"),
    ("Beauvais", "60000"), ("Compiègne", "60200"), ("Évry-Courcouronnes", "91000"),
    ("Mantes-la-Jolie", "78200"), ("Tours", "37000"), ("Châtellerault", "86100"),
    ("Limoges", "87000"), ("Bordeaux", "33000"), ("Pau", "64000"), ("Tarbes", "65000"),
    ("Toulouse", "31000"), ("Figeac", "46100"), ("Albi", "81000"), ("Montpellier", "34000"),
    ("Nîmes", "30000"), ("Marseille", "13015"), ("Toulon", "83000"), ("Nice", "06200"),
    ("Valence", "26000"), ("Mulhouse", "68100"), ("Strasbourg", "67000"),
)  # fmt: skip

GIRLS = (
    "Léa", "Emma", "Chloé", "Inès", "Manon", "Jade", "Louna", "Zoé", "Camille", "Sarah",
    "Lina", "Maëlys", "Clara", "Lou", "Anaïs", "Océane", "Yasmine", "Lola", "Eva", "Nora",
)  # fmt: skip
BOYS = (
    "Lucas", "Enzo", "Mathis", "Noah", "Hugo", "Théo", "Nathan", "Tom", "Jules", "Adam",
    "Rayan", "Evan", "Léo", "Louis", "Gabriel", "Arthur", "Raphaël", "Timéo", "Axel", "Maxime",
    "Yanis", "Kylian", "Sacha", "Valentin", "Nolan", "Mehdi", "Ilyes", "Baptiste", "Esteban",
    "Killian", "Dylan", "Bryan", "Alexis", "Quentin", "Romain", "Anthony", "Kevin", "Samuel",
)  # fmt: skip
MOTHERS = (
    "Nathalie", "Isabelle", "Céline", "Stéphanie", "Virginie", "Sandrine", "Aurélie", "Karine",
    "Sylvie", "Valérie", "Hélène", "Fatima", "Samira", "Sophie", "Émilie", "Julie",
)  # fmt: skip
FATHERS = (
    "Laurent", "Christophe", "Frédéric", "Stéphane", "David", "Sébastien", "Olivier", "Pascal",
    "Franck", "Thierry", "Patrick", "Gilles", "Bruno", "Éric", "Karim", "Jérôme",
)  # fmt: skip
ADULTS = MOTHERS + FATHERS
SURNAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand",
    "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier",
    "Arnaud", "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin",
    "Vidal", "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas",
    "Lacroix", "Olivier", "Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc",
    "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte", "Benali", "Haddad", "Amrani",
    "Mansouri", "Nguyen", "Da Silva", "Pereira", "Ferreira", "Yilmaz", "Diallo", "Traoré",
)  # fmt: skip
STREETS = (
    "rue de la République", "rue Victor-Hugo", "rue Jean-Jaurès", "avenue de la Gare",
    "rue des Forges", "rue Pasteur", "place de l'Église", "rue du Moulin", "allée des Tilleuls",
    "chemin des Vignes", "rue des Écoles", "impasse des Lilas", "rue de Verdun",
)  # fmt: skip

WITHDRAWAL_REASONS = (
    "Réorientation vers un CAP d'un autre secteur, à la demande de la famille",
    "Déménagement de la famille hors de la région",
    "Entrée en apprentissage dans une entreprise partenaire",
    "Abandon de la formation après entretien avec la famille",
)
SUSPENSION_REASONS = (
    "Absence longue pour raison médicale ; reprise prévue au prochain trimestre",
    "Absence longue pour raison familiale ; reprise à confirmer",
)


def say(stdout: OutputWrapper, text: str) -> None:
    stdout.write(text)
    stdout.flush()


def seconds(elapsed: float) -> str:
    """« 4,2 s », « 3 min 05 s »: a duration as the French console reads it."""
    if elapsed < 60:
        return f"{elapsed:.1f} s".replace(".", ",")
    minutes, rest = divmod(round(elapsed), 60)
    return f"{minutes} min {rest:02d} s"


def number(value: int) -> str:
    """« 150 000 »: thousands grouped by a narrow no-break space, as in French."""
    return f"{value:,}".replace(",", "\u202f")


@dataclass(frozen=True)
class SchoolYear:
    """September to August; sessions run from the first to the last day of classes."""

    first_year: int

    @property
    def label(self) -> str:
        return f"{self.first_year}-{self.first_year + 1}"

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.first_year, 9, 1)

    @property
    def end(self) -> datetime.date:
        return datetime.date(self.first_year + 1, 8, 31)


def school_year_of(day: datetime.date) -> SchoolYear:
    return SchoolYear(day.year if day.month >= 8 else day.year - 1)


@dataclass
class LearnerPlan:
    pk: int
    user_id: int
    first_name: str
    last_name: str
    email: str
    birth_date: datetime.date
    # The day they stopped following the cohort (withdrawn or suspended), if they did.
    left_on: datetime.date | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def is_minor_on(self, day: datetime.date) -> bool:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday < 18

    def follows_on(self, day: datetime.date) -> bool:
        return self.left_on is None or day < self.left_on


@dataclass
class CohortPlan:
    pk: int
    name: str
    programme: str  # the programme's code
    programme_id: int
    start: datetime.date
    end: datetime.date
    head_trainer_id: int
    learners: list[LearnerPlan] = field(default_factory=list)

    def runs_in(self, year: SchoolYear) -> bool:
        return self.start <= year.end and self.end >= year.start


@dataclass
class SchoolPlan:
    index: int
    city: str
    postal_code: str
    director_id: int = 0
    director_name: str = ""
    office_id: int = 0
    trainer_ids: list[int] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # staff and trainers, by user id
    cohorts: list[CohortPlan] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"MétalTech {self.city}"

    @property
    def domain(self) -> str:
        return f"{slugify(self.city)}.metaltech.test"

    @property
    def director_email(self) -> str:
        return f"direction@{self.domain}"

    @property
    def learners(self) -> list[LearnerPlan]:
        return [learner for cohort in self.cohorts for learner in cohort.learners]


@dataclass
class Network:
    """What the parts share: the options, the day, and the plan of every school."""

    seed: int
    today: datetime.date
    now: datetime.datetime
    schools: list[SchoolPlan]
    stdout: OutputWrapper
    password: str = ""  # the one hash every account shares

    @property
    def years(self) -> tuple[SchoolYear, SchoolYear]:
        current = school_year_of(self.today)
        return SchoolYear(current.first_year - 1), current

    @property
    def first_day(self) -> datetime.date:
        return self.years[0].start

    @property
    def last_day(self) -> datetime.date:
        return self.years[1].end

    def rng(self, part: str, school: SchoolPlan | None = None) -> random.Random:
        # A string seed is hashed (SHA-512) by random: the same on every machine and run.
        where = "" if school is None else f":{school.index}"
        return random.Random(f"{self.seed}:{part}{where}")  # noqa: S311 — fictional data

    @contextmanager
    def step(self, label: StrOrPromise) -> Iterator[None]:
        say(self.stdout, f"  {label}…")
        began = time.perf_counter()
        yield
        say(self.stdout, f"    {seconds(time.perf_counter() - began)}")

    def progress(self, done: int, began: float) -> None:
        """Every fifth school of a long step, and the last one."""
        if done % 5 == 0 or done == len(self.schools):
            say(
                self.stdout,
                _("    %(done)s/%(total)s écoles (%(elapsed)s)")
                % {
                    "done": done,
                    "total": len(self.schools),
                    "elapsed": seconds(time.perf_counter() - began),
                },
            )


Build = Callable[[Network], None]


@dataclass(frozen=True)
class Part:
    """An app's share of the data set: how to build it, and the tables it fills (label,
    model), counted at the end."""

    build: Build
    tables: tuple[tuple[StrOrPromise, type[models.Model]], ...]


_parts: Registry[Part] = Registry()
register_part = _parts.register


def parts() -> list[Part]:
    return [SCHOOL_PART, *_parts]


def plan_network(stdout: OutputWrapper, *, schools: int, seed: int) -> Network:
    if not 1 <= schools <= len(CITIES):
        raise ValueError(f"Between 1 and {len(CITIES)} schools.")
    return Network(
        seed=seed,
        today=timezone.localdate(),
        now=timezone.now(),
        schools=[
            SchoolPlan(index, city, postal_code)
            for index, (city, postal_code) in enumerate(CITIES[:schools], start=1)
        ],
        stdout=stdout,
    )


def is_loaded(network: Network) -> bool:
    return User.objects.filter(email=network.schools[0].director_email).exists()


def insert(objects: Sequence[M], *, batch_size: int = BATCH) -> list[M]:
    """``bulk_create`` keeping the dates the generator gave: ``auto_now`` fields would
    stamp every row with the time of the run (an application created after its
    decision). A date left empty gets the time of the run, as ``auto_now`` would."""
    if not objects:
        return []
    model = type(objects[0])
    stamped = [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add)
    ]
    now = timezone.now()
    for obj in objects if stamped else ():
        for f in stamped:
            if getattr(obj, f.attname) is None:
                setattr(obj, f.attname, now)
    saved = [(f, f.auto_now, f.auto_now_add) for f in stamped]
    for f in stamped:
        f.auto_now = f.auto_now_add = False
    try:
        return model._default_manager.bulk_create(objects, batch_size=batch_size)
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """``hour`` on ``day`` by the school's wall clock."""
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=timezone.get_default_timezone()
    )


# ---------------------------------------------------------------------------------------
# The register of issued documents, shared by the parts that issue some
# ---------------------------------------------------------------------------------------

PLACEHOLDER_PDF = "large/document-fictif.pdf"


def placeholder_pdf(name: str = PLACEHOLDER_PDF) -> tuple[str, str]:
    """The one stored PDF every generated document (or drawing) points at: rendering
    thousands with WeasyPrint would take an hour. Written once, through storage; its
    name and SHA-256."""
    content = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(content))
    return name, hashlib.sha256(content).hexdigest()


@dataclass
class Entry:
    """A document to put in the register: issued at ``issued_at``, valid."""

    kind: str
    title: str
    subject: str
    issued_at: datetime.datetime
    learner_id: int | None = None
    issued_by_id: int | None = None


def register_documents(entries: Sequence[Entry], rng: random.Random) -> list[IssuedDocument]:
    """Number the entries in the order they were issued, after what the register holds,
    gap-free per year; the year's counter moves on with them. Returned in the order of
    ``entries``."""
    path, sha256 = placeholder_pdf()
    counters = dict(
        DocumentCounter.objects.filter(series=REGISTER_SERIES).values_list("year", "last")
    )
    order = sorted(range(len(entries)), key=lambda i: entries[i].issued_at)
    documents: list[IssuedDocument | None] = [None] * len(entries)
    for i in order:
        entry = entries[i]
        year = timezone.localtime(entry.issued_at).year
        counters[year] = sequence = counters.get(year, 0) + 1
        documents[i] = IssuedDocument(
            number=f"MT-{year}-{sequence:06d}",
            year=year,
            sequence=sequence,
            kind=entry.kind,
            title=entry.title,
            learner_id=entry.learner_id,
            subject=entry.subject[:255],
            issued_at=entry.issued_at,
            issued_by_id=entry.issued_by_id,
            sha256=sha256,
            file=path,
            status=DocumentStatus.VALID,
            verification_code=rng.randbytes(18).hex(),
        )
    created = insert([document for document in documents if document is not None])
    for year, last in counters.items():
        DocumentCounter.objects.update_or_create(
            series=REGISTER_SERIES, year=year, defaults={"last": last}
        )
    return created


# ---------------------------------------------------------------------------------------
# The school's part: accounts, programmes, cohorts, learners, guardians, enrolments
# ---------------------------------------------------------------------------------------


def build_schools(network: Network) -> None:
    with network.step(_("École : comptes, promotions, apprenants, responsables légaux")):
        # Hashed once: every account of the data set opens with the demo's password.
        network.password = make_password(DEMO_PASSWORD)
        programmes = {
            row.code: Programme.objects.get_or_create(code=row.code, defaults=row._asdict())[0]
            for row in PROGRAMMES
        }
        for school in network.schools:
            _staff_and_trainers(network, school)
            _cohorts(network, school, programmes)
            _learners(network, school)


def _account(network: Network, email: str, role: str, first: str, last: str) -> User:
    return User(
        email=email,
        role=role,
        first_name=first,
        last_name=last,
        password=network.password,
        date_joined=at(network.first_day - datetime.timedelta(days=30), 9),
    )


def _staff_and_trainers(network: Network, school: SchoolPlan) -> None:
    rng = network.rng("school-staff", school)
    director = (rng.choice(ADULTS), rng.choice(SURNAMES))
    office = (rng.choice(ADULTS), rng.choice(SURNAMES))
    users = [
        _account(network, school.director_email, Role.STAFF, *director),
        _account(network, f"secretariat@{school.domain}", Role.STAFF, *office),
    ]
    taken: set[str] = set()
    for _n in range(TRAINERS_PER_SCHOOL):
        first, last = rng.choice(ADULTS), rng.choice(SURNAMES)
        email = f"{slugify(first)}.{slugify(last)}"
        while email in taken:
            email += "2"
        taken.add(email)
        users.append(_account(network, f"{email}@{school.domain}", Role.TRAINER, first, last))
    created = insert(users)
    school.director_id, school.office_id = created[0].pk, created[1].pk
    school.director_name = f"{director[0]} {director[1]}"
    school.trainer_ids = [user.pk for user in created[2:]]
    school.names = {user.pk: user.get_full_name() for user in created}


def _cohorts(network: Network, school: SchoolPlan, programmes: dict[str, Programme]) -> None:
    """Four cohorts a school: the CAP in its second and first years, the Bac pro in its
    third and second; the CAP that started this year has sessions this year only."""
    current = network.years[1].first_year
    layout = (
        (CAP, "CAP CIP", current - 1, 2),
        (CAP, "CAP CIP", current, 2),
        (BAC_PRO, "Bac pro TRPM", current - 2, 3),
        (BAC_PRO, "Bac pro TRPM", current - 1, 3),
    )
    cohorts = [
        Cohort(
            programme=programmes[code],
            name=f"{label} {first}-{first + years} — {school.name}",
            start_date=datetime.date(first, 9, 1),
            end_date=datetime.date(first + years, 6, 30),
            # A maître professionnel heads each cohort (the first four îlots' trainers).
            head_trainer_id=school.trainer_ids[index],
        )
        for index, (code, label, first, years) in enumerate(layout)
    ]
    insert(cohorts)
    school.cohorts = [
        CohortPlan(
            pk=cohort.pk,
            name=cohort.name,
            programme=code,
            programme_id=programmes[code].pk,
            start=cohort.start_date,
            end=cohort.end_date,
            head_trainer_id=school.trainer_ids[index],
        )
        for index, (cohort, (code, *_rest)) in enumerate(zip(cohorts, layout, strict=True))
    ]
    # The whole teaching team teaches every cohort of a school this size.
    Team = Cohort.trainers.through
    insert(
        [
            Team(cohort_id=cohort.pk, user_id=trainer)
            for cohort in cohorts
            for trainer in school.trainer_ids
        ]
    )


def _birth_date(rng: random.Random, entry: datetime.date) -> datetime.date:
    """Most enter at 15 or 16, a few later, some as adults (a second chance)."""
    age = rng.choices((15, 16, 17, 18, 19, 21, 24), weights=(55, 25, 8, 4, 4, 2, 2))[0]
    anniversary = entry.replace(year=entry.year - age)
    return anniversary - datetime.timedelta(days=rng.randrange(365))


def _learners(network: Network, school: SchoolPlan) -> None:
    rng = network.rng("school-learners", school)
    learner_domain = f"eleves.{school.domain}"
    rows: list[tuple[CohortPlan, str, str, datetime.date, str]] = []
    for cohort in school.cohorts:
        for _n in range(LEARNERS_PER_COHORT):
            first = rng.choice(GIRLS if rng.random() < 0.18 else BOYS)
            last = rng.choice(SURNAMES)
            email = f"{slugify(first)}.{slugify(last)}.{len(rows) + 1:03d}@{learner_domain}"
            rows.append((cohort, first, last, _birth_date(rng, cohort.start), email))
    users = insert(
        [
            _account(network, email, Role.LEARNER, first, last)
            for _cohort, first, last, _born, email in rows
        ]
    )
    learners = insert(
        [
            Learner(
                user_id=user.pk,
                first_name=first,
                last_name=last,
                birth_date=born,
                email=email,
                address=f"{rng.randrange(1, 80)} {rng.choice(STREETS)}",
                postal_code=school.postal_code,
                city=school.city,
                created_at=at(cohort.start - datetime.timedelta(days=rng.randrange(20, 90)), 10),
            )
            for (cohort, first, last, born, email), user in zip(rows, users, strict=True)
        ]
    )
    enrolments: list[Enrolment] = []
    for (cohort, first, last, born, email), user, learner in zip(
        rows, users, learners, strict=True
    ):
        cohort.learners.append(
            LearnerPlan(learner.pk, user.pk, first, last, email, born),
        )
        enrolments.append(
            Enrolment(learner_id=learner.pk, cohort_id=cohort.pk, start_date=cohort.start)
        )
    changes = _leavers(network, school, rng, enrolments)
    insert(enrolments)
    insert(
        [
            EnrolmentStatusChange(
                enrolment_id=enrolment.pk,
                status=EnrolmentStatus.ACTIVE,
                effective_on=enrolment.start_date,
                changed_by_id=school.office_id,
                changed_at=at(enrolment.start_date - datetime.timedelta(days=10), 11),
            )
            for enrolment in enrolments
        ]
        + [
            EnrolmentStatusChange(
                enrolment_id=enrolment.pk,
                status=status,
                effective_on=day,
                reason=reason,
                changed_by_id=school.director_id,
                changed_at=at(day, 16),
            )
            for enrolment, status, day, reason in changes
        ]
    )
    _guardians(network, school, rng)


def _leavers(
    network: Network, school: SchoolPlan, rng: random.Random, enrolments: list[Enrolment]
) -> list[tuple[Enrolment, str, datetime.date, str]]:
    """About 3 % leave the school during the two years, 1 % pause their training."""
    plans = school.learners
    changes: list[tuple[Enrolment, str, datetime.date, str]] = []
    first_day = network.first_day
    for plan, enrolment in zip(plans, enrolments, strict=True):
        draw = rng.random()
        if draw >= 0.04:
            continue
        start = max(enrolment.start_date, first_day) + datetime.timedelta(days=20)
        span = (network.today - start).days
        if span < 30:
            continue
        day = start + datetime.timedelta(days=rng.randrange(span - 7))
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        if draw < 0.03:
            enrolment.status = EnrolmentStatus.WITHDRAWN
            enrolment.end_date = day
            reason = rng.choice(WITHDRAWAL_REASONS)
        else:
            enrolment.status = EnrolmentStatus.SUSPENDED
            reason = rng.choice(SUSPENSION_REASONS)
        plan.left_on = day
        changes.append((enrolment, enrolment.status, day, reason))
    return changes


def _guardians(network: Network, school: SchoolPlan, rng: random.Random) -> None:
    """Every learner under 18 when the data begins has a responsable 1 with an account,
    two families in three a responsable 2 (with an account one time in two)."""
    rows: list[tuple[LearnerPlan, int, str, str, bool]] = []
    for cohort in school.cohorts:
        since = max(cohort.start, network.first_day)
        for learner in cohort.learners:
            if not learner.is_minor_on(since):
                continue
            mother = (Guardian.Relationship.MOTHER, rng.choice(MOTHERS))
            father = (Guardian.Relationship.FATHER, rng.choice(FATHERS))
            parents = [mother, father] if rng.random() < 0.6 else [father, mother]
            if rng.random() < 1 / 3:
                parents = parents[:1]
            for rank, (relationship, first) in enumerate(parents, start=1):
                rows.append((learner, rank, relationship, first, rank == 1 or rng.random() < 0.5))
    emails = [
        f"{slugify(first)}.{slugify(learner.last_name)}.{n:04d}@familles.{school.domain}"
        for n, (learner, _rank, _rel, first, _account) in enumerate(rows, start=1)
    ]
    accounts = iter(
        insert(
            [
                _account(network, email, Role.GUARDIAN, first, learner.last_name)
                for (learner, _rank, _rel, first, has_account), email in zip(
                    rows, emails, strict=True
                )
                if has_account
            ]
        )
    )
    insert(
        [
            Guardian(
                learner_id=learner.pk,
                rank=rank,
                relationship=relationship,
                first_name=first,
                last_name=learner.last_name,
                email=email,
                user_id=next(accounts).pk if has_account else None,
            )
            for (learner, rank, relationship, first, has_account), email in zip(
                rows, emails, strict=True
            )
        ]
    )


SCHOOL_PART = Part(
    build=build_schools,
    tables=(
        (gettext_lazy("Comptes utilisateurs"), User),
        (gettext_lazy("Formations"), Programme),
        (gettext_lazy("Promotions"), Cohort),
        (gettext_lazy("Apprenants"), Learner),
        (gettext_lazy("Responsables légaux"), Guardian),
        (gettext_lazy("Inscriptions"), Enrolment),
        (gettext_lazy("Changements de statut"), EnrolmentStatusChange),
        (gettext_lazy("Documents émis"), IssuedDocument),
    ),
)


def describe(network: Network) -> dict[str, Any]:
    first, current = network.years
    return {
        "schools": len(network.schools),
        "seed": network.seed,
        "first": first.label,
        "current": current.label,
        "today": f"{network.today:%d/%m/%Y}",
    }
