"""Query budgets: every list of the API and every page that lists rows costs the same
number of queries for one row and for fifty, for each role whose scope it lists.

The cases are generated: the router's list routes must all be in ``API_LISTS``, the
site's URL names all in ``PAGES`` or ``NOT_LISTS`` — a new route or page fails here
until it is given rows (a builder of tests/populate.py) and roles, or declared not a
list. Each case is measured with one row (after a first request that fills the
process's caches), then with fifty; django-zeal watches every request too.

The rows are built once for the module, in a transaction rolled back at its end; each
group of cases that shares builders gets a savepoint of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import traceback
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation
from rest_framework.test import APIClient
from zeal import NPlusOneError, zeal_ignore

from school.api import router
from school.models import Role, User
from tests.clients import Client
from tests.module_scope import fast_and_collectless
from tests.populate import BUILDERS, NOW, Cast, Rows

STAFF, TRAINER, PARTNER, LEARNER, GUARDIAN = (
    Role.STAFF,
    Role.TRAINER,
    Role.PARTNER,
    Role.LEARNER,
    Role.GUARDIAN,
)
# The module builds its rows once (a module-scoped fixture): under pytest-xdist, all
# its tests run on one worker instead of each worker building them again.
pytestmark = pytest.mark.xdist_group("query_budgets")

EVERYONE = (STAFF, TRAINER, PARTNER, LEARNER, GUARDIAN)
FEW, MANY = 1, 50


@dataclasses.dataclass(frozen=True)
class ApiList:
    builders: tuple[str, ...]
    roles: tuple[str, ...]


# Router prefix → the rows it lists, and the roles whose own scope holds them. A role
# whose scope cannot grow (a learner's own profile, a partner's one company) is left out.
API_LISTS: dict[str, ApiList] = {
    "programmes": ApiList(("programme",), (STAFF,)),
    "cohorts": ApiList(("cohort",), (STAFF, TRAINER, GUARDIAN)),
    "learners": ApiList(("learner",), (STAFF, TRAINER, GUARDIAN)),
    "guardians": ApiList(("guardian",), (STAFF, TRAINER, GUARDIAN)),
    "enrolments": ApiList(("enrolment",), (STAFF, TRAINER, GUARDIAN)),
    # The learner's conventions (the placements'): every role's scope holds them.
    "documents": ApiList(("placement",), EVERYONE),
    "documents/batches": ApiList(("document-batch",), (STAFF,)),
    "companies": ApiList(("company",), (STAFF, TRAINER)),
    "contacts": ApiList(("contact",), (STAFF, TRAINER, PARTNER)),
    "competency-blocks": ApiList(("competency-block",), (STAFF,)),
    "competencies": ApiList(("competency",), (STAFF,)),
    "courses": ApiList(("course",), (STAFF,)),
    "rooms": ApiList(("room",), (STAFF,)),
    "machines": ApiList(("machine",), (STAFF,)),
    "closures": ApiList(("closure",), (STAFF,)),
    "sessions": ApiList(("session",), (STAFF, TRAINER, LEARNER, GUARDIAN)),
    "attendance": ApiList(("attendance",), (STAFF, TRAINER, LEARNER, GUARDIAN)),
    "derogations": ApiList(("derogation",), (STAFF,)),
    "medical-fitnesses": ApiList(("medical-fitness",), (STAFF,)),
    "safety-trainings": ApiList(("safety-training",), (STAFF,)),
    # The staff's own schedule is empty: they teach nothing.
    "me/schedule": ApiList(("session",), (TRAINER, LEARNER, GUARDIAN)),
    "orders": ApiList(("order",), EVERYONE),
    "time-logs": ApiList(("time-log",), (STAFF, TRAINER, LEARNER, GUARDIAN)),
    "evidence": ApiList(("evidence",), (STAFF, TRAINER, LEARNER, GUARDIAN)),
    "offers": ApiList(("offer",), EVERYONE),
    "applications": ApiList(("application",), EVERYONE),
    "placements": ApiList(("placement",), EVERYONE),
    "visits": ApiList(("visit",), (STAFF, TRAINER)),
    # The money: the school's and its customer's.
    "quotes": ApiList(("sale",), (STAFF, PARTNER)),
    "delivery-notes": ApiList(("sale",), (STAFF, PARTNER)),
    "invoices": ApiList(("sale",), (STAFF, PARTNER)),
    "payments": ApiList(("sale",), (STAFF, PARTNER)),
    # Assessment: the cast's learner's results, a class's comments, its family's notes.
    "terms": ApiList(("cohort-term",), (STAFF, TRAINER, GUARDIAN)),
    "ccf-units": ApiList(("ccf-unit",), (STAFF,)),
    "situations": ApiList(("situation",), (STAFF, TRAINER, LEARNER, GUARDIAN)),
    "results": ApiList(("situation",), (STAFF, TRAINER, LEARNER, GUARDIAN)),
    "term-comments": ApiList(("term-comment",), (STAFF, TRAINER)),
    "excuse-notes": ApiList(("excuse-note",), (STAFF, GUARDIAN)),
    "placement-grids": ApiList(("placement-grid",), (STAFF, TRAINER, PARTNER)),
}

Url = Callable[[Rows, User], str]


@dataclasses.dataclass(frozen=True)
class Page:
    url: Url
    builders: tuple[str, ...]
    roles: tuple[str, ...]
    few: int = FEW  # rows of the first measure, when a page has a bounded cost below it


def _at(name: str, *args: Callable[[Rows, User], Any]) -> Url:
    return lambda rows, user: reverse(name, args=[arg(rows, user) for arg in args])


def _week(kind: str, pk: Callable[[Rows, User], int]) -> Url:
    return lambda rows, user: reverse("week", args=[kind, pk(rows, user)])


def _cast(attribute: str) -> Callable[[Rows, User], int]:
    return lambda rows, user: getattr(rows.cast, attribute).pk


# URL name (with the variant in brackets) → the page's rows and the roles it lists them to.
PAGES: dict[str, Page] = {
    "home": Page(
        _at("home"),
        (
            "session",
            "attendance",
            "order-under-way",
            "placement",
            "application",
            "document-batch",
            "learner-with-cover-expiring",
            "sale",
        ),
        EVERYONE,
    ),
    # A parent's home lists each child and the week of them all; it shows the portfolios
    # of the first three children only: a bounded cost, measured from three children on.
    "home[children]": Page(_at("home"), ("learner-with-a-record",), (GUARDIAN,), few=3),
    "cohort-list": Page(_at("cohort-list"), ("cohort",), (STAFF, TRAINER, GUARDIAN)),
    "cohort-detail": Page(
        _at("cohort-detail", _cast("cohort")),
        ("learner-with-a-record",),
        (STAFF, TRAINER, GUARDIAN),
    ),
    "learner-list": Page(_at("learner-list"), ("learner",), (STAFF, TRAINER)),
    # A learner's page: enrolments, guardians, and its sections (placements, portfolio).
    "learner-detail": Page(
        _at("learner-detail", _cast("learner")), ("placement",), (STAFF, TRAINER, LEARNER, GUARDIAN)
    ),
    "batch-detail": Page(
        _at("batch-detail", lambda rows, user: rows.batch().pk), ("batch-learner",), (STAFF,)
    ),
    "company-list": Page(_at("company-list"), ("company",), (STAFF, TRAINER)),
    "company-detail": Page(
        _at("company-detail", _cast("company")), ("contact",), (STAFF, TRAINER, PARTNER)
    ),
    "my-week": Page(_at("my-week"), ("session",), (TRAINER, LEARNER, GUARDIAN)),
    # The staff's « my week » is the chooser of every timetable.
    "my-week[chooser]": Page(_at("my-week"), ("cohort", "room"), (STAFF,)),
    "week[formateur]": Page(_week("formateur", _cast("trainer")), ("session",), (STAFF, TRAINER)),
    "week[promotion]": Page(
        _week("promotion", _cast("cohort")), ("session", "learner"), (STAFF, TRAINER)
    ),
    "week[salle]": Page(_week("salle", _cast("room")), ("session",), (STAFF, TRAINER)),
    "week[apprenant]": Page(
        _week("apprenant", _cast("learner")), ("session",), (STAFF, TRAINER, LEARNER, GUARDIAN)
    ),
    "roll-call": Page(
        _at("roll-call", _cast("session")), ("learner-with-a-record",), (STAFF, TRAINER)
    ),
    "cover-expiring": Page(_at("cover-expiring"), ("learner-with-cover-expiring",), (STAFF,)),
    "order-list": Page(_at("order-list"), ("order",), EVERYONE),
    # The order's page lists its time logs (to those who may read them) and its events.
    "order-detail": Page(
        _at("order-detail", lambda rows, user: rows.order_with_time_logs().pk),
        ("time-log",),
        (STAFF, TRAINER, LEARNER, GUARDIAN),
    ),
    "invoice-list": Page(_at("invoice-list"), ("sale",), (STAFF, PARTNER)),
    "earnings": Page(_at("earnings"), ("sale",), (STAFF,)),
    "company-earnings": Page(
        _at("company-earnings", _cast("company")), ("sale",), (STAFF, PARTNER)
    ),
    # An order's billing part (quotes, deliveries, invoices) to the staff and its customer.
    "order-detail[sales]": Page(
        _at("order-detail", lambda rows, user: rows.order_sold().pk),
        ("invoice-of-one-order",),
        (STAFF, PARTNER),
    ),
    "situation-list": Page(_at("situation-list"), ("situation",), (STAFF, TRAINER)),
    # A new situation begins with the choice of its cohort.
    "situation-create": Page(_at("situation-create"), ("cohort",), (STAFF, TRAINER)),
    # A class's grid, its conseil de classe and its jury: a row per learner assessed.
    "situation-grid": Page(
        _at("situation-grid", lambda rows, user: rows.graded().pk),
        ("assessed-learner",),
        (STAFF, TRAINER),
    ),
    "council": Page(
        _at("council", lambda rows, user: rows.term().pk), ("assessed-learner",), (STAFF, TRAINER)
    ),
    "jury": Page(_at("jury", _cast("cohort")), ("assessed-learner",), (STAFF, TRAINER)),
    # A CCF situation in PFMP: its grid lists the tutors' grids too.
    "situation-grid[placement]": Page(
        _at("situation-grid", lambda rows, user: rows.in_placement_situation().pk),
        ("placement-grid",),
        (STAFF, TRAINER),
    ),
    "placement-grid-list": Page(
        _at("placement-grid-list"), ("placement-grid",), (STAFF, TRAINER, PARTNER)
    ),
    "my-results": Page(_at("my-results"), ("situation",), (LEARNER, GUARDIAN)),
    "excuse-list": Page(_at("excuse-list"), ("excuse-note",), (STAFF, GUARDIAN)),
    "portfolio": Page(
        _at("portfolio", _cast("learner")),
        ("portfolio-line",),
        (STAFF, TRAINER, LEARNER, GUARDIAN),
    ),
    "calendar-feed": Page(
        lambda rows, user: reverse("calendar-feed", args=[user.calendar_token]),
        ("session",),
        (TRAINER, LEARNER, GUARDIAN),
    ),
    "offer-list": Page(_at("offer-list"), ("offer",), EVERYONE),
    # An offer's page lists its applications to those who decide.
    "offer-detail": Page(
        _at("offer-detail", lambda rows, user: rows.offer_applied_to().pk),
        ("application-to-one-offer",),
        (STAFF, PARTNER),
    ),
    "application-list": Page(_at("application-list"), ("application",), EVERYONE),
    "placement-list": Page(_at("placement-list"), ("placement",), EVERYONE),
    "placement-follow-up": Page(_at("placement-follow-up"), ("placement",), (STAFF,)),
    # A placement's page lists its visits and absences, to the school's team.
    "placement-detail": Page(
        _at("placement-detail", lambda rows, user: rows.followed_placement().pk),
        ("visit",),
        (STAFF, TRAINER),
    ),
}

# Pages that list no rows of their own: a form (whatever its choices), an action (POST),
# one object, a file, or a page outside the school's data.
NOT_LISTS = {
    "healthz",
    "verify",
    "login",
    "logout",
    "two-factor-enrol",
    "two-factor-verify",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    "schema",
    "swagger-ui",
    "batch-create",
    "batch-zip",
    "mark-attendance",
    "validate-attendance",
    "sign-presence",
    "order-create",
    "order-action",
    "billing-action",
    "billing-item-action",
    "calendar-rotate",
    "offer-create",
    "offer-edit",
    "offer-publish",
    "offer-apply",
    "application-detail",
    "application-decide",
    "placement-edit",
    "placement-evaluate",
    "placement-sign",
    "placement-action",
    "sign-link",
    "sign-link-pdf",
    "evaluation-link",
    "situation-lock",
    "council-bulletins",
    "jury-issue",
    "excuse-decide",
    "placement-grids-send",
    "situation-edit",
    "placement-grid-detail",
    "placement-grid-link",
}
# Namespaces measured elsewhere: the API (above, from its router) and the admin
# (tests/test_admin_pages.py).
OTHER_NAMESPACES = {"api", "admin"}


def router_list_prefixes() -> set[str]:
    return {prefix for prefix, viewset, _basename in router.registry if hasattr(viewset, "list")}


def page_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace not in OTHER_NAMESPACES:
                    walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_list_route_of_the_api_has_its_rows_and_roles() -> None:
    assert set(API_LISTS) == router_list_prefixes()


def test_every_list_is_given_rows_by_known_builders() -> None:
    wanted = {name for spec in [*API_LISTS.values(), *PAGES.values()] for name in spec.builders}
    assert wanted <= set(BUILDERS)


def test_every_page_is_either_a_list_with_its_rows_or_declared_not_one() -> None:
    listed = {name.split("[")[0] for name in PAGES}
    assert not listed & NOT_LISTS
    assert page_names() == listed | NOT_LISTS


# ---------------------------------------------------------------------------------------
# The measures
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    kind: str  # "api" or "page"
    name: str
    role: str
    builders: tuple[str, ...]
    few: int = FEW

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}:{self.role}"


CASES = [
    Case("api", prefix, role, spec.builders)
    for prefix, spec in API_LISTS.items()
    for role in spec.roles
] + [
    Case("page", name, role, page.builders, page.few)
    for name, page in PAGES.items()
    for role in page.roles
]


@dataclasses.dataclass
class Measure:
    queries: int = 0
    rows: int | None = None  # the API's
    size: int = 0  # a page's, in bytes: more rows, more bytes
    error: str = ""


@dataclasses.dataclass
class Budget:
    few: Measure
    many: Measure


class Visitor:
    """Requests a case's URL as its role, counting the queries."""

    def __init__(self, cast: Cast) -> None:
        self.cast = cast
        self.pages: dict[str, Client] = {}
        for role, user in cast.users.items():
            client = Client()
            client.force_login(user)
            self.pages[role] = client

    def url(self, case: Case, rows: Rows) -> str:
        user = self.cast.users[case.role]
        if case.kind == "api":
            return f"/api/v1/{case.name}/?page_size={MANY}"
        return PAGES[case.name].url(rows, user)

    def get(self, case: Case, url: str) -> Any:
        # The cache holds rate limits and rendered feeds: every request starts from none.
        cache.clear()
        if case.kind == "page":
            return self.pages[case.role].get(url)
        api = APIClient()
        # A fresh user each time, as a token's request loads it: nothing cached on it.
        api.force_authenticate(User.objects.get(pk=self.cast.users[case.role].pk))
        return api.get(url)

    def measure(self, case: Case, url: str) -> Measure:
        measure = Measure()
        try:
            measure.queries, response = self._count(case, url)
        except NPlusOneError as error:
            measure.error = f"django-zeal: {error}"
            with zeal_ignore():
                measure.queries, response = self._count(case, url)
        except Exception:  # reported by the case's test, with its name
            measure.error = traceback.format_exc(limit=-3)
            return measure
        measure.size = len(response.content)
        if response.status_code != 200:
            measure.error = f"status {response.status_code} for {url}"
        elif case.kind == "api":
            measure.rows = len(response.json()["results"])
        return measure

    def _count(self, case: Case, url: str) -> tuple[int, Any]:
        with CaptureQueriesContext(connection) as queries:
            response = self.get(case, url)
        return len(queries), response


def _measure_all() -> dict[str, Budget]:
    cast = Cast()
    visitor = Visitor(cast)
    groups: dict[tuple[tuple[str, ...], int], list[Case]] = defaultdict(list)
    for case in CASES:
        groups[case.builders, case.few].append(case)
    budgets: dict[str, Budget] = {}
    for (builders, few), cases in groups.items():
        try:
            budgets.update(_measure_group(visitor, builders, few, cases))
        except Exception:  # a builder's failure: reported by each case of its group
            failed = Measure(error=traceback.format_exc(limit=-5))
            budgets.update({case.id: Budget(failed, failed) for case in cases})
    return budgets


def _measure_group(
    visitor: Visitor, builders: tuple[str, ...], few: int, cases: list[Case]
) -> dict[str, Budget]:
    """The cases' measures with ``few`` rows of each builder, then with ``MANY``."""
    first = {}
    with transaction.atomic():
        rows = Rows(visitor.cast)
        for builder in builders:
            rows.add(builder, few)
        for case in cases:
            url = visitor.url(case, rows)
            # A first request fills the process's caches (content types…).
            with contextlib.suppress(Exception), zeal_ignore():
                visitor.get(case, url)
            first[case.id] = visitor.measure(case, url)
        for builder in builders:
            rows.add(builder, MANY - few)
        budgets = {
            case.id: Budget(first[case.id], visitor.measure(case, visitor.url(case, rows)))
            for case in cases
        }
        transaction.set_rollback(True)
    return budgets


@pytest.fixture(scope="module")
def budgets(django_db_setup: None, django_db_blocker: Any) -> dict[str, Budget]:
    try:
        with (
            django_db_blocker.unblock(),
            fast_and_collectless(),
            time_machine.travel(NOW, tick=False),
            transaction.atomic(),
        ):
            budgets = _measure_all()
            transaction.set_rollback(True)
    finally:
        translation.deactivate()
    return budgets


# The mark makes pytest-django create the test database, which ``budgets`` fills.
@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_a_list_costs_the_same_for_one_row_and_for_fifty(
    budgets: dict[str, Budget], case: Case
) -> None:
    few, many = budgets[case.id].few, budgets[case.id].many
    counts = f"{case.id}: {few.queries} queries for {case.few} row(s), {many.queries} for {MANY}"
    assert not few.error, f"{counts}\nwith {case.few} row(s): {few.error}"
    assert not many.error, f"{counts}\nwith {MANY} rows: {many.error}"
    if case.kind == "api":
        assert few.rows and few.rows >= case.few, f"{counts}; {few.rows} rows listed"
        assert many.rows == MANY, f"{counts}; {many.rows} rows listed, not {MANY}"
    else:
        assert many.size > few.size, f"{counts}; the page is no bigger: are the rows listed?"
    assert many.queries == few.queries, counts
