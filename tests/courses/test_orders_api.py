"""The order's whole path through the API, role by role, as the issue checks it."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import CompetencyEvidence, OrderStatus, WorkshopOrder
from school.models import Role
from tests.conftest import World
from tests.factories import (
    CompetencyBlockFactory,
    CompetencyFactory,
    ContactFactory,
    MachineFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"


def order_form(company: int, drawing: SimpleUploadedFile) -> dict[str, Any]:
    return {
        "company": company,
        "reference": "AX-44",
        "description": "Axe épaulé Ø25 g6, longueur 120.",
        "drawing": drawing,
        "material": "Acier 42CrMo4",
        "quantity": 12,
        "tolerances": "Ø25 g6",
        "requested_date": "2027-02-26",
    }


def test_the_order_s_whole_path_and_who_sees_it(world: World, api_as: Any) -> None:
    exe = SimpleUploadedFile("plan.pdf", b"MZ\x90\x00\x03 program", "application/pdf")
    refused = api_as(world.partner).post(
        "/api/v1/orders/", order_form(world.company.pk, exe), format="multipart"
    )
    assert refused.status_code == 400 and "drawing" in refused.json()["errors"]

    placed = api_as(world.partner).post(
        "/api/v1/orders/",
        order_form(world.company.pk, SimpleUploadedFile("axe.pdf", PDF, "application/pdf")),
        format="multipart",
    )
    assert placed.status_code == 201, placed.json()
    order_id = placed.json()["id"]
    assert placed.json()["status"] == OrderStatus.SUBMITTED
    # Its creation is its first event, from no status (the schema says so: blank allowed).
    assert [(e["from_status"], e["to_status"]) for e in placed.json()["events"]] == [
        ("", OrderStatus.SUBMITTED)
    ]
    assert api_as(world.partner).get(f"/api/v1/orders/{order_id}/drawing/").status_code == 200
    assert api_as(world.partner).post(f"/api/v1/orders/{order_id}/review/").status_code == 403

    assert (
        api_as(world.staff).post(f"/api/v1/orders/{order_id}/review/").json()["status"]
        == "reviewed"
    )
    accepted = api_as(world.staff).post(
        f"/api/v1/orders/{order_id}/accept/",
        {
            "price": "390.00",
            "planned_start": "2027-01-11",
            "planned_end": "2027-02-19",
            "supervisor": world.trainer.pk,
        },
        format="json",
    )
    assert accepted.status_code == 200 and accepted.json()["price"] == "390.00"

    session = SessionFactory(
        cohort=world.cohort,
        trainer=world.trainer,
        machines=[MachineFactory()],
        start=datetime.datetime(2026, 11, 10, 7, tzinfo=datetime.UTC),  # before the inspection
    )
    world.learner.birth_date = datetime.date(2004, 1, 1)
    world.learner.save()
    competency = CompetencyFactory(block=CompetencyBlockFactory(programme=world.cohort.programme))
    planned = api_as(world.staff).post(
        f"/api/v1/orders/{order_id}/plan/",
        {"sessions": [session.pk], "learners": [world.learner.pk], "competencies": [competency.pk]},
        format="json",
    )
    assert planned.status_code == 200, planned.json()
    assert planned.json()["status"] == OrderStatus.PLANNED

    logged = api_as(world.learner_user).post(
        "/api/v1/time-logs/",
        {"order": order_id, "session": session.pk, "hours": "3", "operation": "turning",
         "parts_made": 12, "parts_scrapped": 0},
        format="json",
    )  # fmt: skip
    assert logged.status_code == 201, logged.json()
    assert api_as(world.learner_user).get("/api/v1/time-logs/").json()["count"] == 1

    api_as(world.trainer).post(
        f"/api/v1/orders/{order_id}/advance/", {"to": "quality_control"}, format="json"
    )
    measured = api_as(world.trainer).post(
        f"/api/v1/orders/{order_id}/inspection/",
        {"characteristics": [
            {"name": "Ø25 g6", "nominal": "25", "lower_tolerance": "-0.020",
             "upper_tolerance": "-0.007", "values": ["24.990", "24.985", "24.988"]},
        ]},
        format="json",
    )  # fmt: skip
    assert measured.status_code == 200, measured.json()
    assert measured.json()["inspection"]["conforms"] is True
    signed = api_as(world.trainer).post(f"/api/v1/orders/{order_id}/countersign/")
    report = signed.json()["inspection"]["document"]
    assert report is not None
    # Not yet delivered: the customer does not see the report yet.
    assert api_as(world.partner).get(f"/api/v1/documents/{report}/pdf/").status_code == 404
    delivered = api_as(world.staff).post(
        f"/api/v1/orders/{order_id}/advance/", {"to": "delivered"}, format="json"
    )
    assert delivered.json()["status"] == OrderStatus.DELIVERED
    assert delivered.json()["delivered_quantity"] == 12
    assert api_as(world.partner).get(f"/api/v1/documents/{report}/pdf/").status_code == 200

    portfolio = api_as(world.learner_user).get(f"/api/v1/portfolios/{world.learner.pk}/").json()
    [row] = [r for r in portfolio["rows"] if r["competency"]["id"] == competency.pk]
    assert row["level"] == "acquired" and not row["is_gap"]
    assert {e["source"] for e in row["evidence"]} == {"order"}

    stranger = UserFactory(role=Role.PARTNER)
    ContactFactory(company=world.other_company, user=stranger)
    assert api_as(stranger).get("/api/v1/orders/").json()["count"] == 0
    assert api_as(stranger).get(f"/api/v1/orders/{order_id}/").status_code == 404
    assert api_as(stranger).get(f"/api/v1/orders/{order_id}/drawing/").status_code == 404
    assert api_as(stranger).get(f"/api/v1/documents/{report}/pdf/").status_code == 404
    assert (
        api_as(world.other_learner.user or UserFactory(role=Role.LEARNER))
        .get(f"/api/v1/portfolios/{world.learner.pk}/")
        .status_code
        == 404
    )


def test_a_trainer_records_an_assessment_as_evidence(world: World, api_as: Any) -> None:
    competency = CompetencyFactory()
    answer = api_as(world.trainer).post(
        "/api/v1/evidence/",
        {"learner": world.learner.pk, "competency": competency.pk, "level": "mastered"},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    evidence = CompetencyEvidence.objects.get()
    assert (evidence.source, evidence.assessor) == ("assessment", world.trainer)
    assert (
        api_as(world.learner_user)
        .post(
            "/api/v1/evidence/",
            {"learner": world.learner.pk, "competency": competency.pk, "level": "mastered"},
            format="json",
        )
        .status_code
        == 403
    )


def _order() -> WorkshopOrder:
    from courses import orders
    from tests.factories import CompanyFactory

    return orders.order_place(
        company=CompanyFactory(),
        drawing=SimpleUploadedFile("p.pdf", PDF, "application/pdf"),
        by=UserFactory(role=Role.PARTNER),
        reference="P-1",
        description="Pièce",
        material="Acier",
        quantity=2,
        requested_date=datetime.date(2027, 3, 1),
    )


def _evidence() -> None:
    from tests.factories import LearnerFactory

    CompetencyEvidence.objects.create(
        learner=LearnerFactory(),
        competency=CompetencyFactory(),
        level="acquired",
        source="assessment",
        assessor_name="Marc Aubertin",
        date=datetime.date(2027, 1, 5),
    )


def _time_log() -> None:
    from courses.models import TimeLog
    from tests.factories import LearnerFactory

    TimeLog.objects.create(
        order=_order(), session=SessionFactory(), learner=LearnerFactory(), hours=2,
        operation="turning", parts_made=3, logged_by=UserFactory(role=Role.TRAINER),
    )  # fmt: skip


ROW_MAKERS: dict[str, Callable[[], Any]] = {
    "orders": _order,
    "evidence": _evidence,
    "time-logs": _time_log,
}


@pytest.mark.parametrize("endpoint", ROW_MAKERS)
def test_an_order_list_costs_the_same_for_one_row_and_for_many(api_as: Any, endpoint: str) -> None:
    client = api_as(UserFactory(role=Role.STAFF))
    url = f"/api/v1/{endpoint}/"
    ROW_MAKERS[endpoint]()
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).json()["count"] == 1
    for _ in range(6):
        ROW_MAKERS[endpoint]()
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).json()["count"] == 7
    assert len(many) == len(one)
