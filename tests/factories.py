"""factory_boy factories: the cast of every test."""

from __future__ import annotations

import datetime

import factory
from factory.django import DjangoModelFactory

from companies.models import Cluster, Company, Contact, Sector
from companies.validators import luhn_valid
from school.models import (
    Cohort,
    Enrolment,
    EnrolmentStatusChange,
    Guardian,
    Learner,
    Programme,
    ProgrammeLevel,
    Role,
    User,
)

PASSWORD = "metaltech-test"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"user{n}@metaltech.test")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    role = Role.STAFF
    password = factory.django.Password(PASSWORD)


class ProgrammeFactory(DjangoModelFactory):
    class Meta:
        model = Programme

    title = factory.Sequence(lambda n: f"CAP Conducteur d'installations de production {n}")
    code = factory.Sequence(lambda n: f"cap-cip-{n}")
    level = ProgrammeLevel.LEVEL_3
    total_hours = 2100
    placement_weeks_min = 12
    placement_weeks_max = 16


class CohortFactory(DjangoModelFactory):
    class Meta:
        model = Cohort

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Promotion {n}")
    start_date = datetime.date(2026, 9, 1)
    end_date = datetime.date(2028, 6, 30)
    head_trainer = factory.SubFactory(UserFactory, role=Role.TRAINER)


class LearnerFactory(DjangoModelFactory):
    class Meta:
        model = Learner

    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    birth_date = datetime.date(2010, 3, 14)
    email = factory.Sequence(lambda n: f"eleve{n}@example.test")


class GuardianFactory(DjangoModelFactory):
    class Meta:
        model = Guardian

    learner = factory.SubFactory(LearnerFactory)
    rank = 1
    relationship = Guardian.Relationship.MOTHER
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.SelfAttribute("learner.last_name")
    email = factory.Sequence(lambda n: f"parent{n}@example.test")


class EnrolmentFactory(DjangoModelFactory):
    class Meta:
        model = Enrolment
        skip_postgeneration_save = True

    learner = factory.SubFactory(LearnerFactory)
    cohort = factory.SubFactory(CohortFactory)
    start_date = factory.SelfAttribute("cohort.start_date")

    @factory.post_generation
    def history(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            EnrolmentStatusChange.objects.create(
                enrolment=self, status=self.status, effective_on=self.start_date
            )


def make_siret(n: int) -> str:
    """A valid SIRET: 13 digits from ``n`` and the Luhn key that completes them."""
    stem = f"{n % 10**13:013d}"
    return next(stem + key for key in "0123456789" if luhn_valid(stem + key))


class ClusterFactory(DjangoModelFactory):
    class Meta:
        model = Cluster
        django_get_or_create = ["name"]

    name = "Pôle Nogentais de la mécanique"


class CompanyFactory(DjangoModelFactory):
    class Meta:
        model = Company

    legal_name = factory.Sequence(lambda n: f"Usinage Précision {n} SAS")
    siret = factory.Sequence(lambda n: make_siret(41234567800000 + n))
    sector = Sector.MACHINING
    address = "12 rue des Forges"
    postal_code = "52800"
    city = "Nogent"


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    company = factory.SubFactory(CompanyFactory)
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    job_title = "Responsable d'atelier"
    email = factory.Sequence(lambda n: f"contact{n}@entreprise.test")
    is_tutor = True


# ---------------------------------------------------------------------------------------
# courses: the timetable and the machine cover of minors.
# Models are named as "app.Model" strings so that this block needs no import up top.
# ---------------------------------------------------------------------------------------


class CourseFactory(DjangoModelFactory):
    class Meta:
        model = "courses.Course"

    programme = factory.SubFactory(ProgrammeFactory)
    code = factory.Sequence(lambda n: f"M{n}")
    title = factory.Sequence(lambda n: f"Tournage {n}")
    kind = "workshop"
    planned_hours = 120


class CompetencyBlockFactory(DjangoModelFactory):
    class Meta:
        model = "courses.CompetencyBlock"

    programme = factory.SubFactory(ProgrammeFactory)
    code = factory.Sequence(lambda n: f"B{n}")
    title = "Réaliser en tournage et fraisage"


class CompetencyFactory(DjangoModelFactory):
    class Meta:
        model = "courses.Competency"

    block = factory.SubFactory(CompetencyBlockFactory)
    code = factory.Sequence(lambda n: f"C2.{n}")
    title = factory.Sequence(lambda n: f"Usiner une pièce de série {n}")


class RoomFactory(DjangoModelFactory):
    class Meta:
        model = "courses.Room"

    name = factory.Sequence(lambda n: f"Atelier {n}")
    kind = "workshop"


class MachineFactory(DjangoModelFactory):
    class Meta:
        model = "courses.Machine"

    name = factory.Sequence(lambda n: f"Tour CN {n}")
    kind = "cnc_lathe"
    room = factory.SubFactory(RoomFactory)


class SessionFactory(DjangoModelFactory):
    """A morning session, 12/01/2027 from 8 h to 12 h (Paris); ``learners=[…]`` makes it
    a group's, ``machines=[…]`` books machines."""

    class Meta:
        model = "courses.Session"
        skip_postgeneration_save = True

    course = factory.SubFactory(
        CourseFactory, programme=factory.SelfAttribute("..cohort.programme")
    )
    cohort = factory.SubFactory(CohortFactory)
    trainer = factory.SubFactory(UserFactory, role=Role.TRAINER)
    room = factory.SubFactory(RoomFactory)
    start = datetime.datetime(2027, 1, 12, 7, tzinfo=datetime.UTC)  # 8 h in Paris, winter time
    end = factory.LazyAttribute(lambda session: session.start + datetime.timedelta(hours=4))

    @factory.post_generation
    def learners(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create and extracted:
            self.learners.add(*extracted)

    @factory.post_generation
    def machines(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create and extracted:
            self.machines.add(*extracted)


class ClosurePeriodFactory(DjangoModelFactory):
    class Meta:
        model = "courses.ClosurePeriod"

    name = "Vacances de Noël"
    kind = "school_holidays"
    start_date = datetime.date(2026, 12, 19)
    end_date = datetime.date(2027, 1, 3)


class DerogationFactory(DjangoModelFactory):
    class Meta:
        model = "courses.Derogation"

    declared_on = datetime.date(2026, 8, 25)
    reference = factory.Sequence(lambda n: f"DIRECCTE-52-{n}")
    machine_kinds = factory.LazyFunction(
        lambda: ["manual_lathe", "cnc_lathe", "milling_machine", "cnc_machining_centre", "drill"]
    )


class MedicalFitnessFactory(DjangoModelFactory):
    class Meta:
        model = "courses.MedicalFitness"

    learner = factory.SubFactory(LearnerFactory)
    issued_on = datetime.date(2026, 9, 1)
    valid_until = datetime.date(2027, 8, 31)


class SafetyTrainingFactory(DjangoModelFactory):
    class Meta:
        model = "courses.SafetyTraining"

    learner = factory.SubFactory(LearnerFactory)
    machine_kind = "cnc_lathe"
    trained_on = datetime.date(2026, 9, 15)


# ---------------------------------------------------------------------------------------
# internships: offers, applications, placements with a weekly schedule.
# ---------------------------------------------------------------------------------------


class OfferFactory(DjangoModelFactory):
    """A published offer for the spring 2027 PFMP: 8 to 26 March, 3 weeks."""

    class Meta:
        model = "internships.PlacementOffer"

    company = factory.SubFactory(CompanyFactory)
    title = factory.Sequence(lambda n: f"Opérateur régleur sur tour CN {n}")
    activities = "Préparer le poste, usiner des séries, contrôler les pièces."
    address = "ZI des Forges"
    postal_code = "52800"
    city = "Nogent"
    start_date = datetime.date(2027, 3, 8)
    end_date = datetime.date(2027, 3, 26)
    places = 1
    status = "published"


class ApplicationFactory(DjangoModelFactory):
    class Meta:
        model = "internships.Application"

    offer = factory.SubFactory(OfferFactory)
    learner = factory.SubFactory(LearnerFactory)
    message = "Je suis motivé par l'usinage CN."


class PlacementFactory(DjangoModelFactory):
    """A draft placement, 8 to 26 March 2027, Monday to Friday 8 h–12 h and 13 h–16 h
    (35 h a week), with a tutor, an authorised signatory and a referent."""

    class Meta:
        model = "internships.Placement"
        skip_postgeneration_save = True

    learner = factory.SubFactory(LearnerFactory)
    company = factory.SubFactory(CompanyFactory)
    tutor = factory.SubFactory(ContactFactory, company=factory.SelfAttribute("..company"))
    signatory = factory.SubFactory(
        ContactFactory,
        company=factory.SelfAttribute("..company"),
        is_tutor=False,
        is_signatory=True,
        job_title="Gérant",
    )
    referent = factory.SubFactory(UserFactory, role=Role.TRAINER)
    start_date = datetime.date(2027, 3, 8)
    end_date = datetime.date(2027, 3, 26)
    activities = "Usinage de séries sur tour CN, autocontrôle."

    @factory.post_generation
    def slots(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        from internships.models import ScheduleSlot

        spans = extracted if extracted is not None else WEEKDAYS_35_HOURS
        ScheduleSlot.objects.bulk_create(
            ScheduleSlot(placement=self, weekday=day, start_time=start, end_time=end)
            for day, start, end in spans  # type: ignore[attr-defined]
        )


WEEKDAYS_35_HOURS = [
    (day, datetime.time(hour_from), datetime.time(hour_to))
    for day in range(5)
    for hour_from, hour_to in ((8, 12), (13, 16))
]


class VisitFactory(DjangoModelFactory):
    class Meta:
        model = "internships.Visit"

    placement = factory.SubFactory(PlacementFactory)
    kind = "visit"
    date = datetime.date(2027, 3, 15)
    notes = "Apprenant bien intégré ; réglage du tour CN acquis."


# ---------------------------------------------------------------------------------------
# The émargement and the portfolio (the retention policy's tests).
# ---------------------------------------------------------------------------------------


class AttendanceFactory(DjangoModelFactory):
    """A line of the émargement: the learner was present."""

    class Meta:
        model = "courses.Attendance"

    session = factory.SubFactory(SessionFactory)
    learner = factory.SubFactory(LearnerFactory)
    status = "present"


class CompetencyEvidenceFactory(DjangoModelFactory):
    class Meta:
        model = "courses.CompetencyEvidence"

    learner = factory.SubFactory(LearnerFactory)
    competency = factory.SubFactory(CompetencyFactory)
    level = "acquired"
    source = "assessment"
    assessor_name = "Marc Aubertin"
    date = datetime.date(2027, 1, 12)
