"""Demo companies of the Nogent basin, for ``manage.py seed_demo`` (see ``school.demo``).

All fictional: names, addresses and people are invented. Each SIRET is a fixed
13-digit stem completed by its Luhn key; its SIREN (the first nine digits) starts
with 9 and deliberately fails the Luhn check that every real SIREN passes, so no
demo SIRET can be a real establishment's.
"""

from __future__ import annotations

from typing import NamedTuple

from django.core.management.base import OutputWrapper
from django.utils.translation import gettext as _

from school.demo import PARTNER_EMAIL, person_email
from school.models import User

from .models import Cluster, Company, Contact, Sector
from .validators import luhn_valid

MECHANICS = "Grappe mécanique du bassin nogentais (fictive)"
HEALTH = "Club santé et instrumentation de Haute-Marne (fictif)"

CLUSTERS = {
    MECHANICS: "Réseau fictif des entreprises de la démonstration : forge, fonderie, "
    "outillage, usinage, traitements.",
    HEALTH: "Réseau fictif des fabricants de dispositifs médicaux et de leurs sous-traitants.",
}


class ContactRow(NamedTuple):
    first_name: str
    last_name: str
    job_title: str
    is_tutor: bool
    is_signatory: bool
    email: str = ""  # blank: first.last@ the company's domain


class CompanyRow(NamedTuple):
    legal_name: str
    siret_stem: str
    sector: str
    address: str
    city: str
    postal_code: str
    domain: str
    clusters: tuple[str, ...]
    contacts: tuple[ContactRow, ...]


COMPANIES = (
    CompanyRow(
        "Forges de la Traire",
        "9528001010001",
        Sector.FORGE,
        "4 rue du Martinet",
        "Nogent",
        "52800",
        "forges-traire.test",
        (MECHANICS,),
        (
            ContactRow("Bruno", "Vautrin", "Dirigeant", is_tutor=False, is_signatory=True),
            ContactRow(
                "Karim", "Djebbar", "Chef d'atelier forge", is_tutor=True, is_signatory=False
            ),
        ),
    ),
    CompanyRow(
        "Fonderie Ardouin",
        "9528001020001",
        Sector.FOUNDRY,
        "Zone artisanale du Moulin",
        "Biesles",
        "52340",
        "fonderie-ardouin.test",
        (MECHANICS,),
        (ContactRow("Pascale", "Ardouin", "Gérante", is_tutor=True, is_signatory=True),),
    ),
    CompanyRow(
        "Outillages Bassigny Précision",
        "9528001030001",
        Sector.TOOLING,
        "17 rue des Outilleurs",
        "Nogent",
        "52800",
        "obp-outillage.test",
        (MECHANICS,),
        (
            ContactRow("Gilles", "Thévenot", "Directeur", is_tutor=False, is_signatory=True),
            ContactRow("Anthony", "Roche", "Outilleur", is_tutor=True, is_signatory=False),
        ),
    ),
    CompanyRow(
        "Usinage de Précision Nogentais",
        "9528001040001",
        Sector.MACHINING,
        "9 rue des Tourneurs",
        "Nogent",
        "52800",
        "upn-usinage.test",
        (MECHANICS, HEALTH),
        (
            ContactRow("Éric", "Cornu", "Gérant", is_tutor=False, is_signatory=True),
            ContactRow(
                "Julien",
                "Mercier",
                "Responsable de l'atelier d'usinage",
                is_tutor=True,
                is_signatory=False,
                email=PARTNER_EMAIL,
            ),
            ContactRow("Samia", "Belkacem", "Programmeuse CN", is_tutor=True, is_signatory=False),
        ),
    ),
    CompanyRow(
        "Micro-Usinage du Plateau",
        "9528001050001",
        Sector.MACHINING,
        "2 allée des Remparts",
        "Langres",
        "52200",
        "micro-usinage-plateau.test",
        (MECHANICS,),
        (
            ContactRow(
                "Franck", "Maillard", "Directeur industriel", is_tutor=False, is_signatory=True
            ),
            ContactRow(
                "Aline", "Jeandel", "Régleuse décolletage", is_tutor=True, is_signatory=False
            ),
        ),
    ),
    CompanyRow(
        "Chromage et Surfaces de Haute-Marne",
        "9528001060001",
        Sector.SURFACE_TREATMENT,
        "31 rue de la Galvanisation",
        "Chaumont",
        "52000",
        "chromage-surfaces.test",
        (MECHANICS,),
        (ContactRow("Patrick", "Simonnet", "Gérant", is_tutor=True, is_signatory=True),),
    ),
    CompanyRow(
        "Trempe et Revenu 52",
        "9528001070001",
        Sector.HEAT_TREATMENT,
        "Zone d'activités des Fours",
        "Bologne",
        "52310",
        "trempe-revenu.test",
        (MECHANICS,),
        (
            ContactRow("Corinne", "Lallemand", "Directrice", is_tutor=False, is_signatory=True),
            ContactRow(
                "Damien",
                "Voirin",
                "Technicien traitement thermique",
                is_tutor=True,
                is_signatory=False,
            ),
        ),
    ),
    CompanyRow(
        "Additiv'Métal Champagne",
        "9528001080001",
        Sector.ADDITIVE_MANUFACTURING,
        "6 rue des Poudres",
        "Nogent",
        "52800",
        "additiv-metal.test",
        (MECHANICS, HEALTH),
        (
            ContactRow("Thomas", "Grandjean", "Président", is_tutor=False, is_signatory=True),
            ContactRow("Laura", "Py", "Ingénieure procédés", is_tutor=True, is_signatory=False),
        ),
    ),
    CompanyRow(
        "Polissage Lenoir",
        "9528001090001",
        Sector.POLISHING,
        "12 rue des Émouleurs",
        "Nogent",
        "52800",
        "polissage-lenoir.test",
        (HEALTH,),
        (ContactRow("Serge", "Lenoir", "Artisan polisseur", is_tutor=True, is_signatory=True),),
    ),
    CompanyRow(
        "Gravure Laser Nogentaise",
        "9528001100001",
        Sector.LASER_MARKING,
        "1 impasse des Graveurs",
        "Nogent",
        "52800",
        "gravure-laser.test",
        (HEALTH,),
        (
            ContactRow("Mélanie", "Charton", "Gérante", is_tutor=False, is_signatory=True),
            ContactRow(
                "Kévin", "Royer", "Opérateur marquage laser", is_tutor=True, is_signatory=False
            ),
        ),
    ),
    CompanyRow(
        "Ortho-Instruments de la Traire",
        "9528001110001",
        Sector.MEDICAL_DEVICES,
        "20 avenue des Couteliers",
        "Nogent",
        "52800",
        "ortho-instruments.test",
        (HEALTH,),
        (
            ContactRow("Philippe", "Daval", "Directeur général", is_tutor=False, is_signatory=True),
            ContactRow(
                "Émilie", "Noirot", "Responsable qualité", is_tutor=False, is_signatory=True
            ),
            ContactRow(
                "Jérôme", "Bailly", "Chef d'équipe usinage", is_tutor=True, is_signatory=False
            ),
        ),
    ),
    CompanyRow(
        "Instrumentation Chirurgicale du Bassigny",
        "9528001120001",
        Sector.MEDICAL_DEVICES,
        "5 rue des Lancettes",
        "Poulangy",
        "52800",
        "instrumentation-bassigny.test",
        (HEALTH,),
        (ContactRow("Agnès", "Parisot", "Gérante", is_tutor=True, is_signatory=True),),
    ),
)


def seed_companies(stdout: OutputWrapper) -> None:
    partner = User.objects.get(email=PARTNER_EMAIL)
    clusters = {
        name: Cluster.objects.get_or_create(name=name, defaults={"description": description})[0]
        for name, description in CLUSTERS.items()
    }
    for row in COMPANIES:
        company, _created = Company.objects.get_or_create(
            siret=siret_from_stem(row.siret_stem),
            defaults={
                "legal_name": row.legal_name,
                "sector": row.sector,
                "address": row.address,
                "city": row.city,
                "postal_code": row.postal_code,
                "email": f"contact@{row.domain}",
            },
        )
        company.clusters.add(*(clusters[name] for name in row.clusters))
        for contact in row.contacts:
            email = contact.email or person_email(contact.first_name, contact.last_name, row.domain)
            Contact.objects.get_or_create(
                company=company,
                email=email,
                defaults={
                    "first_name": contact.first_name,
                    "last_name": contact.last_name,
                    "job_title": contact.job_title,
                    "is_tutor": contact.is_tutor,
                    "is_signatory": contact.is_signatory,
                    "user": partner if email == PARTNER_EMAIL else None,
                },
            )
    stdout.write(
        _("Entreprises : %(companies)d entreprises, %(contacts)d contacts, %(clusters)d réseaux.")
        % {
            "companies": len(COMPANIES),
            "contacts": sum(len(row.contacts) for row in COMPANIES),
            "clusters": len(clusters),
        }
    )


def siret_from_stem(stem: str) -> str:
    return next(stem + key for key in "0123456789" if luhn_valid(stem + key))
