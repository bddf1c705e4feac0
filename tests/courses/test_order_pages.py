"""The workshop's pages: the partner orders, the staff decide and plan, the learner logs
time, the trainer measures and countersigns, the customer downloads the report."""

from __future__ import annotations

import datetime
import html
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import CompetencyEvidence, OrderStatus, WorkshopOrder
from school.models import Role
from tests.clients import signed_in
from tests.conftest import World
from tests.courses.test_orders_api import PDF, _order
from tests.factories import (
    CompetencyBlockFactory,
    CompetencyFactory,
    ContactFactory,
    CourseFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def test_the_workshop_path_on_the_pages(world: World) -> None:
    partner = signed_in(world.partner)
    form = {
        "company": world.company.pk,
        "reference": "AX-44",
        "description": "Axe épaulé",
        "material": "Acier",
        "quantity": "10",
        "requested_date": "2027-02-26",
    }
    refused = partner.post(
        "/commandes/nouvelle/",
        {**form, "drawing": SimpleUploadedFile("plan.pdf", b"MZ\x90\x00", "application/pdf")},
    )
    assert "formats possibles" in text(refused) and not WorkshopOrder.objects.exists()
    placed = partner.post(
        "/commandes/nouvelle/",
        {**form, "drawing": SimpleUploadedFile("plan.pdf", PDF, "application/pdf")},
        follow=True,
    )
    assert "Commande déposée" in text(placed)
    order = WorkshopOrder.objects.get()

    staff = signed_in(world.staff)
    staff.post(f"/commandes/{order.pk}/review/")
    staff.post(
        f"/commandes/{order.pk}/accept/",
        {"price": "300", "planned_start": "2026-11-02", "planned_end": "2026-12-18",
         "supervisor": world.trainer.pk},
    )  # fmt: skip
    world.learner.birth_date = datetime.date(2004, 1, 1)
    world.learner.save()
    session = SessionFactory(
        cohort=world.cohort,
        trainer=world.trainer,
        course=CourseFactory(programme=world.cohort.programme, kind="workshop"),
        start=datetime.datetime(2026, 11, 10, 7, tzinfo=datetime.UTC),
    )
    competency = CompetencyFactory(block=CompetencyBlockFactory(programme=world.cohort.programme))
    page = text(staff.get(f"/commandes/{order.pk}/"))
    assert "Planifier" in page
    staff.post(
        f"/commandes/{order.pk}/plan/",
        {"sessions": [session.pk], "learners": [world.learner.pk], "competencies": [competency.pk]},
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PLANNED

    learner = signed_in(world.learner_user)
    logged = learner.post(
        f"/commandes/{order.pk}/log/",
        {"session": session.pk, "learner": world.learner.pk, "hours": "3", "operation": "turning",
         "parts_made": "10", "parts_scrapped": "0"},
        follow=True,
    )  # fmt: skip
    assert "Temps enregistré." in text(logged)

    trainer = signed_in(world.trainer)
    trainer.post(f"/commandes/{order.pk}/quality_control/")
    measured = trainer.post(
        f"/commandes/{order.pk}/inspection/",
        {"lines": "Ø25 g6 | 25 | -0,020 | -0,007 | 24,990 24,985 24,988"},
        follow=True,
    )
    assert "Mesures enregistrées." in text(measured) and "Lot conforme." in text(measured)
    trainer.post(f"/commandes/{order.pk}/countersign/")
    staff.post(f"/commandes/{order.pk}/delivered/")
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    customer = text(partner.get(f"/commandes/{order.pk}/"))
    assert "Télécharger le rapport de contrôle" in customer
    assert CompetencyEvidence.objects.filter(learner=world.learner, level="acquired").exists()
    portfolio = text(learner.get(f"/apprenants/{world.learner.pk}/competences/"))
    assert competency.title in portfolio and "Acquis" in portfolio

    stranger = UserFactory(role=Role.PARTNER)
    ContactFactory(company=world.other_company, user=stranger)
    other = signed_in(stranger)
    assert other.get(f"/commandes/{order.pk}/").status_code == 404
    assert "AX-44" not in text(other.get("/commandes/"))
    assert other.post(f"/commandes/{order.pk}/review/").status_code == 404


def test_a_learner_cannot_move_an_order(world: World) -> None:
    order = _order()
    order.learners.add(world.learner)
    response = signed_in(world.learner_user).post(f"/commandes/{order.pk}/review/", follow=True)
    assert "Votre rôle ne permet pas" in text(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED


def test_the_order_list_page_costs_the_same_for_one_row_and_for_many(world: World) -> None:
    client = signed_in(world.staff)
    _order()
    with CaptureQueriesContext(connection) as one:
        assert client.get("/commandes/").status_code == 200
    for _ in range(6):
        _order()
    with CaptureQueriesContext(connection) as many:
        assert client.get("/commandes/").status_code == 200
    assert len(many) == len(one)


def test_the_portfolio_costs_the_same_for_one_competency_and_for_many(world: World) -> None:
    block = CompetencyBlockFactory(programme=world.cohort.programme)
    client = signed_in(world.staff)
    url = f"/apprenants/{world.learner.pk}/competences/"

    def evidence() -> None:
        CompetencyEvidence.objects.create(
            learner=world.learner,
            competency=CompetencyFactory(block=block),
            level="in_progress",
            source="assessment",
            assessor_name="Marc",
            date=datetime.date(2026, 11, 20),
        )

    evidence()
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _ in range(6):
        evidence()
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(one)
    assert signed_in(world.partner).get(url).status_code == 404


def test_an_assigned_learner_cannot_plan_the_order_again(world: World) -> None:
    from courses import orders

    order = _order()
    order.learners.add(world.learner)
    WorkshopOrder.objects.filter(pk=order.pk).update(status=OrderStatus.PLANNED)
    session = SessionFactory(cohort=world.cohort)
    response = signed_in(world.learner_user).post(
        f"/commandes/{order.pk}/plan/", {"sessions": [session.pk], "learners": [world.learner.pk]}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert list(order.sessions.all()) == []
    with pytest.raises(orders.PermissionDenied):
        orders.order_plan(order, by=world.trainer, sessions=[session], learners=[world.learner])
