"""A company's order through the workshop: drawing checked by content, each move by the
right role with who/when, planning under the minors' machine cover, time logs, the
inspection's conformity and its countersigned report."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from courses import orders
from courses.models import (
    CompetencyEvidence,
    CompetencyLevel,
    EvidenceSource,
    OrderStatus,
    WorkshopOrder,
)
from school.models import DocumentStatus, Role
from tests.factories import (
    CohortFactory,
    CompanyFactory,
    CompetencyFactory,
    DerogationFactory,
    EnrolmentFactory,
    LearnerFactory,
    MachineFactory,
    MedicalFitnessFactory,
    SafetyTrainingFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
ADULT = datetime.date(2004, 5, 1)


def drawing(name: str = "plan-bride.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "application/pdf")


def place(company: Any, by: Any, **fields: Any) -> WorkshopOrder:
    upload = fields.pop("drawing", None) or drawing()
    values = {
        "reference": "BR-2027-12",
        "description": "Bride de serrage Ø60, alésage H7.",
        "material": "Acier C45",
        "quantity": 20,
        "tolerances": "Alésage Ø20 H7",
        "requested_date": datetime.date(2027, 2, 15),
        "target_price": Decimal("480"),
        **fields,
    }
    return orders.order_place(company=company, drawing=upload, by=by, **values)


@pytest.fixture
def people() -> dict[str, Any]:
    return {
        "staff": UserFactory(role=Role.STAFF),
        "trainer": UserFactory(role=Role.TRAINER, first_name="Marc", last_name="Aubertin"),
        "partner": UserFactory(role=Role.PARTNER),
    }


def test_a_drawing_is_recognised_by_its_content_not_its_name(people: dict[str, Any]) -> None:
    company = CompanyFactory()
    executable = drawing("plan.pdf", b"MZ\x90\x00\x03\x00\x00\x00 this program cannot be run")
    with pytest.raises(ValidationError) as refusal:
        place(company, people["partner"], drawing=executable)
    assert "formats possibles DXF, JPEG, PDF, PNG, STEP" in str(refusal.value)
    mislabelled = drawing("plan.png", PDF)  # a PDF named .png: content and name disagree
    with pytest.raises(ValidationError):
        place(company, people["partner"], drawing=mislabelled)
    assert not WorkshopOrder.objects.exists()
    step = drawing("bride.step", b"ISO-10303-21;\nHEADER;\n")
    dxf = drawing("bride.dxf", b"  0\nSECTION\n  2\nHEADER\n")
    assert place(company, people["partner"], drawing=step).status == OrderStatus.SUBMITTED
    assert place(company, people["partner"], drawing=dxf).drawing.name.endswith(".dxf")


def test_a_drawing_over_the_size_limit_is_refused(people: dict[str, Any], settings: Any) -> None:
    settings.DRAWING_MAX_BYTES = 1024
    with pytest.raises(ValidationError, match="dépasse"):
        place(CompanyFactory(), people["partner"], drawing=drawing(content=PDF + b"0" * 2048))


def test_each_move_is_made_by_its_role_and_recorded(people: dict[str, Any]) -> None:
    order = place(CompanyFactory(), people["partner"])
    with pytest.raises(PermissionDenied):
        orders.order_review(order, by=people["partner"])
    orders.order_review(order, by=people["staff"], note="Faisable sur tour CN")
    with pytest.raises(ValidationError, match="ne passe pas"):
        orders.order_advance(order, to=OrderStatus.DELIVERED, by=people["staff"])
    orders.order_accept(
        order,
        by=people["staff"],
        price=Decimal("450"),
        planned_start=datetime.date(2027, 1, 11),
        planned_end=datetime.date(2027, 2, 5),
        supervisor=people["trainer"],
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED and order.price == Decimal("450")
    assert [(e.from_status, e.to_status, e.by) for e in order.events.all()] == [
        ("", "submitted", people["partner"]),
        ("submitted", "reviewed", people["staff"]),
        ("reviewed", "accepted", people["staff"]),
    ]


def test_a_decline_needs_a_reason(people: dict[str, Any]) -> None:
    order = place(CompanyFactory(), people["partner"])
    with pytest.raises(ValidationError, match="motivé"):
        orders.order_decline(order, by=people["staff"], reason=" ")
    orders.order_decline(order, by=people["staff"], reason="Matière non disponible")
    order.refresh_from_db()
    assert order.status == OrderStatus.DECLINED


@pytest.fixture
def accepted(people: dict[str, Any]) -> dict[str, Any]:
    cohort = CohortFactory()
    minor = LearnerFactory(
        first_name="Léa", last_name="Morel", birth_date=datetime.date(2010, 3, 14)
    )
    adult = LearnerFactory(first_name="Noah", last_name="Girard", birth_date=ADULT)
    for learner in (minor, adult):
        EnrolmentFactory(learner=learner, cohort=cohort)
    lathe = MachineFactory(name="Tour CN 1", kind="cnc_lathe")
    session = SessionFactory(
        cohort=cohort,
        trainer=people["trainer"],
        machines=[lathe],
        start=datetime.datetime(2026, 11, 10, 7, tzinfo=datetime.UTC),  # begun: time is logged
    )
    order = place(CompanyFactory(legal_name="Forges de la Traire"), people["partner"])
    order.competencies.set([CompetencyFactory(code="C2.1", title="Conduire un tour CN")])
    orders.order_review(order, by=people["staff"])
    orders.order_accept(
        order,
        by=people["staff"],
        price=Decimal("450"),
        planned_start=datetime.date(2027, 1, 11),
        planned_end=datetime.date(2027, 2, 5),
        supervisor=people["trainer"],
    )
    return {
        **people,
        "order": order,
        "session": session,
        "minor": minor,
        "adult": adult,
        "lathe": lathe,
    }


def test_planning_refuses_a_minor_without_machine_cover(accepted: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refusal:
        orders.order_plan(
            accepted["order"],
            by=accepted["staff"],
            sessions=[accepted["session"]],
            learners=[accepted["minor"], accepted["adult"]],
        )
    assert any("Léa Morel (moins de 18 ans" in message for message in refusal.value.messages)
    DerogationFactory()
    MedicalFitnessFactory(learner=accepted["minor"])
    SafetyTrainingFactory(learner=accepted["minor"], machine_kind="cnc_lathe")
    orders.order_plan(
        accepted["order"],
        by=accepted["staff"],
        sessions=[accepted["session"]],
        learners=[accepted["minor"], accepted["adult"]],
    )
    accepted["order"].refresh_from_db()
    assert accepted["order"].status == OrderStatus.PLANNED


def test_a_learner_not_in_the_session_cannot_be_assigned(accepted: dict[str, Any]) -> None:
    stranger = LearnerFactory()
    with pytest.raises(ValidationError, match="ne participe pas"):
        orders.order_plan(
            accepted["order"],
            by=accepted["staff"],
            sessions=[accepted["session"]],
            learners=[stranger],
        )


def test_planning_sets_the_competencies_given_and_keeps_them_when_none_are(
    accepted: dict[str, Any],
) -> None:
    order, session, adult = accepted["order"], accepted["session"], accepted["adult"]
    first, second = CompetencyFactory(), CompetencyFactory()
    order.competencies.set([first])
    plan = {"by": accepted["staff"], "sessions": [session], "learners": [adult]}

    orders.order_plan(order, **plan)
    assert list(order.competencies.all()) == [first]

    orders.order_plan(order, **plan, competencies=[second])
    assert list(order.competencies.all()) == [second]

    orders.order_plan(order, **plan, competencies=[])
    assert not order.competencies.exists()


def test_from_time_logs_to_a_countersigned_inspection_report(accepted: dict[str, Any]) -> None:
    order, session, adult = accepted["order"], accepted["session"], accepted["adult"]
    orders.order_plan(order, by=accepted["staff"], sessions=[session], learners=[adult])
    adult.user = UserFactory(role=Role.LEARNER)
    adult.save()
    with pytest.raises(ValidationError, match="La séance dure 4 h"):
        orders.time_log_record(
            order=order, session=session, learner=adult, hours=Decimal("5"),
            operation="turning", by=adult.user,
        )  # fmt: skip
    orders.time_log_record(
        order=order, session=session, learner=adult, hours=Decimal("3.5"), operation="turning",
        machine=accepted["lathe"], parts_made=12, parts_scrapped=1, by=adult.user,
    )  # fmt: skip
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PRODUCTION  # the first hours start production
    practice = CompetencyEvidence.objects.get(learner=adult)
    assert (practice.source, practice.level) == (EvidenceSource.ORDER, CompetencyLevel.IN_PROGRESS)

    orders.order_advance(order, to=OrderStatus.QUALITY_CONTROL, by=accepted["trainer"])
    inspection = orders.inspection_record(
        order=order,
        by=accepted["trainer"],
        characteristics=[
            {"name": "Alésage Ø20 H7", "nominal": "20", "lower_tolerance": "0",
             "upper_tolerance": "0.021", "values": ["20.010", "20.025", "20.004"]},
            {"name": "Longueur", "nominal": "45", "lower_tolerance": "-0.1",
             "upper_tolerance": "0.1", "values": ["44.95", "45.02", "45.08"]},
        ],
    )  # fmt: skip
    report = inspection.report()
    assert [row.conforms for row in report.rows] == [False, True]  # 20.025 > 20.021
    assert report.nonconforming == 1 and not report.conforms
    with pytest.raises(ValidationError, match="contresigné"):
        orders.order_advance(order, to=OrderStatus.DELIVERED, by=accepted["staff"])

    # Reworked, measured again, conform: countersigned, issued, delivered.
    inspection = orders.inspection_record(
        order=order,
        by=accepted["trainer"],
        characteristics=[
            {"name": "Alésage Ø20 H7", "nominal": "20", "lower_tolerance": "0",
             "upper_tolerance": "0.021", "values": ["20.010", "20.015", "20.004"]},
        ],
    )  # fmt: skip
    assert inspection.report().conforms
    with pytest.raises(PermissionDenied):
        orders.inspection_countersign(inspection, by=UserFactory(role=Role.TRAINER))
    orders.inspection_countersign(inspection, by=accepted["trainer"])
    inspection.refresh_from_db()
    document = inspection.document
    assert document.kind == "rapport_controle" and document.status == DocumentStatus.VALID
    with document.file.open("rb") as pdf:
        text = " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read())).pages).split()
        )
    for mention in ("Forges de la Traire", "BR-2027-12", "Alésage Ø20 H7", "20,015",
                    "lot conforme", "Marc Aubertin", document.number):  # fmt: skip
        assert mention in text, mention
    acquired = CompetencyEvidence.objects.filter(learner=adult, level=CompetencyLevel.ACQUIRED)
    assert acquired.count() == 1
    orders.order_advance(order, to=OrderStatus.DELIVERED, by=accepted["staff"])
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED and order.delivered_quantity == 11


def test_only_the_learner_or_the_session_s_trainers_log_time(accepted: dict[str, Any]) -> None:
    order, session, adult = accepted["order"], accepted["session"], accepted["adult"]
    orders.order_plan(order, by=accepted["staff"], sessions=[session], learners=[adult])
    other = LearnerFactory(user=UserFactory(role=Role.LEARNER))
    with pytest.raises(PermissionDenied):
        orders.time_log_record(
            order=order, session=session, learner=adult, hours=Decimal("1"),
            operation="milling", by=other.user,
        )  # fmt: skip
    log = orders.time_log_record(
        order=order, session=session, learner=adult, hours=Decimal("1"),
        operation="milling", by=accepted["trainer"],
    )  # fmt: skip
    assert log.logged_by == accepted["trainer"]


def test_a_session_s_hours_are_logged_once_and_never_ahead(accepted: dict[str, Any]) -> None:
    order, session, adult = accepted["order"], accepted["session"], accepted["adult"]
    orders.order_plan(order, by=accepted["staff"], sessions=[session], learners=[adult])
    log = {"order": order, "session": session, "learner": adult, "operation": "turning",
           "by": accepted["trainer"]}  # fmt: skip
    orders.time_log_record(hours=Decimal("3"), **log)
    with pytest.raises(ValidationError, match="La séance dure 4 h"):
        orders.time_log_record(hours=Decimal("1.5"), **log)  # 4.5 h in a 4-hour session
    coming = SessionFactory(cohort=session.cohort, trainer=accepted["trainer"])  # 2027
    order.sessions.add(coming)
    with pytest.raises(ValidationError, match="pas d'une séance à venir"):
        orders.time_log_record(**{**log, "session": coming, "hours": Decimal("1")})


def test_a_non_conforming_report_is_not_countersigned_and_is_measured_again(
    accepted: dict[str, Any],
) -> None:
    order, session, adult = accepted["order"], accepted["session"], accepted["adult"]
    orders.order_plan(order, by=accepted["staff"], sessions=[session], learners=[adult])
    orders.time_log_record(order=order, session=session, learner=adult, hours=Decimal("2"),
                           operation="turning", by=accepted["trainer"])  # fmt: skip
    orders.order_advance(order, to=OrderStatus.QUALITY_CONTROL, by=accepted["trainer"])
    bad = [{"name": "Ø20 H7", "nominal": "20", "lower_tolerance": "0",
            "upper_tolerance": "0.021", "values": ["20.030"]}]  # fmt: skip
    inspection = orders.inspection_record(order=order, by=accepted["trainer"], characteristics=bad)
    with pytest.raises(ValidationError, match="hors tolérance"):
        orders.inspection_countersign(inspection, by=accepted["trainer"])
    with pytest.raises(PermissionDenied):  # another trainer does not measure this order
        orders.inspection_record(
            order=order, by=UserFactory(role=Role.TRAINER), characteristics=bad
        )
    good = [{**bad[0], "values": ["20.010"]}]
    inspection = orders.inspection_record(order=order, by=accepted["trainer"], characteristics=good)
    orders.inspection_countersign(inspection, by=accepted["trainer"])
    inspection.refresh_from_db()
    assert inspection.document is not None
