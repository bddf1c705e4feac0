"""Rows for the query budgets (tests/test_query_budgets.py).

A ``Cast`` holds one user per role who share one scope: the trainer heads the cohort
the learner is enrolled in, the guardian is the learner's, the partner is the only
tutor of the company that hosts the learner's placements and orders the parts. A
``Rows`` adds, builder by builder, rows of one list *in that scope* and in the states
the services leave them (an order delivered with its report, an agreement waiting for
signatures…), so that each row has every relation a list may show.

Rendering a PDF is WeasyPrint's work and costs ~0.5 s: while rows are built, the
document engine stores a placeholder PDF instead (``placeholder_pdfs``).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any
from unittest import mock

from assessments import services as assessments
from assessments.models import CCFUnit, PlacementGrid, Scale, Situation, SituationKind, Term
from assessments.services import Entry
from billing.models import Invoice
from billing.services import credit_note_issue
from courses import orders
from courses.absences import excuse_send
from courses.attendance import attendance_mark
from courses.models import Derogation, WorkshopOrder
from internships import services as placements
from internships.models import (
    Absence,
    ApplicationStatus,
    OfferStatus,
    Placement,
    PlacementOffer,
    PlacementStatus,
    SignerRole,
    TutorEvaluation,
    hash_token,
)
from school import documents
from school.models import Cohort, DocumentBatch, Guardian, Learner, Role, User
from school.services import enrolment_change_status
from tests.factories import (
    ApplicationFactory,
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
    PlacementFactory,
    ProgrammeFactory,
    RoomFactory,
    SafetyTrainingFactory,
    SessionFactory,
    UserFactory,
    VisitFactory,
)
from tests.states import NOW, PDF, batch_run, order_delivered, order_invoiced, order_planned

# NOW (tests/states.py): the cast's morning session is running.
THIS_MONDAY_7H = datetime.datetime(2026, 11, 30, 6, 0, tzinfo=datetime.UTC)
LAST_MONDAY_7H = THIS_MONDAY_7H - datetime.timedelta(days=7)
# The learner's placements follow each other week after week from this Monday on.
FIRST_PLACEMENT = datetime.date(2026, 12, 7)


@contextlib.contextmanager
def placeholder_pdfs() -> Iterator[None]:
    """Every document issued meanwhile stores a small placeholder, not a WeasyPrint PDF."""

    def render_many(kind: Any, drafts: Sequence[Any]) -> list[documents.Rendered]:
        pdfs = [PDF + draft.number.encode() for draft in drafts]
        return [documents.Rendered(pdf, hashlib.sha256(pdf).hexdigest()) for pdf in pdfs]

    with mock.patch.object(documents, "render_many", render_many):
        yield


def _hour_slot(monday_7h: datetime.datetime, n: int) -> datetime.datetime:
    """The n-th one-hour slot of a week: Monday to Friday, 7 h to 17 h (Paris)."""
    return monday_7h + datetime.timedelta(days=n % 5, hours=n // 5 % 10)


class Cast:
    """One user per role, sharing one scope, and what every builder hangs rows on."""

    def __init__(self) -> None:
        self.staff = UserFactory(email="direction@budget.test", role=Role.STAFF)
        self.trainer = UserFactory(email="formateur@budget.test", role=Role.TRAINER)
        self.colleague = UserFactory(email="collegue@budget.test", role=Role.TRAINER)
        self.programme = ProgrammeFactory()
        self.block = CompetencyBlockFactory(programme=self.programme)
        self.competency = CompetencyFactory(block=self.block)
        self.cohort = CohortFactory(programme=self.programme, head_trainer=self.trainer)

        self.learner_user = UserFactory(email="eleve@budget.test", role=Role.LEARNER)
        self.learner = LearnerFactory(user=self.learner_user)  # a minor
        EnrolmentFactory(learner=self.learner, cohort=self.cohort)
        self.guardian_user = UserFactory(email="parent@budget.test", role=Role.GUARDIAN)
        GuardianFactory(learner=self.learner, user=self.guardian_user)

        self.company = CompanyFactory()
        self.partner = UserFactory(email="tuteur@budget.test", role=Role.PARTNER)
        # The company's only tutor and only signatory: accepting an application names them.
        self.tutor = ContactFactory(company=self.company, user=self.partner)
        self.signatory = ContactFactory(company=self.company, is_tutor=False, is_signatory=True)

        self.course = CourseFactory(programme=self.programme)
        self.course.competencies.add(self.competency)
        self.room = RoomFactory()
        self.machine = MachineFactory(room=self.room)
        # The cohort's whole-class session, 8 h to 12 h this Monday: running now.
        self.session = SessionFactory(
            course=self.course,
            cohort=self.cohort,
            trainer=self.trainer,
            room=self.room,
            start=NOW - datetime.timedelta(hours=1),
        )
        for user in self.users.values():
            user.get_calendar_token()

    @property
    def users(self) -> dict[str, User]:
        return {
            Role.STAFF: self.staff,
            Role.TRAINER: self.trainer,
            Role.PARTNER: self.partner,
            Role.LEARNER: self.learner_user,
            Role.GUARDIAN: self.guardian_user,
        }


class Rows:
    """Adds rows of a list, ``add(builder, count)``; what a builder makes once (the
    order whose time logs grow, the placement whose visits grow) is kept here."""

    def __init__(self, cast: Cast) -> None:
        self.cast = cast
        self.made: dict[str, int] = defaultdict(int)
        self._order: WorkshopOrder | None = None
        self._sold: WorkshopOrder | None = None
        self._placement: Placement | None = None
        self._offer: PlacementOffer | None = None
        self._batch_cohort: Cohort | None = None
        self._term: Term | None = None
        self._graded: Situation | None = None
        self._ccf: Situation | None = None
        self._in_placement: Situation | None = None

    def add(self, builder: str, count: int) -> None:
        make = BUILDERS[builder]
        with placeholder_pdfs():
            for _ in range(count):
                make(self, self.made[builder])
                self.made[builder] += 1

    # -- people -----------------------------------------------------------------------

    def child(self, cohort: Cohort | None = None, *, guardian: bool = True) -> Learner:
        """A new learner in training in ``cohort`` (the cast's), whose guardian is the
        cast's guardian: a parent of many children."""
        learner = LearnerFactory()
        EnrolmentFactory(learner=learner, cohort=cohort or self.cast.cohort)
        if guardian:
            GuardianFactory(learner=learner, user=self.cast.guardian_user)
        return learner

    def cohort(self, n: int) -> None:
        cohort = CohortFactory(programme=self.cast.programme, head_trainer=self.cast.trainer)
        cohort.trainers.add(self.cast.colleague)
        self.child(cohort)

    def learner(self, n: int) -> None:
        self.child()

    def guardian(self, n: int) -> None:
        GuardianFactory(learner=self.child(), rank=2, relationship=Guardian.Relationship.FATHER)

    def enrolment(self, n: int) -> None:
        """An enrolment suspended then resumed: two changes in its history, with authors."""
        enrolment = self.child().enrolments.get()
        for status in ("suspended", "active"):
            enrolment_change_status(
                enrolment=enrolment, status=status, reason="Raison médicale", by=self.cast.staff
            )

    def learner_with_a_record(self, n: int) -> None:
        """A learner of the cohort present at this morning's session, assessed on a
        competency, with a placement to come: a row of a cohort's page and its sections."""
        learner = self.child()
        attendance_mark(
            session=self.cast.session, learner=learner, status="present", by=self.cast.trainer
        )
        CompetencyEvidenceFactory(
            learner=learner, competency=self.cast.competency, assessor=self.cast.trainer
        )
        PlacementFactory(
            learner=learner,
            company=self.cast.company,
            tutor=self.cast.tutor,
            signatory=self.cast.signatory,
            referent=self.cast.trainer,
        )

    def learner_with_cover_expiring(self, n: int) -> None:
        """A minor whose medical fitness, and the derogation for the machine kind they
        are trained on, both end within a month."""
        learner = self.child(guardian=False)
        ends = NOW.date() + datetime.timedelta(days=30)
        MedicalFitnessFactory(learner=learner, valid_until=ends)
        SafetyTrainingFactory(learner=learner, machine_kind="cnc_lathe")
        DerogationFactory(
            declared_on=ends.replace(year=ends.year - Derogation.VALIDITY_YEARS)
            + datetime.timedelta(days=1),
            machine_kinds=["cnc_lathe"],
        )

    def batch_learner(self, n: int) -> None:
        if self._batch_cohort is None:
            self._batch_cohort = CohortFactory(programme=self.cast.programme)
        self.child(self._batch_cohort, guardian=False)

    def batch(self) -> DocumentBatch:
        """A batch of booklets for the batch cohort as it now stands, its tasks run."""
        assert self._batch_cohort is not None, "add 'batch-learner' rows first"
        return self.document_batch(0, cohort=self._batch_cohort)

    # -- companies --------------------------------------------------------------------

    def company(self, n: int) -> None:
        company = CompanyFactory()
        company.clusters.add(ClusterFactory())
        ContactFactory(company=company)

    def contact(self, n: int) -> None:
        # Not a tutor: the cast's tutor stays the one a placement is given.
        ContactFactory(company=self.cast.company, is_tutor=False)

    # -- the catalogue ----------------------------------------------------------------

    def programme(self, n: int) -> None:
        ProgrammeFactory()

    def competency_block(self, n: int) -> None:
        CompetencyBlockFactory(programme=self.cast.programme)

    def competency(self, n: int) -> None:
        CompetencyFactory(block=self.cast.block)

    def course(self, n: int) -> None:
        CourseFactory(programme=self.cast.programme).competencies.add(self.cast.competency)

    def room(self, n: int) -> None:
        RoomFactory()

    def machine(self, n: int) -> None:
        MachineFactory(room=self.cast.room)

    def closure(self, n: int) -> None:
        start = datetime.date(2027, 1, 4) + datetime.timedelta(weeks=n)
        ClosurePeriodFactory(name=f"Fermeture {n}", start_date=start, end_date=start)

    def derogation(self, n: int) -> None:
        DerogationFactory()

    def medical_fitness(self, n: int) -> None:
        MedicalFitnessFactory(learner=self.cast.learner)

    def safety_training(self, n: int) -> None:
        SafetyTrainingFactory(learner=LearnerFactory())

    # -- the timetable ----------------------------------------------------------------

    def session(self, n: int) -> None:
        """A one-hour session this week, for a group with the learner, on a machine."""
        SessionFactory(
            course=self.cast.course,
            cohort=self.cast.cohort,
            trainer=self.cast.trainer,
            room=self.cast.room,
            start=_hour_slot(THIS_MONDAY_7H, n),
            end=_hour_slot(THIS_MONDAY_7H, n) + datetime.timedelta(hours=1),
            learners=[self.cast.learner],
            machines=[self.cast.machine],
        )

    def _past_session(self, n: int) -> Any:
        start = _hour_slot(LAST_MONDAY_7H, n)
        return SessionFactory(
            course=self.cast.course,
            cohort=self.cast.cohort,
            trainer=self.cast.trainer,
            room=self.cast.room,
            start=start,
            end=start + datetime.timedelta(hours=1),
            learners=[self.cast.learner],
        )

    def attendance(self, n: int) -> None:
        """The learner's line at one of last week's sessions: absent, with a reason."""
        attendance_mark(
            session=self._past_session(n),
            learner=self.cast.learner,
            status="absent",
            reason="Malade",
            by=self.cast.trainer,
        )

    # -- the workshop -----------------------------------------------------------------

    def _planned_order(self, n: int, session: Any = None) -> WorkshopOrder:
        """Placed by the partner, accepted with the trainer as supervisor, planned with
        the learner on ``session`` (this morning's)."""
        cast = self.cast
        return order_planned(
            company=cast.company,
            partner=cast.partner,
            staff=cast.staff,
            supervisor=cast.trainer,
            competency=cast.competency,
            session=session or cast.session,
            learner=cast.learner,
            reference=f"BRIDE-{n}",
            description="Bride de serrage",
        )

    def order(self, n: int) -> None:
        """An order made at one of last week's sessions and delivered: hours logged,
        parts measured, report countersigned."""
        cast = self.cast
        session = self._past_session(n)
        order_delivered(
            self._planned_order(n, session),
            session=session,
            learner=cast.learner,
            staff=cast.staff,
            trainer=cast.trainer,
        )

    def sale(self, n: int) -> None:
        """An order sold through the chain: quoted and accepted, made at one of last
        week's sessions, delivered with its note (receipt signed), invoiced, paid in part:
        a row of every billing list."""
        cast = self.cast
        session = self._past_session(n)
        order = order_planned(
            company=cast.company,
            partner=cast.partner,
            staff=cast.staff,
            supervisor=cast.trainer,
            competency=cast.competency,
            session=session,
            learner=cast.learner,
            reference=f"VENTE-{n}",
            description="Bride vendue",
            quoted=True,
        )
        order_delivered(
            order,
            session=session,
            learner=cast.learner,
            staff=cast.staff,
            trainer=cast.trainer,
            deliver=False,
        )
        order_invoiced(order, staff=cast.staff, partner=cast.partner)

    def order_sold(self) -> WorkshopOrder:
        """One order sold (``sale``), whose invoice the next builder corrects again and
        again: an order's page with many papers."""
        if self._sold is None:
            with placeholder_pdfs():
                self.sale(10_000)
            self._sold = WorkshopOrder.objects.get(reference="VENTE-10000")
        return self._sold

    def invoice_of_one_order(self, n: int) -> None:
        """A credit note of a hundredth of a part on the sold order's invoice."""
        invoice = Invoice.objects.get(order=self.order_sold(), kind="invoice")
        line = invoice.lines.get()
        credit_note_issue(
            invoice, by=self.cast.staff, reason="Remise", quantities={line.pk: Decimal("0.01")}
        )

    def order_under_way(self, n: int) -> None:
        self._planned_order(n)

    def order_with_time_logs(self) -> WorkshopOrder:
        if self._order is None:
            self._order = self._planned_order(0)
        return self._order

    def time_log(self, n: int) -> None:
        """An hour the learner spent on the order at one of last week's sessions."""
        order = self.order_with_time_logs()
        session = self._past_session(n)
        order.sessions.add(session)
        orders.time_log_record(
            order=order,
            session=session,
            learner=self.cast.learner,
            hours=Decimal("1"),
            operation="turning",
            machine=None,
            by=self.cast.trainer,
            parts_made=3,
            parts_scrapped=1,
        )

    def evidence(self, n: int) -> None:
        orders.assessment_record(
            learner=self.cast.learner,
            competency=self.cast.competency,
            level="acquired",
            by=self.cast.trainer,
        )

    def portfolio_line(self, n: int) -> None:
        """A competency more in the learner's programme, and their evidence of it."""
        competency = CompetencyFactory(block=self.cast.block)
        orders.assessment_record(
            learner=self.cast.learner, competency=competency, level="acquired", by=self.cast.trainer
        )

    # -- assessment -------------------------------------------------------------------

    def term(self) -> Term:
        if self._term is None:
            self._term = Term.objects.create(
                cohort=self.cast.cohort,
                name="1er trimestre",
                start_date=NOW.date() - datetime.timedelta(days=60),
                end_date=NOW.date() + datetime.timedelta(days=30),
            )
        return self._term

    def _situation(self, title: str, **fields: Any) -> Situation:
        return assessments.situation_save(
            by=self.cast.trainer,
            cohort=self.cast.cohort,
            course=self.cast.course,
            title=title,
            date=NOW.date() - datetime.timedelta(days=2),
            scale=Scale.BOTH,
            weights={self.cast.competency.pk: 100},
            **{"kind": SituationKind.SUMMATIVE, **fields},
        )

    def _assess(self, situation: Situation, learner: Learner, mark: str = "12") -> None:
        assessments.results_record(
            situation=situation,
            entries=[
                Entry(learner=learner.pk, mark=mark, levels={self.cast.competency.pk: "acquired"})
            ],
            by=self.cast.trainer,
        )

    def graded(self) -> Situation:
        """The situation whose class grows (the grid, the conseil de classe, the jury)."""
        if self._graded is None:
            self.term()
            self._graded = self._situation("Contrôle de la classe")
            unit = CCFUnit.objects.create(
                programme=self.cast.programme, code="EP2", title="Usinage"
            )
            self._ccf = self._situation("CCF situation 1", kind=SituationKind.CCF, ccf_unit=unit)
        return self._graded

    def assessed_learner(self, n: int) -> None:
        """A learner more in the class, assessed in the class's test and CCF situation."""
        situation = self.graded()
        learner = self.child()
        self._assess(situation, learner, mark=str(8 + n % 10))
        assert self._ccf is not None
        self._assess(self._ccf, learner)

    def situation(self, n: int) -> None:
        """A published test more, with the cast's learner's result."""
        self.term()
        situation = self._situation(f"Évaluation {n}")
        self._assess(situation, self.cast.learner, mark=str(10 + n % 10))
        assessments.situation_publish(situation=situation, by=self.cast.trainer)

    def in_placement_situation(self) -> Situation:
        """The CCF situation held in PFMP whose tutors' grids grow."""
        if self._in_placement is None:
            unit = CCFUnit.objects.create(programme=self.cast.programme, code="EP3", title="Stage")
            self._in_placement = assessments.situation_save(
                by=self.cast.trainer,
                cohort=self.cast.cohort,
                ccf_unit=unit,
                title="CCF en entreprise",
                date=NOW.date() - datetime.timedelta(days=2),
                kind=SituationKind.CCF,
                in_placement=True,
                scale=Scale.LEVELS,
                weights={self.cast.competency.pk: 100},
            )
        return self._in_placement

    def placement_grid(self, n: int) -> None:
        """A learner more of the class, in placement at the cast's company during the
        CCF situation, whose tutor filled the grid."""
        situation = self.in_placement_situation()
        learner = self.child()
        placement = PlacementFactory(
            learner=learner,
            company=self.cast.company,
            tutor=self.cast.tutor,
            signatory=self.cast.signatory,
            referent=self.cast.trainer,
            status=PlacementStatus.IN_PROGRESS,
            start_date=situation.date - datetime.timedelta(days=7),
            end_date=situation.date + datetime.timedelta(days=7),
        )
        grid = PlacementGrid.objects.create(
            situation=situation,
            placement=placement,
            token_hash=hash_token(secrets.token_urlsafe(16)),
            sent_to=self.cast.partner.email,
            sent_at=NOW,
            expires_at=NOW + datetime.timedelta(days=30),
        )
        assessments.placement_grid_record(
            grid=grid,
            entry=Entry(learner=learner.pk, levels={self.cast.competency.pk: "acquired"}),
            tutor_name="Tuteur de l'entreprise",
        )

    def term_comment(self, n: int) -> None:
        assessments.comment_save(
            term=self.term(),
            learner=self.child(),
            course=self.cast.course,
            text="Bon travail.",
            by=self.cast.trainer,
        )

    def ccf_unit(self, n: int) -> None:
        CCFUnit.objects.create(programme=self.cast.programme, code=f"U{n}", title=f"Unité {n}")

    def cohort_term(self, n: int) -> None:
        cohort = CohortFactory(programme=self.cast.programme, head_trainer=self.cast.trainer)
        self.child(cohort)
        Term.objects.create(
            cohort=cohort,
            name="1er semestre",
            start_date=datetime.date(2026, 9, 1),
            end_date=datetime.date(2027, 1, 31),
        )

    def excuse_note(self, n: int) -> None:
        excuse_send(
            learner=self.child(),
            first_day=NOW.date() - datetime.timedelta(days=1),
            last_day=NOW.date() - datetime.timedelta(days=1),
            reason="Rendez-vous médical",
            by=self.cast.guardian_user,
        )

    # -- placements -------------------------------------------------------------------

    def offer(self, n: int, *, weeks: int = 1, status: str = "published") -> PlacementOffer:
        """An offer of the company for the n-th week of placements (and those after)."""
        start = FIRST_PLACEMENT + datetime.timedelta(weeks=n)
        offer = OfferFactory(
            company=self.cast.company,
            start_date=start,
            end_date=start + datetime.timedelta(weeks=weeks, days=-3),
            status=status,
        )
        offer.competencies.add(self.cast.competency)
        return offer

    def application(self, n: int) -> None:
        placements.application_submit(offer=self.offer(n), learner=self.cast.learner)

    def offer_applied_to(self) -> PlacementOffer:
        if self._offer is None:
            self._offer = self.offer(0)
        return self._offer

    def application_to_one_offer(self, n: int) -> None:
        placements.application_submit(offer=self.offer_applied_to(), learner=LearnerFactory())

    def agreement(self, n: int, *, weeks: int = 1) -> Placement:
        """The learner's n-th placement, made ready to sign: its agreement is a
        convention in the register, its signature blocks wait. (Applying and accepting
        are the factories': each service call costs ~50 ms, and 50 of them add up.)"""
        cast = self.cast
        offer = self.offer(n, weeks=weeks, status=OfferStatus.FILLED)
        placement = PlacementFactory(
            learner=cast.learner,
            company=cast.company,
            tutor=cast.tutor,
            signatory=cast.signatory,
            referent=cast.trainer,
            application=ApplicationFactory(
                offer=offer,
                learner=cast.learner,
                status=ApplicationStatus.ACCEPTED,
                decided_by=cast.staff,
                decided_at=NOW,
            ),
            start_date=offer.start_date,
            end_date=offer.end_date,
            created_by=cast.staff,
        )
        placement.competencies.add(cast.competency)
        placements.placement_freeze(placement, by=cast.staff)
        return placement

    def placement(self, n: int) -> None:
        """An agreement the company signed (by its link) and the others not yet, its
        convention in the register; a visit, an absence, the tutor's evaluation link."""
        placement = self.agreement(n)
        version = placement.versions.get()
        placements.signature_sign(
            version.signatures.get(role=SignerRole.COMPANY),
            by=None,
            ip_address="192.0.2.10",
            user_agent="Firefox",
        )
        self._follow(placement, 0)
        TutorEvaluation.objects.create(
            placement=placement,
            token_hash=hash_token(secrets.token_urlsafe(32)),
            sent_to=self.cast.tutor.email,
            sent_at=NOW,
            expires_at=NOW + datetime.timedelta(days=30),
        )

    def _follow(self, placement: Placement, n: int) -> None:
        """A visit, and an absence on the n-th working day of the placement."""
        day = placement.start_date + datetime.timedelta(weeks=n // 5, days=n % 5)
        VisitFactory(placement=placement, by=self.cast.trainer, date=day)
        Absence.objects.create(
            placement=placement, date=day, hours=Decimal("3.5"), recorded_by=self.cast.trainer
        )

    def followed_placement(self) -> Placement:
        if self._placement is None:
            self._placement = self.agreement(0, weeks=12)
        return self._placement

    def visit(self, n: int) -> None:
        """A visit and an absence more in the follow-up of one twelve-week placement."""
        self._follow(self.followed_placement(), n)

    # -- documents --------------------------------------------------------------------

    def document_batch(self, n: int, cohort: Cohort | None = None) -> DocumentBatch:
        with placeholder_pdfs():
            return batch_run(cohort or self.cast.cohort, by=self.cast.staff)


Builder = Callable[[Rows, int], Any]

# Each builder by name: what a list (an API route, a page) is given rows of.
BUILDERS: dict[str, Builder] = {
    "application": Rows.application,
    "application-to-one-offer": Rows.application_to_one_offer,
    "attendance": Rows.attendance,
    "batch-learner": Rows.batch_learner,
    "closure": Rows.closure,
    "cohort": Rows.cohort,
    "company": Rows.company,
    "competency": Rows.competency,
    "competency-block": Rows.competency_block,
    "contact": Rows.contact,
    "course": Rows.course,
    "derogation": Rows.derogation,
    "document-batch": Rows.document_batch,
    "enrolment": Rows.enrolment,
    "evidence": Rows.evidence,
    "guardian": Rows.guardian,
    "learner": Rows.learner,
    "learner-with-a-record": Rows.learner_with_a_record,
    "learner-with-cover-expiring": Rows.learner_with_cover_expiring,
    "machine": Rows.machine,
    "medical-fitness": Rows.medical_fitness,
    "offer": Rows.offer,
    "order": Rows.order,
    "sale": Rows.sale,
    "invoice-of-one-order": Rows.invoice_of_one_order,
    "order-under-way": Rows.order_under_way,
    "placement": Rows.placement,
    "portfolio-line": Rows.portfolio_line,
    "programme": Rows.programme,
    "room": Rows.room,
    "safety-training": Rows.safety_training,
    "session": Rows.session,
    "time-log": Rows.time_log,
    "visit": Rows.visit,
    "assessed-learner": Rows.assessed_learner,
    "situation": Rows.situation,
    "term-comment": Rows.term_comment,
    "cohort-term": Rows.cohort_term,
    "ccf-unit": Rows.ccf_unit,
    "excuse-note": Rows.excuse_note,
    "placement-grid": Rows.placement_grid,
}
