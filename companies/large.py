"""The companies of the large data set (``manage.py seed_large``, see ``school.large``):
twenty partner companies in each school's basin, their contacts and partner accounts.

All fictional. As in the demo, each SIREN starts with 9 and fails the Luhn check every
real SIREN passes, so no generated SIRET can be a real establishment's.
"""

from __future__ import annotations

import datetime
import random

from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from school.large import (
    ADULTS,
    STREETS,
    SURNAMES,
    Network,
    Part,
    SchoolPlan,
    at,
    insert,
)
from school.models import Role, User

from .models import Cluster, Company, Contact, Sector
from .validators import luhn_valid

COMPANIES_PER_SCHOOL = 20

# (sector, weight, how names of such companies read)
SECTORS = (
    (Sector.MACHINING, 30, ("Usinage {name}", "Mécanique de précision {name}", "{name} Décolletage")),
    (Sector.TOOLING, 12, ("Outillages {name}", "{name} Moules et Outils")),
    (Sector.FORGE, 8, ("Forges {name}", "Estampage {name}")),
    (Sector.FOUNDRY, 6, ("Fonderie {name}",)),
    (Sector.SURFACE_TREATMENT, 8, ("{name} Traitements de surface", "Chromage {name}")),
    (Sector.HEAT_TREATMENT, 6, ("Trempe et Revenu {name}",)),
    (Sector.ADDITIVE_MANUFACTURING, 4, ("{name} Fabrication additive",)),
    (Sector.POLISHING, 5, ("Polissage {name}",)),
    (Sector.LASER_MARKING, 4, ("{name} Marquage laser",)),
    (Sector.MEDICAL_DEVICES, 10, ("{name} Instruments médicaux", "Implants {name}")),
    (Sector.OTHER, 7, ("Maintenance industrielle {name}", "{name} Chaudronnerie")),
)  # fmt: skip
FORMS = ("SAS", "SARL", "SA", "EURL")
HEALTH = "Réseau santé et dispositifs médicaux (fictif)"


def cluster_name(school: SchoolPlan) -> str:
    """The basin's industrial cluster: how the other parts find a school's companies."""
    return f"Grappe industrielle du bassin de {school.city} (fictive)"


def siret(school: SchoolPlan, n: int) -> str:
    """A valid SIRET (Luhn) whose SIREN fails Luhn: fictional by construction."""
    stem = f"9{school.index:02d}{n:05d}"
    siren = next(stem + d for d in "0123456789" if not luhn_valid(stem + d))
    return next(siren + "0001" + d for d in "0123456789" if luhn_valid(siren + "0001" + d))


def build_companies(network: Network) -> None:
    with network.step(_("Entreprises, contacts et comptes partenaires")):
        health, _created = Cluster.objects.get_or_create(
            name=HEALTH,
            defaults={"description": "Réseau fictif des fabricants de dispositifs médicaux."},
        )
        clusters = insert(
            [
                Cluster(
                    name=cluster_name(school),
                    description=f"Réseau fictif des entreprises partenaires de {school.name}.",
                )
                for school in network.schools
            ]
        )
        for school, cluster in zip(network.schools, clusters, strict=True):
            _companies(network, school, cluster, health)


def _companies(network: Network, school: SchoolPlan, cluster: Cluster, health: Cluster) -> None:
    rng = network.rng("companies", school)
    sectors = [row for row in SECTORS for _n in range(row[1])]
    companies = []
    domains = []
    for n in range(1, COMPANIES_PER_SCHOOL + 1):
        sector, _weight, patterns = rng.choice(sectors)
        name = rng.choice(patterns).format(name=rng.choice(SURNAMES))
        domain = f"{slugify(name)}-{school.index}-{n}.test"
        domains.append(domain)
        companies.append(
            Company(
                legal_name=f"{name} {rng.choice(FORMS)}",
                siret=siret(school, n),
                sector=sector,
                address=f"{rng.randrange(1, 60)} {rng.choice(STREETS)}, zone industrielle",
                postal_code=school.postal_code,
                city=school.city,
                email=f"contact@{domain}",
                website=f"https://www.{domain}/",
                created_at=at(
                    network.first_day - datetime.timedelta(days=rng.randrange(30, 400)), 9
                ),
            )
        )
    insert(companies)
    Membership = Company.clusters.through
    insert(
        [Membership(company_id=company.pk, cluster_id=cluster.pk) for company in companies]
        + [
            Membership(company_id=company.pk, cluster_id=health.pk)
            for company in companies
            if company.sector == Sector.MEDICAL_DEVICES
        ]
    )
    _contacts(network, rng, companies, domains)


def _contacts(
    network: Network, rng: random.Random, companies: list[Company], domains: list[str]
) -> None:
    """A signatory each (the head), and one or two tutors; in a small company the head
    tutors the interns too. Every contact signs in with a partner account."""
    people: list[tuple[Company, str, str, str, bool, bool, str]] = []
    for company, domain in zip(companies, domains, strict=True):
        head = (rng.choice(ADULTS), rng.choice(SURNAMES))
        if rng.random() < 0.3:
            people.append((company, *head, "Gérant·e", True, True, domain))
            continue
        people.append((company, *head, "Directeur·rice", False, True, domain))
        for title in rng.sample(("Chef d'atelier", "Responsable production", "Régleur CN"), 2)[
            : rng.choice((1, 2))
        ]:
            people.append(
                (company, rng.choice(ADULTS), rng.choice(SURNAMES), title, True, False, domain)
            )
    emails: list[str] = []
    for _company, first, last, _title, _tutor, _signs, domain in people:
        email = f"{slugify(first)}.{slugify(last)}@{domain}"
        while email in emails:  # two people of one name at one company
            email = email.replace("@", "2@")
        emails.append(email)
    users = insert(
        [
            User(
                email=email,
                role=Role.PARTNER,
                first_name=first,
                last_name=last,
                password=network.password,
                date_joined=at(network.first_day - datetime.timedelta(days=20), 9),
            )
            for (_company, first, last, *_rest), email in zip(people, emails, strict=True)
        ]
    )
    insert(
        [
            Contact(
                company_id=company.pk,
                first_name=first,
                last_name=last,
                job_title=title,
                email=email,
                is_tutor=tutor,
                is_signatory=signs,
                user_id=user.pk,
            )
            for (company, first, last, title, tutor, signs, _domain), email, user in zip(
                people, emails, users, strict=True
            )
        ]
    )


PART = Part(
    build=build_companies,
    tables=(
        (_("Entreprises"), Company),
        (_("Contacts en entreprise"), Contact),
    ),
)
