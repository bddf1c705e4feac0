"""Every list endpoint costs the same number of queries for one row and for many."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from school.models import Role
from school.services import enrolment_change_status
from tests.factories import (
    ClusterFactory,
    CohortFactory,
    CompanyFactory,
    ContactFactory,
    EnrolmentFactory,
    GuardianFactory,
    ProgrammeFactory,
    UserFactory,
)
from tests.queries import assert_a_list_costs_the_same_for_one_row_and_for_many, list_queries


def _cohort_with_team(trainer: Any) -> None:
    cohort = CohortFactory(head_trainer=trainer)
    cohort.trainers.add(UserFactory(role=Role.TRAINER), UserFactory(role=Role.TRAINER))
    EnrolmentFactory(cohort=cohort)


def _enrolment_with_history(trainer: Any) -> None:
    enrolment = EnrolmentFactory(cohort=CohortFactory(head_trainer=trainer))
    enrolment_change_status(enrolment=enrolment, status="suspended", reason="Raison médicale")


def _company_with_clusters(trainer: Any) -> None:
    company = CompanyFactory()
    company.clusters.add(ClusterFactory(name=f"Réseau {company.pk}"), ClusterFactory())
    ContactFactory(company=company)


# endpoint → how to add one more row visible to the trainer (the role with the widest joins)
ROW_MAKERS: dict[str, Callable[[Any], None]] = {
    "programmes": lambda trainer: ProgrammeFactory(),
    "cohorts": _cohort_with_team,
    "learners": lambda trainer: EnrolmentFactory(cohort=CohortFactory(head_trainer=trainer)),
    "guardians": lambda trainer: GuardianFactory(
        learner=EnrolmentFactory(cohort=CohortFactory(head_trainer=trainer)).learner
    ),
    "enrolments": _enrolment_with_history,
    "companies": _company_with_clusters,
    "contacts": lambda trainer: ContactFactory(),
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.STAFF, Role.TRAINER])
@pytest.mark.parametrize("endpoint", ROW_MAKERS)
def test_a_list_endpoint_costs_the_same_for_one_row_and_for_many(
    api_as: Any, endpoint: str, role: str
) -> None:
    trainer = UserFactory(role=Role.TRAINER)
    user = trainer if role == Role.TRAINER else UserFactory(role=Role.STAFF)
    assert_a_list_costs_the_same_for_one_row_and_for_many(
        api_as(user), f"/api/v1/{endpoint}/", lambda: ROW_MAKERS[endpoint](trainer), more=15
    )


@pytest.mark.django_db
def test_me_costs_one_query_whatever_the_number_of_children(api_as: Any) -> None:
    parent = UserFactory(role=Role.GUARDIAN)
    GuardianFactory(user=parent)
    parent.get_calendar_token()  # made once, on first use
    client = api_as(parent)
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/me/")
    for _ in range(3):
        GuardianFactory(user=parent)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/me/")
    assert len(response.json()["children"]) == 4
    assert len(many) == len(one)


def _guardian_of(parent: Any) -> None:
    GuardianFactory(user=parent, learner=EnrolmentFactory().learner)


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["cohorts", "learners", "guardians", "enrolments"])
def test_a_parents_lists_cost_the_same_for_one_child_and_for_several(
    api_as: Any, endpoint: str
) -> None:
    parent = UserFactory(role=Role.GUARDIAN)
    client = api_as(parent)
    url = f"/api/v1/{endpoint}/"
    _guardian_of(parent)
    queries_for_one, rows = list_queries(client, url)
    for _ in range(4):
        _guardian_of(parent)
    queries_for_many, more_rows = list_queries(client, url)
    assert (rows, more_rows) == (1, 5)
    assert queries_for_many == queries_for_one


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["companies", "contacts"])
def test_a_partners_lists_cost_the_same_for_one_row_and_for_many(
    api_as: Any, endpoint: str
) -> None:
    partner = UserFactory(role=Role.PARTNER)
    company = CompanyFactory()
    company.clusters.add(ClusterFactory())
    ContactFactory(company=company, user=partner)
    client = api_as(partner)
    url = f"/api/v1/{endpoint}/"
    queries_for_one, _rows = list_queries(client, url)
    for _ in range(6):
        ContactFactory(company=company)
        ContactFactory()  # another company's: never listed
    queries_for_many, _more = list_queries(client, url)
    assert queries_for_many == queries_for_one
