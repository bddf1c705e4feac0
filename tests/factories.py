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
