"""The world of the authorisation matrix (tests/test_authorisation_matrix.py): two sides,
A and B, each with a company, its partner, a learner with an account enrolled in a
cohort, and everything that hangs off them in real states — an order delivered with
its countersigned inspection report, a placement whose agreement waits for signatures,
an evaluation link, a document batch, personal calendar links.

The trainer heads cohort A and refers placement A; side B belongs to another trainer.
Each side's records carry *markers*, unusual words that appear nowhere else: a page or
an API answer that shows a marker to a role outside its audience has leaked.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from assessments import services as assessments
from assessments.models import CCFUnit, PlacementGrid, Scale, SituationKind, Term
from assessments.services import Entry
from billing.models import DeliveryNote, Invoice, Payment, Quote
from courses.absences import excuse_send
from courses.models import Attendance, SessionSeries, TimeLog, WorkshopOrder
from internships import services as placements
from internships.models import (
    Absence,
    Application,
    Placement,
    PlacementOffer,
    Signature,
    SignerRole,
    TutorEvaluation,
    Visit,
    hash_token,
)
from school.models import (
    Cohort,
    DocumentBatch,
    Enrolment,
    Guardian,
    IssuedDocument,
    Learner,
    Role,
    User,
)
from tests.factories import (
    WEEKDAYS_35_HOURS,
    AttendanceFactory,
    ClosurePeriodFactory,
    ClusterFactory,
    CohortFactory,
    CompanyFactory,
    CompetencyBlockFactory,
    CompetencyEvidenceFactory,
    CompetencyFactory,
    ContactFactory,
    CourseFactory,
    DerogationFactory,
    EnrolmentFactory,
    GuardianFactory,
    LearnerFactory,
    MachineFactory,
    MedicalFitnessFactory,
    OfferFactory,
    ProgrammeFactory,
    RoomFactory,
    SafetyTrainingFactory,
    SessionFactory,
    UserFactory,
    VisitFactory,
)
from tests.states import NOW, batch_run, order_delivered, order_invoiced, order_planned

SIDES = ("A", "B")
# Monday 30 November 2026, 9 h in Paris: the morning sessions of both sides are running
# (hours may be logged on them), the spring placements are still to come.
SESSION_START = datetime.datetime(2026, 11, 30, 7, 0, tzinfo=datetime.UTC)

# The words of each side. Each appears only in that side's records (names, titles…).
NAMES: dict[str, dict[str, str]] = {
    "A": {
        "company": "Forges Azurite",
        "learner_first": "Anaelle",
        "learner_last": "Zarkowa",
        "guardian_first": "Ghislaine",
        "course": "Tournage Malachite",
        "cohort": "Promotion Turquoise",
        "offer": "Regleur CN Azurite",
        "order": "Bride Azurite",
        "domain": "azurite.test",
    },
    "B": {
        "company": "Fonderie Basalte",
        "learner_first": "Berenice",
        "learner_last": "Quillembert",
        "guardian_first": "Gontran",
        "course": "Fraisage Obsidienne",
        "cohort": "Promotion Rhodonite",
        "offer": "Regleur CN Basalte",
        "order": "Bride Basalte",
        "domain": "basalte.test",
    },
}


class Side:
    """Everything that belongs to one side, A or B."""

    programme: Any
    cohort: Cohort
    learner: Learner
    learner_user: User
    guardian: Guardian
    enrolment: Enrolment
    company: Any
    contact: Any
    signatory: Any
    partner: User
    course: Any
    room: Any
    machine: Any
    closure: Any
    block: Any
    competency: Any
    session: Any
    attendance: Attendance
    offer: PlacementOffer
    application: Application
    placement: Placement
    signature: Signature
    visit: Visit
    absence: Absence
    evaluation: TutorEvaluation
    order: WorkshopOrder
    time_log: TimeLog
    quote: Quote
    delivery_note: DeliveryNote
    invoice: Invoice
    payment: Payment
    evidence: Any
    convention: IssuedDocument
    report: IssuedDocument
    booklet: IssuedDocument
    batch: DocumentBatch
    term: Any
    ccf_unit: Any
    situation: Any
    result: Any
    term_comment: Any
    excuse_note: Any
    # CCF in PFMP: the grid the side's tutor filled, and one still open (its link).
    placement_grid: Any
    open_grid: Any
    derogation: Any
    medical_fitness: Any
    safety_training: Any
    # Secrets handed out by e-mail or shown once: what a link carries.
    sign_token: str
    evaluation_token: str
    grid_token: str


class World:
    """Users by role key, and the two sides."""

    # Each role's signed-in session key, set by whoever signs the users in.
    sessions: dict[str, str]

    def __init__(self) -> None:
        self.staff = UserFactory(
            email="direction@matrix.test", role=Role.STAFF, first_name="Helene", last_name="Dir"
        )
        self.trainer = UserFactory(
            email="formateur@matrix.test", role=Role.TRAINER, first_name="Marc", last_name="Aub"
        )
        self.other_trainer = UserFactory(
            email="autre@matrix.test", role=Role.TRAINER, first_name="Paul", last_name="Ver"
        )
        self.sides = {side: Side() for side in SIDES}
        for side in SIDES:
            self._build_side(side)
        self.guardian_user = self.a.guardian.user
        self.users: dict[str, User | None] = {
            "anonymous": None,
            "staff": self.staff,
            "trainer": self.trainer,
            "partner_a": self.a.partner,
            "partner_b": self.b.partner,
            "learner_a": self.a.learner_user,
            "learner_b": self.b.learner_user,
            "guardian_a": self.guardian_user,
        }
        self._back_office_rows()

    @property
    def a(self) -> Side:
        return self.sides["A"]

    @property
    def b(self) -> Side:
        return self.sides["B"]

    # -----------------------------------------------------------------------------------

    def _build_side(self, side: str) -> None:
        s = self.sides[side]
        names = NAMES[side]
        trainer = self.trainer if side == "A" else self.other_trainer
        lower = side.lower()

        s.programme = ProgrammeFactory()
        s.block = CompetencyBlockFactory(programme=s.programme)
        s.competency = CompetencyFactory(block=s.block)
        s.cohort = CohortFactory(programme=s.programme, name=names["cohort"], head_trainer=trainer)
        s.learner_user = UserFactory(
            email=f"eleve.{lower}@matrix.test",
            role=Role.LEARNER,
            first_name=names["learner_first"],
            last_name=names["learner_last"],
        )
        s.learner = LearnerFactory(
            user=s.learner_user,
            first_name=names["learner_first"],
            last_name=names["learner_last"],
            email=f"{names['learner_last'].lower()}@eleves.test",
        )
        s.enrolment = EnrolmentFactory(learner=s.learner, cohort=s.cohort)
        s.guardian = GuardianFactory(
            learner=s.learner,
            first_name=names["guardian_first"],
            email=f"{names['guardian_first'].lower()}@parents.test",
            # Side A's guardian has an account (the matrix's guardian role); B's has none.
            user=UserFactory(
                email=f"parent.{lower}@matrix.test",
                role=Role.GUARDIAN,
                first_name=names["guardian_first"],
                last_name=names["learner_last"],
            )
            if side == "A"
            else None,
        )

        s.company = CompanyFactory(legal_name=names["company"], city=f"Ville {names['company']}")
        s.partner = UserFactory(
            email=f"tuteur@{names['domain']}",
            role=Role.PARTNER,
            first_name="Tuteur",
            last_name=names["company"],
        )
        s.contact = ContactFactory(
            company=s.company,
            user=s.partner,
            first_name="Tuteur",
            last_name=names["company"],
            email=f"tuteur@{names['domain']}",
        )
        s.signatory = ContactFactory(
            company=s.company,
            first_name="Gerant",
            last_name=names["company"],
            email=f"gerant@{names['domain']}",
            is_tutor=False,
            is_signatory=True,
        )

        s.course = CourseFactory(programme=s.programme, title=names["course"])
        s.room = RoomFactory()
        s.machine = MachineFactory(room=s.room)
        s.closure = ClosurePeriodFactory(
            name=f"Fermeture {side}",
            start_date=datetime.date(2027, 4, 10 + 10 * (side == "B")),
            end_date=datetime.date(2027, 4, 12 + 10 * (side == "B")),
        )
        s.session = SessionFactory(
            course=s.course, cohort=s.cohort, trainer=trainer, room=s.room, start=SESSION_START
        )
        s.attendance = AttendanceFactory(session=s.session, learner=s.learner)
        s.evidence = CompetencyEvidenceFactory(learner=s.learner, competency=s.competency)
        s.derogation = DerogationFactory()
        s.medical_fitness = MedicalFitnessFactory(learner=s.learner)
        s.safety_training = SafetyTrainingFactory(learner=s.learner)

        self._order(s, names, trainer)
        self._placement(s, side, names)
        self._assessment(s, side, trainer)
        s.batch = batch_run(s.cohort, by=self.staff)
        s.booklet = IssuedDocument.objects.get(batch_item__batch=s.batch, learner=s.learner)

    def _assessment(self, s: Side, side: str, trainer: User) -> None:
        """A term, a published situation with the learner's result and its trainer's
        comment, and an excuse note waiting for the staff."""
        s.term = Term.objects.create(
            cohort=s.cohort,
            name="1er trimestre",
            start_date=datetime.date(2026, 9, 1),
            end_date=datetime.date(2026, 12, 18),
        )
        s.ccf_unit = CCFUnit.objects.create(programme=s.programme, code="EP2", title="Usinage")
        s.situation = assessments.situation_save(
            by=trainer,
            cohort=s.cohort,
            course=s.course,
            title=f"Contrôle {s.course.title}",
            date=datetime.date(2026, 11, 16),
            kind=SituationKind.SUMMATIVE,
            scale=Scale.BOTH,
            weights={s.competency.pk: 100},
        )
        [s.result] = assessments.results_record(
            situation=s.situation,
            entries=[Entry(learner=s.learner.pk, mark="13", levels={s.competency.pk: "acquired"})],
            by=trainer,
        )
        assessments.situation_publish(situation=s.situation, by=trainer)
        s.term_comment = assessments.comment_save(
            term=s.term, learner=s.learner, course=s.course, text="Progrès nets.", by=trainer
        )
        s.placement_grid = self._grid(s, trainer, side, "filled")
        assessments.placement_grid_record(
            grid=s.placement_grid,
            entry=Entry(learner=s.learner.pk, levels={s.competency.pk: "acquired"}),
            tutor_name=f"Tutrice Grille{side}",
        )
        s.placement_grid.refresh_from_db()
        s.open_grid = self._grid(s, trainer, side, "open")
        s.excuse_note = excuse_send(
            learner=s.learner,
            first_day=datetime.date(2026, 11, 2),
            last_day=datetime.date(2026, 11, 2),
            reason="Rendez-vous médical",
            by=self.staff,
        )

    def _grid(self, s: Side, trainer: User, side: str, state: str) -> PlacementGrid:
        """A CCF situation in PFMP and its tutor's grid, sent (here without the e-mail:
        the side's placement is still being signed, which the sending service refuses)."""
        situation = assessments.situation_save(
            by=trainer,
            cohort=s.cohort,
            ccf_unit=s.ccf_unit,
            title=f"CCF en entreprise ({state})",
            date=datetime.date(2026, 11, 16),
            kind=SituationKind.CCF,
            in_placement=True,
            scale=Scale.LEVELS,
            weights={s.competency.pk: 100},
        )
        token = f"matrix-grid-{state}-{side}-{'z' * 24}"
        if state == "open":
            s.grid_token = token
        return PlacementGrid.objects.create(
            situation=situation,
            placement=s.placement,
            token_hash=hash_token(token),
            sent_to=s.contact.email,
            sent_at=timezone.now(),
            expires_at=timezone.now() + datetime.timedelta(days=30),
        )

    def _order(self, s: Side, names: dict[str, str], trainer: User) -> None:
        """Placed by the side's partner, made by its learner, delivered with its report."""
        order = order_planned(
            company=s.company,
            partner=s.partner,
            staff=self.staff,
            supervisor=trainer,
            competency=s.competency,
            session=s.session,
            learner=s.learner,
            reference=f"REF-{names['order'].split()[-1].upper()}",
            description=f"{names['order']} de serrage",
            due=datetime.date(2027, 2, 15),
            quoted=True,
        )
        inspection = order_delivered(
            order,
            session=s.session,
            learner=s.learner,
            staff=self.staff,
            trainer=trainer,
            deliver=False,
        )
        s.delivery_note, s.invoice, s.payment = order_invoiced(
            order, staff=self.staff, partner=s.partner
        )
        s.quote = Quote.objects.get(order=order)
        s.report = inspection.document
        s.order = WorkshopOrder.objects.get(pk=order.pk)
        s.time_log = TimeLog.objects.get(order=order)

    def _placement(self, s: Side, side: str, names: dict[str, str]) -> None:
        """Applied, accepted, scheduled, ready to sign; visited, an absence, an open
        evaluation link. Offer A keeps a free place (published); offer B is filled."""
        s.offer = OfferFactory(
            company=s.company, title=names["offer"], places=2 if side == "A" else 1
        )
        s.application = placements.application_submit(offer=s.offer, learner=s.learner)
        placement = placements.application_accept(s.application, by=self.staff)
        placements.placement_save(
            placement,
            slots=[
                {"weekday": day, "start_time": start, "end_time": end}
                for day, start, end in WEEKDAYS_35_HOURS
            ],
            competencies=[s.competency],
            by=self.staff,
        )
        version = placements.placement_freeze(placement, by=self.staff)
        s.convention = version.document
        s.sign_token = f"matrix-sign-{side}-{'x' * 24}"
        s.signature = version.signatures.get(role=SignerRole.LEARNER)
        s.signature.token_hash = hash_token(s.sign_token)
        s.signature.link_expires_at = timezone.now() + datetime.timedelta(days=30)
        s.signature.save(update_fields=["token_hash", "link_expires_at"])
        s.visit = VisitFactory(placement=placement, by=placement.referent)
        s.absence = Absence.objects.create(
            placement=placement, date=datetime.date(2027, 3, 10), hours=Decimal("7")
        )
        s.evaluation_token = f"matrix-eval-{side}-{'y' * 24}"
        s.evaluation = TutorEvaluation.objects.create(
            placement=placement,
            token_hash=hash_token(s.evaluation_token),
            sent_to=s.contact.email,
            sent_at=timezone.now(),
            expires_at=timezone.now() + datetime.timedelta(days=30),
        )
        s.offer.refresh_from_db()
        s.application.refresh_from_db()
        s.placement = Placement.objects.get(pk=placement.pk)

    def _back_office_rows(self) -> None:
        """A row of each model the admin shows and the sides do not make."""
        cluster = ClusterFactory()
        cluster.companies.add(self.a.company, self.b.company)
        Group.objects.create(name="Secrétariat")
        Token.objects.create(user=self.staff)
        for user in (self.staff, self.trainer):
            TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        SessionSeries.objects.create(
            course=self.a.course,
            cohort=self.a.cohort,
            first_date=datetime.date(2027, 1, 4),
            last_date=datetime.date(2027, 1, 25),
            weekday=0,
            start_time=datetime.time(8),
            end_time=datetime.time(12),
            created_by=self.staff,
        )
        for user in self.users.values():
            if user is not None:
                user.get_calendar_token()
        # The login throttle's records, as production has them.
        attempt = {
            "user_agent": "Firefox",
            "ip_address": "10.0.0.9",
            "username": self.a.learner_user.email,
            "http_accept": "text/html",
            "path_info": "/connexion/",
            "attempt_time": timezone.now(),
        }
        AccessAttempt.objects.create(**attempt, get_data="", post_data="", failures_since_start=1)
        AccessFailureLog.objects.create(**attempt)
        AccessLog.objects.create(**attempt)


def build_world() -> World:
    return World()


__all__ = ["NAMES", "NOW", "SIDES", "Side", "World", "build_world"]
