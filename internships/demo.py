"""Demo placements for ``manage.py seed_demo`` (see ``school.demo``): offers of the demo
companies, applications in every state, and placements from draft to completed, each
written through the services (rules checked, conventions issued, signatures recorded).

The spring PFMP falls after the demo term of sessions (seven weeks from this week's
Monday), so no placement overlaps a session; the completed one is last term's.
Idempotent: an offer already there (same company and title) is left as it is.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

from django.core.management.base import OutputWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company, Contact
from courses.models import Competency
from school.demo import CAP_CIP, STAFF_EMAIL, TRAINER_EMAIL
from school.models import Learner, User

from . import services
from .models import Application, PlacementOffer, SignerRole, Visit

WEEKDAYS_35_HOURS = [
    {"weekday": day, "start_time": datetime.time(start), "end_time": datetime.time(end)}
    for day in range(5)
    for start, end in ((8, 12), (13, 16))
]


class OfferRow(NamedTuple):
    company: str
    title: str
    activities: str
    places: int
    period: str  # "spring" (after the term) or "past" (last term)
    publish: bool
    # (learner's first name, last name, what becomes of the application)
    applicants: tuple[tuple[str, str, str], ...] = ()


# What becomes of an application: submitted, review, rejected, draft (accepted, placement
# left in draft), partial (agreement partly signed), signed, completed.
OFFERS = (
    OfferRow(
        "Usinage de Précision Nogentais",
        "Opérateur sur tour à commande numérique",
        "Préparer le poste, charger les programmes, usiner des séries de pièces de "
        "révolution, réaliser l'autocontrôle au micromètre et au projecteur de profil.",
        2,
        "spring",
        True,
        (
            ("Léa", "Morel", "partial"),
            ("Tom", "Dupont", "submitted"),
            ("Jules", "Marchal", "review"),
        ),
    ),
    OfferRow(
        "Forges de la Traire",
        "Découverte de la forge et de l'usinage des pièces forgées",
        "Assister le chef d'atelier forge, ébavurer, reprendre en usinage des pièces "
        "estampées, contrôler les cotes critiques.",
        1,
        "spring",
        True,
        (("Sarah", "Henry", "submitted"), ("Evan", "Schmitt", "rejected")),
    ),
    OfferRow(
        "Micro-Usinage du Plateau",
        "Régleur en décolletage",
        "Régler des tours à poupée mobile, surveiller la production, mesurer les pièces "
        "au comparateur.",
        2,
        "spring",
        True,
        (("Adam", "Haddad", "draft"), ("Mehdi", "Amrani", "signed")),
    ),
    OfferRow(
        "Chromage et Surfaces de Haute-Marne",
        "Préparation de pièces avant traitement de surface",
        "Préparer, monter et contrôler des pièces avant chromage dur.",
        1,
        "spring",
        False,
    ),
    OfferRow(
        "Usinage de Précision Nogentais",
        "Fraisage sur centre d'usinage 3 axes",
        "Monter les bridages, lancer les programmes, contrôler en cours de production.",
        1,
        "past",
        True,
        (("Lucas", "Bernard", "completed"),),
    ),
)


def _periods(today: datetime.date) -> dict[str, tuple[datetime.date, datetime.date]]:
    monday = today - datetime.timedelta(days=today.weekday())
    spring = monday + datetime.timedelta(weeks=9)
    past = monday - datetime.timedelta(weeks=10)
    three_weeks = datetime.timedelta(days=18)  # Monday to Friday of the third week
    return {"spring": (spring, spring + three_weeks), "past": (past, past + three_weeks)}


def seed_internships(stdout: OutputWrapper) -> None:
    staff = User.objects.get(email=STAFF_EMAIL)
    trainer = User.objects.get(email=TRAINER_EMAIL)
    periods = _periods(timezone.localdate())
    competencies = list(
        Competency.objects.filter(block__programme__code=CAP_CIP).order_by("block__code", "code")
    )
    created = 0
    for row in OFFERS:
        company = Company.objects.get(legal_name=row.company)
        if PlacementOffer.objects.filter(company=company, title=row.title).exists():
            continue
        start, end = periods[row.period]
        offer = PlacementOffer.objects.create(
            company=company,
            title=row.title,
            activities=row.activities,
            address=company.address,
            postal_code=company.postal_code,
            city=company.city,
            start_date=start,
            end_date=end,
            places=row.places,
            created_by=staff,
        )
        offer.competencies.set(competencies[created % 3 :: 4][:4])
        created += 1
        if row.publish:
            services.offer_publish(offer)
        for first_name, last_name, fate in row.applicants:
            learner = Learner.objects.get(first_name=first_name, last_name=last_name)
            _apply(offer, learner, fate, staff=staff, trainer=trainer)
    if created:
        stdout.write(_("Stages : %(count)s offres et leurs candidatures.") % {"count": created})


def _apply(
    offer: PlacementOffer, learner: Learner, fate: str, *, staff: User, trainer: User
) -> None:
    message = _("Bonjour, je suis en CAP à MétalTech et votre offre m'intéresse beaucoup.")
    # Last term's offer got its application back then, before its period passed.
    application = (
        Application.objects.create(offer=offer, learner=learner, message=message)
        if offer.end_date < timezone.localdate()
        else services.application_submit(offer=offer, learner=learner, message=message)
    )
    if fate == "submitted":
        return
    if fate == "review":
        services.application_review(application, by=staff)
        return
    if fate == "rejected":
        services.application_reject(
            application, reason=_("Nous recherchons un profil de Bac pro pour ce poste."), by=staff
        )
        return
    placement = services.application_accept(application, by=staff)
    placement.referent = placement.referent or trainer
    # Where the company has several tutors, the demo partner's own account tutors.
    contacts = Contact.objects.filter(company=placement.company)
    placement.tutor = placement.tutor or (
        contacts.tutors().filter(user__isnull=False).first() or contacts.tutors().first()
    )
    placement.signatory = placement.signatory or contacts.signatories().first()
    placement.meals = _("Repas au restaurant d'entreprise, pris en charge")
    placement.transport = _("Bus scolaire jusqu'à la zone industrielle")
    services.placement_save(placement, slots=WEEKDAYS_35_HOURS, by=staff)
    if fate == "draft":
        return
    version = services.placement_freeze(placement, by=staff)
    for signature in version.signatures.order_by("order"):
        if fate == "partial" and signature.role not in (SignerRole.SCHOOL_HEAD, SignerRole.TUTOR):
            continue  # the learner, her guardian and the company still to sign
        # From their account when they have one (the school head: any staff), else
        # from the e-mailed link.
        signer = staff if signature.role == SignerRole.SCHOOL_HEAD else signature.user
        services.signature_sign(
            signature, by=signer, ip_address="127.0.0.1", user_agent="Démonstration MétalTech"
        )
    if fate == "completed":
        services.placements_advance()
        Visit.objects.create(
            placement=placement,
            kind=Visit.Kind.VISIT,
            date=placement.start_date + datetime.timedelta(days=8),
            notes=_("Lucas est autonome sur le centre d'usinage ; le tuteur souligne sa rigueur."),
            by=trainer,
        )
