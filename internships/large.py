"""The placements of the large data set (``manage.py seed_large``, see ``school.large``):
for every placement period of every cohort (``courses.large.placement_periods``, weeks
the cohort has no session), offers of the basin's companies, applications, and a
placement for each learner, its schedule, convention, signatures, the tutor's
evaluation and the referent's visit, in the status its dates give it today:

- ended: évaluée (three in four) or terminée, a few cancelled along the way;
- running: en cours;
- within six weeks: signée, signée en partie or prête à signer;
- later: brouillon or prête à signer, and some learners still looking (open
  applications).
"""

from __future__ import annotations

import datetime
import hashlib
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from companies.large import cluster_name
from companies.models import Company, Contact, Sector
from courses.large import Calendar, placement_periods
from courses.models import Competency, CompetencyEvidence, CompetencyLevel, EvidenceSource
from school.large import (
    CohortPlan,
    Entry,
    LearnerPlan,
    Network,
    Part,
    SchoolPlan,
    at,
    insert,
    register_documents,
)
from school.models import Guardian

from .models import (
    Absence,
    AgreementVersion,
    Application,
    ApplicationStatus,
    EvaluationLine,
    OfferStatus,
    Placement,
    PlacementOffer,
    PlacementStatus,
    ScheduleSlot,
    Signature,
    SignatureMethod,
    SignerRole,
    TutorEvaluation,
    VersionStatus,
    Visit,
)

ONE_DAY = datetime.timedelta(days=1)
NEAR = datetime.timedelta(weeks=6)
SPANS = ((datetime.time(8), datetime.time(12)), (datetime.time(13), datetime.time(16)))
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 — jeu de données fictif"

ACTIVITIES: dict[str, str] = {
    Sector.MACHINING: "Préparer le poste, usiner des séries en tournage et fraisage CN, "
    "réaliser l'autocontrôle au micromètre.",
    Sector.TOOLING: "Ajuster et monter des éléments de moules, usiner des empreintes.",
    Sector.FORGE: "Reprendre en usinage des pièces estampées, ébavurer, contrôler.",
    Sector.FOUNDRY: "Ébarber et usiner des pièces de fonderie, contrôler les cotes.",
    Sector.MEDICAL_DEVICES: "Usiner des instruments en salle propre, tracer les lots.",
}
DEFAULT_ACTIVITIES = "Assister l'équipe de production, préparer et contrôler des pièces."
REJECTIONS = (
    "Nous recherchons un profil de Bac pro pour ce poste.",
    "Les places de la période sont déjà pourvues.",
    "L'entreprise ne peut pas accueillir de mineur sur ces machines.",
)
CANCELLATIONS = (
    "Entreprise en chômage partiel : stage reporté",
    "Accident du tuteur, pas de remplaçant disponible",
)
VISIT_NOTES = (
    "Bonne intégration dans l'équipe ; le tuteur souligne la ponctualité.",
    "Autonome sur le poste ; à encourager sur le contrôle en cours de production.",
    "Quelques retards signalés par le tuteur ; point fait avec l'apprenant.",
)


@dataclass
class Host:
    pk: int
    name: str
    sector: str
    address: str
    tutor: tuple[int, str, str, int | None]  # contact id, name, e-mail, account
    signatory: tuple[int, str, str, int | None]


@dataclass
class Planned:
    """A placement before it is written, with what comes with it."""

    placement: Placement
    learner: LearnerPlan
    company: Host
    competencies: list[int]
    versioned: bool
    signed: int  # how many blocks are signed: all of them when 99
    ready_at: datetime.datetime
    evaluated_at: datetime.datetime | None = None
    signers: list[Signature] = field(default_factory=list)


def build_internships(network: Network) -> None:
    with network.step(_("Stages : offres, candidatures, conventions, signatures, évaluations")):
        calendars = [Calendar.of(year) for year in network.years]
        competencies: dict[int, list[int]] = {}
        for programme, pk in Competency.objects.order_by("pk").values_list(
            "block__programme_id", "pk"
        ):
            competencies.setdefault(programme, []).append(pk)
        for school in network.schools:
            _school(network, school, calendars, competencies)


def _companies(school: SchoolPlan) -> list[Host]:
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(company__clusters__name=cluster_name(school)).order_by(
        "pk"
    ):
        contacts.setdefault(contact.company_id, []).append(contact)

    def block(contact: Contact) -> tuple[int, str, str, int | None]:
        return (
            contact.pk,
            f"{contact.first_name} {contact.last_name}",
            contact.email,
            contact.user_id,
        )

    return [
        Host(
            company.pk,
            company.legal_name,
            company.sector,
            f"{company.address}, {company.postal_code} {company.city}",
            block(next(c for c in contacts[company.pk] if c.is_tutor)),
            block(next(c for c in contacts[company.pk] if c.is_signatory)),
        )
        for company in Company.objects.filter(clusters__name=cluster_name(school)).order_by("pk")
    ]


def _school(
    network: Network,
    school: SchoolPlan,
    calendars: list[Calendar],
    competencies: dict[int, list[int]],
) -> None:
    rng = network.rng("internships", school)
    companies = _companies(school)
    offers: list[tuple[PlacementOffer, list[int]]] = []
    applications: list[tuple[Application, int]] = []  # and the index of its offer
    planned: list[tuple[Planned, int | None]] = []  # and the index of its application
    for calendar in calendars:
        for cohort in school.cohorts:
            for start, end in placement_periods(calendar, school, cohort):
                _period(
                    network,
                    rng,
                    school,
                    cohort,
                    (start, end),
                    companies,
                    competencies[cohort.programme_id],
                    offers,
                    applications,
                    planned,
                )
    insert([offer for offer, _c in offers])
    Sought = PlacementOffer.competencies.through
    insert(
        [
            Sought(placementoffer_id=offer.pk, competency_id=competency)
            for offer, chosen in offers
            for competency in chosen
        ]
    )
    for application, offer in applications:
        application.offer_id = offers[offer][0].pk
    insert([application for application, _o in applications])
    for p, accepted in planned:
        if accepted is not None:
            p.placement.application_id = applications[accepted][0].pk
    _write(network, rng, school, [p for p, _a in planned])


def _period(
    network: Network,
    rng: random.Random,
    school: SchoolPlan,
    cohort: CohortPlan,
    period: tuple[datetime.date, datetime.date],
    companies: list[Host],
    competencies: list[int],
    offers: list[tuple[PlacementOffer, list[int]]],
    applications: list[tuple[Application, int]],
    planned: list[tuple[Planned, int | None]],
) -> None:
    start, end = period
    today, now = network.today, network.now
    learners = [learner for learner in cohort.learners if learner.follows_on(start)]
    far = start - today > NEAR
    # Offers are posted about twelve weeks ahead; the latest ones, a few weeks ago.
    posted = min(at(start - datetime.timedelta(weeks=12), 9), now - datetime.timedelta(days=40))
    hosts = rng.sample(companies, len(companies))
    first_offer = len(offers)
    seats: list[int] = []  # the offer index of each place
    while len(seats) < len(learners) + 3:
        company = hosts[(len(offers) - first_offer) % len(hosts)]
        places = rng.choice((1, 2, 2, 3, 3, 4))
        offer = PlacementOffer(
            company_id=company.pk,
            title=f"PFMP — {company.name}",
            activities=ACTIVITIES.get(company.sector, DEFAULT_ACTIVITIES),
            address=company.address.split(", ")[0],
            postal_code=school.postal_code,
            city=school.city,
            start_date=start,
            end_date=end,
            places=places,
            status=OfferStatus.PUBLISHED,
            created_by_id=company.signatory[3],
            created_at=posted,
            published_at=posted + datetime.timedelta(days=2),
        )
        seats += [len(offers)] * places
        offers.append((offer, rng.sample(competencies, 3)))
    if start > today and rng.random() < 0.5:
        company = rng.choice(companies)
        offers.append(
            (
                PlacementOffer(
                    company_id=company.pk,
                    title=f"PFMP — {company.name} (à compléter)",
                    activities=ACTIVITIES.get(company.sector, DEFAULT_ACTIVITIES),
                    address=company.address.split(", ")[0],
                    postal_code=school.postal_code,
                    city=school.city,
                    start_date=start,
                    end_date=end,
                    places=1,
                    created_by_id=company.signatory[3],
                    created_at=posted,
                ),
                [],
            )
        )
    taken = dict.fromkeys(set(seats), 0)
    for n, learner in enumerate(learners):
        seat = seats[n]
        offer, chosen = offers[seat]
        company = next(c for c in companies if c.pk == offer.company_id)
        applied = posted + datetime.timedelta(days=rng.randrange(3, 12), hours=rng.randrange(9))
        decided = applied + datetime.timedelta(days=rng.randrange(2, 9))
        if rng.random() < 0.3:
            other = rng.choice([i for i in sorted(set(seats)) if i != seat])
            applications.append(
                (
                    Application(
                        learner_id=learner.pk,
                        message="Bonjour, votre entreprise m'intéresse pour ma PFMP.",
                        status=ApplicationStatus.REJECTED,
                        rejection_reason=rng.choice(REJECTIONS),
                        created_at=applied - ONE_DAY,
                        decided_by_id=offers[other][0].created_by_id,
                        decided_at=decided - ONE_DAY,
                    ),
                    other,
                )
            )
        if far and rng.random() < 0.1:
            # Still looking: their application waits for an answer.
            applications.append(
                (
                    Application(
                        learner_id=learner.pk,
                        message="Bonjour, je serais heureux de rejoindre votre atelier.",
                        status=rng.choice(
                            (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW)
                        ),
                        created_at=applied,
                    ),
                    seat,
                )
            )
            continue
        application = None
        if rng.random() < 0.9:
            application = len(applications)
            taken[seat] += 1
            applications.append(
                (
                    Application(
                        learner_id=learner.pk,
                        message="Bonjour, votre offre correspond à ce que je veux apprendre.",
                        status=ApplicationStatus.ACCEPTED,
                        created_at=applied,
                        decided_by_id=school.director_id,
                        decided_at=decided,
                    ),
                    seat,
                )
            )
        else:
            # Found by the family, agreed with the school: no offer, no application.
            company = rng.choice(companies)
            chosen = rng.sample(competencies, 3)
        if not far and rng.random() < 0.1:
            # A week of discovery elsewhere first, then two weeks at the host.
            week = (start, start + datetime.timedelta(days=4))
            elsewhere = rng.choice([c for c in companies if c is not company])
            planned.append(
                (
                    _placement(
                        network, rng, school, cohort, learner, elsewhere, chosen[:2], week, decided
                    ),
                    None,
                )
            )
            period = (start + datetime.timedelta(days=7), end)
        planned.append(
            (
                _placement(network, rng, school, cohort, learner, company, chosen, period, decided),
                application,
            )
        )
        period = (start, end)
        if not far and rng.random() < 0.03:
            planned.append(
                (
                    _cancelled(rng, school, cohort, learner, companies, chosen, period),
                    None,
                )
            )
    for index, count in taken.items():
        offer = offers[index][0]
        if count >= offer.places:
            offer.status = OfferStatus.FILLED
        elif end < today:
            offer.status = OfferStatus.CLOSED


def _placement(
    network: Network,
    rng: random.Random,
    school: SchoolPlan,
    cohort: CohortPlan,
    learner: LearnerPlan,
    company: Host,
    competencies: list[int],
    period: tuple[datetime.date, datetime.date],
    decided: datetime.datetime,
) -> Planned:
    start, end = period
    today = network.today
    # The tutor's grid comes back days after the link (sent the day after the end), or
    # not yet; one tutor in four never sends it.
    evaluated_at = at(end + ONE_DAY, 8) + datetime.timedelta(
        days=rng.randrange(2, 15), hours=rng.randrange(9)
    )
    if end < today:
        returned = evaluated_at < network.now and rng.random() < 0.75
        status = PlacementStatus.EVALUATED if returned else PlacementStatus.COMPLETED
    elif start <= today:
        status = PlacementStatus.IN_PROGRESS
    elif start - today <= NEAR:
        status = rng.choices(
            (
                PlacementStatus.SIGNED,
                PlacementStatus.PARTIALLY_SIGNED,
                PlacementStatus.READY_TO_SIGN,
            ),
            weights=(60, 25, 15),
        )[0]
    else:
        status = rng.choices(
            (PlacementStatus.DRAFT, PlacementStatus.READY_TO_SIGN), weights=(70, 30)
        )[0]
    created = decided + datetime.timedelta(minutes=5)
    placement = Placement(
        learner_id=learner.pk,
        company_id=company.pk,
        tutor_id=company.tutor[0],
        signatory_id=company.signatory[0],
        referent_id=cohort.head_trainer_id,
        start_date=start,
        end_date=end,
        address=company.address,
        activities=ACTIVITIES.get(company.sector, DEFAULT_ACTIVITIES),
        supervision="Visite du référent en milieu de période ; évaluation par le tuteur.",
        meals="Repas au restaurant d'entreprise, pris en charge",
        transport=rng.choice(("Transports en commun", "Covoiturage avec le tuteur", "Vélo")),
        gratification_hourly=Decimal("0") if rng.random() < 0.85 else Decimal("1.50"),
        status=status,
        created_by_id=school.director_id,
        created_at=created,
        updated_at=created,
    )
    versioned = status != PlacementStatus.DRAFT
    signed = {PlacementStatus.READY_TO_SIGN: 0, PlacementStatus.PARTIALLY_SIGNED: 2}.get(status, 99)
    ready_at = created + datetime.timedelta(days=rng.randrange(3, 10))
    return Planned(
        placement,
        learner,
        company,
        competencies,
        versioned,
        signed,
        ready_at,
        evaluated_at if status == PlacementStatus.EVALUATED else None,
    )


def _cancelled(
    rng: random.Random,
    school: SchoolPlan,
    cohort: CohortPlan,
    learner: LearnerPlan,
    companies: list[Host],
    competencies: list[int],
    period: tuple[datetime.date, datetime.date],
) -> Planned:
    """A first placement that fell through before the period (the learner then went to
    the one planned above)."""
    company = rng.choice(companies)
    created = at(period[0] - datetime.timedelta(weeks=10), 10)
    placement = Placement(
        learner_id=learner.pk,
        company_id=company.pk,
        tutor_id=company.tutor[0],
        signatory_id=company.signatory[0],
        referent_id=cohort.head_trainer_id,
        start_date=period[0],
        end_date=period[1],
        address=company.address,
        activities=ACTIVITIES.get(company.sector, DEFAULT_ACTIVITIES),
        status=PlacementStatus.CANCELLED,
        cancellation_reason=rng.choice(CANCELLATIONS),
        created_by_id=school.director_id,
        created_at=created,
        updated_at=created + datetime.timedelta(days=12),
    )
    return Planned(placement, learner, company, competencies, False, 0, created)


def _write(
    network: Network, rng: random.Random, school: SchoolPlan, planned: list[Planned]
) -> None:
    agreed = [p for p in planned if p.versioned]
    _signers(rng, school, agreed)
    for p in planned:
        if p.evaluated_at is not None:
            p.placement.updated_at = p.evaluated_at
    insert([p.placement for p in planned])
    Annexed = Placement.competencies.through
    insert(
        [
            Annexed(placement_id=p.placement.pk, competency_id=competency)
            for p in planned
            for competency in p.competencies
        ]
    )
    insert(
        [
            ScheduleSlot(placement_id=p.placement.pk, weekday=day, start_time=s, end_time=e)
            for p in planned
            for day in range(5)
            for s, e in SPANS
        ],
        batch_size=5000,
    )
    _agreements(rng, school, agreed)
    _evaluations(
        rng,
        [
            p
            for p in planned
            if p.placement.status in (PlacementStatus.COMPLETED, PlacementStatus.EVALUATED)
        ],
    )
    _follow_up(network, rng, planned)


def _signers(rng: random.Random, school: SchoolPlan, planned: list[Planned]) -> None:
    """The blocks of each convention, as ``Placement.signers`` lists them, the first
    ``signed`` of them signed one after the other; the placement last changed with the
    last signature."""
    guardians: dict[int, list[tuple[str, str, int | None]]] = {}
    for guardian in (
        Guardian.objects.filter(learner_id__in=[p.learner.pk for p in planned])
        .select_related("user")
        .order_by("learner_id", "rank")
    ):
        guardians.setdefault(guardian.learner_id, []).append(
            (
                f"{guardian.first_name} {guardian.last_name}",
                guardian.user.email if guardian.user else guardian.email,
                guardian.user_id,
            )
        )
    link_days = datetime.timedelta(days=settings.SIGNING_LINK_DAYS)
    for p in planned:
        learner, host = p.learner, p.company
        blocks: list[tuple[str, str, str, int | None]] = [
            (
                SignerRole.SCHOOL_HEAD,
                f"{school.director_name}, direction de {school.name}",
                "",
                None,
            ),
            (SignerRole.COMPANY, *host.signatory[1:]),
            (SignerRole.TUTOR, *host.tutor[1:]),
            (SignerRole.LEARNER, learner.full_name, learner.email, learner.user_id),
        ]
        if learner.is_minor_on(p.placement.start_date):
            blocks += [
                (SignerRole.GUARDIAN, *guardian) for guardian in guardians.get(learner.pk, [])
            ]
        moment = p.ready_at
        for order, (role, name, email, user) in enumerate(blocks):
            signature = Signature(
                role=role,
                name=name,
                email=email,
                user_id=user,
                order=order,
                link_sent_at=p.ready_at if email else None,
                link_expires_at=p.ready_at + link_days if email else None,
            )
            if order < p.signed:
                moment += datetime.timedelta(hours=rng.randrange(2, 60))
                signature.method = SignatureMethod.ELECTRONIC
                signature.signed_at = moment
                signature.signed_by_id = (
                    school.director_id if role == SignerRole.SCHOOL_HEAD else user
                )
                signature.ip_address = f"192.0.2.{rng.randrange(1, 255)}"  # documentation range
                signature.user_agent = USER_AGENT
            elif email:
                signature.token_hash = hashlib.sha256(rng.randbytes(32)).hexdigest()
            p.signers.append(signature)
        p.placement.updated_at = moment


def _agreements(rng: random.Random, school: SchoolPlan, planned: list[Planned]) -> None:
    documents = register_documents(
        [
            Entry(
                kind="convention_stage",
                title="Convention de stage (PFMP)",
                subject=f"Convention de stage v1 — {p.learner.full_name} — {p.company.name}",
                issued_at=p.ready_at,
                learner_id=p.learner.pk,
                issued_by_id=school.director_id,
            )
            for p in planned
        ],
        rng,
    )
    versions = []
    for p, document in zip(planned, documents, strict=True):
        complete = all(signature.signed_at is not None for signature in p.signers)
        versions.append(
            AgreementVersion(
                placement_id=p.placement.pk,
                number=1,
                document_id=document.pk,
                status=VersionStatus.SIGNED if complete else VersionStatus.TO_SIGN,
                created_by_id=school.director_id,
                created_at=p.ready_at,
                signed_at=p.signers[-1].signed_at if complete else None,
            )
        )
        for signature in p.signers:
            if signature.signed_at is not None:
                signature.pdf_sha256 = document.sha256
    insert(versions)
    for p, version in zip(planned, versions, strict=True):
        for signature in p.signers:
            signature.version_id = version.pk
    insert([signature for p in planned for signature in p.signers])


def _evaluations(rng: random.Random, ended: list[Planned]) -> None:
    """The tutor's link went out the day after the end; an « évaluée » placement has its
    grid back, each level a piece of evidence for the learner."""
    evaluations = []
    for p in ended:
        sent = at(p.placement.end_date + ONE_DAY, 8)
        submitted = p.evaluated_at
        evaluations.append(
            TutorEvaluation(
                placement_id=p.placement.pk,
                token_hash="" if submitted else hashlib.sha256(rng.randbytes(32)).hexdigest(),
                sent_to=p.company.tutor[2],
                sent_at=sent,
                expires_at=sent + datetime.timedelta(days=settings.EVALUATION_LINK_DAYS),
                submitted_at=submitted,
                tutor_name=p.company.tutor[1] if submitted else "",
                absence_days=rng.choice((0, 0, 0, 0, 1, 2)) if submitted else 0,
                attendance="Assidu et ponctuel." if submitted else "",
                comments=rng.choice(VISIT_NOTES) if submitted else "",
            )
        )
    insert(evaluations)
    levels = (CompetencyLevel.IN_PROGRESS, CompetencyLevel.ACQUIRED, CompetencyLevel.MASTERED)
    lines: list[EvaluationLine] = []
    evidence: list[CompetencyEvidence] = []
    for p, evaluation in zip(ended, evaluations, strict=True):
        if p.evaluated_at is None:
            continue
        reference = (
            f"Stage chez {p.company.name} du {p.placement.start_date:%d/%m/%Y} "
            f"au {p.placement.end_date:%d/%m/%Y}"
        )
        for competency in p.competencies:
            level = rng.choices(levels, weights=(30, 55, 15))[0]
            lines.append(
                EvaluationLine(evaluation_id=evaluation.pk, competency_id=competency, level=level)
            )
            evidence.append(
                CompetencyEvidence(
                    learner_id=p.learner.pk,
                    competency_id=competency,
                    level=level,
                    source=EvidenceSource.PLACEMENT,
                    reference=reference,
                    assessor_name=p.company.tutor[1],
                    assessor_id=p.company.tutor[3],
                    date=p.evaluated_at.date(),
                    created_at=p.evaluated_at,
                )
            )
    insert(lines)
    insert(evidence)


def _follow_up(network: Network, rng: random.Random, planned: list[Planned]) -> None:
    """The referent's visit or call in the second week of a placement begun, and a day
    missed now and then."""
    today = network.today
    visits = []
    absences = []
    for p in planned:
        placement = p.placement
        if placement.status == PlacementStatus.CANCELLED or placement.start_date > today:
            continue
        day = placement.start_date + datetime.timedelta(days=rng.choice((7, 8, 9, 10)))
        if day < today and rng.random() < 0.85:
            visits.append(
                Visit(
                    placement_id=placement.pk,
                    kind=rng.choice((Visit.Kind.VISIT, Visit.Kind.VISIT, Visit.Kind.CALL)),
                    date=day,
                    notes=rng.choice(VISIT_NOTES),
                    by_id=placement.referent_id,
                    created_at=at(day, 17),
                )
            )
        if placement.end_date < today and rng.random() < 0.05:
            justified = rng.random() < 0.5
            absences.append(
                Absence(
                    placement_id=placement.pk,
                    date=placement.start_date + datetime.timedelta(days=rng.choice((1, 2, 3, 8))),
                    hours=Decimal(7),
                    justified=justified,
                    reason="Certificat médical" if justified else "",
                    recorded_by_id=placement.referent_id,
                )
            )
    insert(visits)
    insert(absences)


PART = Part(
    build=build_internships,
    tables=(
        (_("Offres de stage"), PlacementOffer),
        (_("Candidatures"), Application),
        (_("Stages (PFMP)"), Placement),
        (_("Horaires de stage"), ScheduleSlot),
        (_("Versions de convention"), AgreementVersion),
        (_("Signatures"), Signature),
        (_("Évaluations des tuteurs"), TutorEvaluation),
        (_("Suivis (visites, appels)"), Visit),
    ),
)
