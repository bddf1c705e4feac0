"""The authorisation matrix: every URL of the URL configuration, visited by every role on
an object of side A and of side B, answers what DESIGN.md's role table says.

The URLs come from the resolver, not from a list kept by hand: a new URL without an
entry in ``MATRIX`` (or under the admin's generic rule) fails
``test_every_url_has_an_entry_in_the_matrix``. What a role may not see answers 404 on
pages, API and files, for reading and writing alike; what it sees but may not change
answers 403; an anonymous visitor is sent to log in (pages) or refused (API, 401).

Beyond status codes, every answer is searched for the *markers* of tests/matrix_world.py
(each side's names and titles): a marker shown to a role outside its audience is a
leak, whether in a page, a list, a search result, a JSON field or a calendar feed.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient
from zeal import zeal_ignore

from school.privacy import learner_export
from tests.clients import Client
from tests.matrix_world import NAMES, NOW, SIDES, Side, World, build_world
from tests.module_scope import kept_for_the_module

# The module builds its rows once (a module-scoped fixture): under pytest-xdist, all
# its tests run on one worker instead of each worker building them again.
pytestmark = pytest.mark.xdist_group("authorisation_matrix")

ROLES = (
    "anonymous",
    "staff",
    "trainer",
    "partner_a",
    "partner_b",
    "learner_a",
    "learner_b",
    "guardian_a",
)
SIGNED_IN = ROLES[1:]

# ---------------------------------------------------------------------------------------
# DESIGN.md's role table, for the world: who sees side A's and side B's object of a kind.
# The trainer teaches cohort A and refers placement A; side B is another trainer's. Offer
# A is published (every learner sees it); offer B is filled (learner B applied to it).
# ---------------------------------------------------------------------------------------

_SCHOOL = {"staff": "AB", "trainer": "A", "learner_a": "A", "learner_b": "B", "guardian_a": "A"}
_COMPANY = {"staff": "AB", "trainer": "AB", "partner_a": "A", "partner_b": "B"}
_HOSTED = {**_SCHOOL, "partner_a": "A", "partner_b": "B"}
SEES: dict[str, dict[str, str]] = {
    # cohorts, learners, guardians, enrolments, evidence, portfolios, own documents
    "school": _SCHOOL,
    "company": _COMPANY,
    # every timetable is open to the teaching team
    "session": {**_SCHOOL, "trainer": "AB"},
    # the trainer's own sessions' lines
    "attendance": _SCHOOL,
    "offer": {**_COMPANY, "learner_a": "A", "learner_b": "AB", "guardian_a": "A"},
    # the offers page lists only the published ones to learners and parents
    "offer_listed": {**_COMPANY, "learner_a": "A", "learner_b": "A", "guardian_a": "A"},
    "application": _HOSTED,
    "placement": _HOSTED,
    # the convention: the learner's, and the host company's
    "convention": _HOSTED,
    # the inspection report: staff, and the customer once delivered
    "report": {"staff": "AB", "partner_a": "A", "partner_b": "B"},
    "visit": {"staff": "AB", "trainer": "A"},
    # a term's comments, the conseil de classe, the jury's proposed marks, the grid
    "council": {"staff": "AB", "trainer": "A"},
    # CCF grids in PFMP: the school's, the assessor's, and the host company's
    "grid": {"staff": "AB", "trainer": "A", "partner_a": "A", "partner_b": "B"},
    # quotes, delivery notes, invoices, payments: the school's and the customer's money
    "sales": {"staff": "AB", "partner_a": "A", "partner_b": "B"},
    "order": {**_HOSTED, "trainer": "AB"},
    "time_log": _SCHOOL,
    "staff": {"staff": "AB"},
    "teaching": {"staff": "AB", "trainer": "AB"},
    # the roll call of a session: its trainer's, or the staff's
    "roll_call": {"staff": "AB", "trainer": "A"},
    # « my schedule »: the sessions one teaches, attends, or one's child attends
    "own_schedule": {"trainer": "A", "learner_a": "A", "learner_b": "B", "guardian_a": "A"},
    "catalogue": dict.fromkeys(SIGNED_IN, "AB"),
}


def sees(kind: str, role: str, side: str) -> bool:
    return side in SEES[kind].get(role, "")


def _carriers(side: str) -> dict[str, tuple[str, ...]]:
    """Each marker of a side, and the kinds of the records that show it: the learner's
    (and their guardian's) name, the company's name, the cohort's name."""
    names = NAMES[side]
    return {
        names["learner_last"]: ("placement",),
        names["guardian_first"]: ("placement",),
        names["company"].split()[-1]: ("company", "offer"),
        names["cohort"].split()[-1]: ("session",),
    }


def markers_of(side: str) -> list[str]:
    return list(_carriers(side))


# Each marker, and who may read it: the roles that see a record that shows it.
MARKERS: dict[str, frozenset[str]] = {
    word: frozenset(role for role in SIGNED_IN for kind in kinds if sees(kind, role, side))
    for side in SIDES
    for word, kinds in _carriers(side).items()
}


# ---------------------------------------------------------------------------------------
# Expected answers
# ---------------------------------------------------------------------------------------

LOGIN = "login"  # a redirect to the login page
ADMIN_LOGIN = "admin-login"  # a redirect to the admin's login page
Expected = int | str | tuple[int, ...]
Expect = Callable[[str, str], Expected]


def scoped(kind: str, anonymous: Expected = LOGIN) -> Expect:
    """200 for what the role sees, 404 for the rest."""

    def expect(role: str, side: str) -> Expected:
        if role == "anonymous":
            return anonymous
        return 200 if sees(kind, role, side) else 404

    return expect


def changeable(kind: str, may_change: Callable[[str, str], bool]) -> Expect:
    """A form to change an object: 200 to who may, 403 to who sees it only, else 404."""

    def expect(role: str, side: str) -> Expected:
        if role == "anonymous":
            return LOGIN
        if not sees(kind, role, side):
            return 404
        return 200 if may_change(role, side) else 403

    return expect


def only(roles: set[str], ok: Expected = 200, other: Expected = 404) -> Expect:
    def expect(role: str, side: str) -> Expected:
        if role == "anonymous":
            return LOGIN
        return ok if role in roles else other

    return expect


def signed_in(status: Expected = 200, anonymous: Expected = LOGIN) -> Expect:
    return lambda role, side: anonymous if role == "anonymous" else status


def everyone(status: Expected) -> Expect:
    return lambda role, side: status


def own_company(role: str, side: str) -> bool:
    return role == "staff" or role == f"partner_{side.lower()}"


def staff_only(role: str, side: str) -> bool:
    return role == "staff"


# ---------------------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------------------

Kwargs = Callable[[Side, World], dict[str, Any]]


def pk(attribute: str, name: str = "pk") -> Kwargs:
    return lambda s, w: {name: getattr(s, attribute).pk}


@dataclass(frozen=True)
class Write:
    """A write that roles outside ``allowed`` try on each side's object: 404 when they do
    not see it, ``seen`` (403 unless a rule says otherwise) when they do. Roles in
    ``allowed`` are not tried: this matrix does not test successful writes."""

    kind: str
    method: str = "post"
    allowed: Callable[[str, str], bool] = lambda role, side: False
    seen: Callable[[str, str], Expected] = lambda role, side: 403


@dataclass(frozen=True)
class Case:
    api: bool
    expect: Expect
    kwargs: Kwargs | None = None
    query: Callable[[Side, World], dict[str, str]] | None = None
    variant: str = ""
    # API lists: the kind of their rows and each side's row id, looked for in the results.
    rows: tuple[str, Callable[[Side], int]] | None = None
    # Lists: a word each side's row shows, searched for (API ``?search=``, pages ``?q=``).
    search: Callable[[Side], str] | None = None
    # Page lists: the kind of their rows and the word each side's row shows on the page.
    shows: tuple[str, Callable[[Side], str]] | None = None
    # The URL carries the credential (a token, a code): no role's markers apply, but the
    # answer must hold nothing of the other side.
    token: bool = False
    write: Write | None = None

    @property
    def has_object(self) -> bool:
        return self.kwargs is not None or self.query is not None


PLAIN = Case(api=False, expect=lambda role, side: 200)


def page(expect: Expect, kwargs: Kwargs | None = None, **options: Any) -> Case:
    return Case(api=False, expect=expect, kwargs=kwargs, **options)


def api(expect: Expect, kwargs: Kwargs | None = None, **options: Any) -> Case:
    return Case(api=True, expect=expect, kwargs=kwargs, **options)


def api_list(
    kind: str, attribute: str, search: Callable[[Side], str] | None = None, variant: str = ""
) -> Case:
    return api(
        signed_in(anonymous=401),
        rows=(kind, lambda s: getattr(s, attribute).pk),
        search=search,
        variant=variant,
    )


def api_detail(kind: str, attribute: str, write: str | None = "patch", variant: str = "") -> Case:
    """GET each side's object; a role that does not see it writes too (PATCH the detail,
    POST an action) and must get the same 404."""
    return api(
        scoped(kind, anonymous=401),
        pk(attribute),
        write=Write(kind, method=write, allowed=lambda role, side: True) if write else None,
        variant=variant,
    )


def api_action(kind: str, attribute: str) -> Case:
    """An action on one object: GET is not its method (405 whoever asks); the action by a
    role that does not see the object answers 404."""
    return api(
        signed_in(405, anonymous=401),
        pk(attribute),
        write=Write(kind, allowed=lambda role, side: True),
    )


def learner_name(s: Side) -> str:
    return s.learner.last_name


def company_name(s: Side) -> str:
    return s.company.legal_name


REDIRECT = 302
MATRIX: dict[str, list[Case]] = {
    # --- the site's pages ---------------------------------------------------------------
    "home": [page(signed_in())],
    "healthz": [page(everyone(200))],
    "verify": [
        page(
            everyone(200),
            lambda s, w, doc=doc: {"code": getattr(s, doc).verification_code},
            token=True,
            variant=doc,
        )
        for doc in ("convention", "booklet", "report")
    ],
    "login": [page(signed_in(REDIRECT, anonymous=200))],
    "two-factor-enrol": [page(everyone(REDIRECT))],
    "two-factor-verify": [page(everyone(REDIRECT))],
    "logout": [page(everyone(405))],
    "password_reset": [page(everyone(200))],
    "password_reset_done": [page(everyone(200))],
    # The e-mailed link is the credential, whoever follows it (made when the URL is, as
    # signing in ends the links made before).
    "password_reset_confirm": [
        page(
            everyone(REDIRECT),
            lambda s, w: {
                "uidb64": urlsafe_base64_encode(force_bytes(s.learner_user.pk)),
                "token": default_token_generator.make_token(s.learner_user),
            },
            token=True,
        )
    ],
    "password_reset_complete": [page(everyone(200))],
    "set_language": [page(everyone((REDIRECT, 204)))],
    "cohort-list": [page(signed_in(), shows=("school", lambda s: s.cohort.name))],
    "cohort-detail": [page(scoped("school"), pk("cohort"))],
    "learner-list": [
        page(
            only({"staff", "trainer"}),
            shows=("school", learner_name),
            search=learner_name,
        )
    ],
    "learner-detail": [page(scoped("school"), pk("learner"))],
    "batch-create": [page(only({"staff"}))],
    "batch-detail": [page(scoped("staff"), pk("batch"))],
    "batch-zip": [page(scoped("staff"), pk("batch"))],
    "company-list": [page(signed_in(), shows=("company", company_name), search=company_name)],
    "company-detail": [page(scoped("company"), pk("company"))],
    "my-week": [page(only({"staff", "trainer", "learner_a", "learner_b", "guardian_a"}))],
    "week": [
        page(
            scoped("school"),
            lambda s, w: {"kind": "apprenant", "pk": s.learner.pk},
            variant="apprenant",
        ),
        page(
            scoped("teaching"),
            lambda s, w: {"kind": "promotion", "pk": s.cohort.pk},
            variant="promotion",
        ),
        page(scoped("teaching"), lambda s, w: {"kind": "salle", "pk": s.room.pk}, variant="salle"),
        page(
            scoped("teaching"),
            lambda s, w: {"kind": "formateur", "pk": s.session.trainer_id},
            variant="formateur",
        ),
        page(only(set()), lambda s, w: {"kind": "inconnu", "pk": s.cohort.pk}, variant="inconnu"),
    ],
    "roll-call": [page(scoped("roll_call"), pk("session"))],
    "mark-attendance": [
        page(
            signed_in(405),
            lambda s, w: {"pk": s.session.pk, "learner_pk": s.learner.pk},
            write=Write("roll_call", allowed=lambda role, side: sees("roll_call", role, side)),
        )
    ],
    "validate-attendance": [
        page(
            signed_in(405),
            pk("session"),
            write=Write("roll_call", allowed=lambda role, side: sees("roll_call", role, side)),
        )
    ],
    "sign-presence": [page(signed_in(405))],
    "cover-expiring": [page(only({"staff"}))],
    "order-list": [page(signed_in(), shows=("order", lambda s: s.order.reference))],
    "order-create": [page(only({"staff", "partner_a", "partner_b"}))],
    "order-detail": [page(scoped("order"), pk("order"))],
    "order-action": [
        page(
            signed_in(405),
            lambda s, w: {"pk": s.order.pk, "action": "review"},
            # Staff review; the teaching team and the order's learners reach the workflow,
            # whose rules refuse them with a message; the customer and a parent see the
            # order and may not move it.
            write=Write(
                "order",
                allowed=lambda role, side: role == "staff",
                seen=lambda role, side: 403 if role.startswith(("partner", "guardian")) else 302,
            ),
        )
    ],
    "invoice-list": [
        page(only({"staff", "partner_a", "partner_b"}), shows=("sales", lambda s: s.invoice.number))
    ],
    "earnings": [page(only({"staff"}))],
    "company-earnings": [page(scoped("sales"), pk("company"))],
    "billing-action": [
        page(
            signed_in(405),
            lambda s, w: {"pk": s.order.pk, "action": "facturer"},
            # Who does not see the money answers 404, whatever they see of the order; the
            # customer sees it and is refused with a message (the staff invoice).
            write=Write(
                "order",
                allowed=lambda role, side: role == "staff",
                seen=lambda role, side: REDIRECT if role.startswith("partner") else 404,
            ),
        )
    ],
    "billing-item-action": [
        page(
            signed_in(405),
            lambda s, w: {"pk": s.order.pk, "action": "reglement", "item": s.invoice.pk},
            write=Write(
                "order",
                allowed=lambda role, side: role == "staff",
                seen=lambda role, side: REDIRECT if role.startswith("partner") else 404,
            ),
        )
    ],
    "situation-list": [page(only({"staff", "trainer"}))],
    "situation-create": [
        page(only({"staff", "trainer"}), variant="chooser"),
        # The form of a cohort one sees; another cohort's is not found.
        page(
            scoped("council"),
            query=lambda s, w: {"promotion": str(s.cohort.pk)},
            variant="cohort",
        ),
    ],
    "situation-edit": [
        page(
            scoped("council"),
            pk("situation"),
            write=Write("council", allowed=lambda role, side: role in ("staff", "trainer")),
        )
    ],
    "situation-grid": [
        page(
            scoped("council"),
            pk("situation"),
            # The assessor saves it; who only sees it may not (the head of another
            # cohort, or the staff's lock): 404 outside, 403 inside.
            write=Write("council", allowed=lambda role, side: role in ("staff", "trainer")),
        )
    ],
    "situation-lock": [
        page(
            signed_in(405),
            pk("situation"),
            write=Write("council", allowed=lambda role, side: role == "staff"),
        )
    ],
    "council": [
        page(
            scoped("council"),
            pk("term"),
            write=Write("council", allowed=lambda role, side: True),
        )
    ],
    "council-bulletins": [
        page(
            signed_in(405),
            pk("term"),
            write=Write("council", allowed=staff_only, seen=lambda role, side: 404),
        )
    ],
    "jury": [page(scoped("council"), pk("cohort"))],
    "jury-issue": [
        page(
            signed_in(405),
            pk("cohort"),
            write=Write("council", allowed=staff_only, seen=lambda role, side: 404),
        )
    ],
    "placement-grids-send": [
        page(
            signed_in(405),
            lambda s, w: {"pk": s.open_grid.situation_id},
            write=Write("council", allowed=lambda role, side: role in ("staff", "trainer")),
        )
    ],
    "placement-grid-list": [
        page(
            only({"staff", "trainer", "partner_a", "partner_b"}),
            shows=("grid", lambda s: s.placement_grid.tutor_name),
        )
    ],
    # Filled, it is shown; open, the tutor (each side's partner) fills it, others see
    # where it stands.
    "placement-grid-detail": [
        page(scoped("grid"), pk(grid), variant=grid) for grid in ("placement_grid", "open_grid")
    ],
    "placement-grid-link": [page(everyone(200), lambda s, w: {"token": s.grid_token}, token=True)],
    "my-results": [page(only({"learner_a", "learner_b", "guardian_a"}))],
    "excuse-list": [page(only({"staff", "learner_a", "learner_b", "guardian_a"}))],
    "excuse-decide": [
        page(
            signed_in(405),
            pk("excuse_note"),
            write=Write("school", allowed=staff_only, seen=lambda role, side: 404),
        )
    ],
    "portfolio": [page(scoped("school"), pk("learner"))],
    "calendar-feed": [
        page(
            everyone(200),
            lambda s, w, who=who: {"token": getattr(s, who).get_calendar_token()},
            token=True,
            variant=who,
        )
        for who in ("learner_user", "partner")
    ],
    "calendar-rotate": [page(signed_in(405))],
    "offer-list": [page(signed_in(), shows=("offer_listed", lambda s: s.offer.title))],
    "offer-create": [page(only({"staff", "partner_a", "partner_b"}))],
    "offer-detail": [page(scoped("offer"), pk("offer"))],
    "offer-edit": [page(changeable("offer", own_company), pk("offer"))],
    "offer-publish": [page(everyone(405), pk("offer"), write=Write("offer", allowed=own_company))],
    "offer-apply": [
        page(
            everyone(405),
            pk("offer"),
            write=Write("offer", allowed=lambda role, side: role.startswith("learner")),
        )
    ],
    "application-list": [page(signed_in(), shows=("application", lambda s: s.offer.title))],
    "application-detail": [page(scoped("application"), pk("application"))],
    "application-decide": [
        page(
            everyone(405),
            lambda s, w: {"pk": s.application.pk, "decision": "review"},
            variant="review",
            write=Write("application", allowed=own_company),
        ),
        page(
            everyone(405),
            lambda s, w: {"pk": s.application.pk, "decision": "withdraw"},
            variant="withdraw",
            write=Write(
                "application", allowed=lambda role, side: role == f"learner_{side.lower()}"
            ),
        ),
    ],
    "placement-list": [page(signed_in(), shows=("placement", learner_name))],
    "placement-follow-up": [page(only({"staff"}))],
    "placement-detail": [page(scoped("placement"), pk("placement"))],
    "placement-edit": [
        page(
            changeable(
                "placement",
                lambda role, side: own_company(role, side) or (role == "trainer" and side == "A"),
            ),
            pk("placement"),
        )
    ],
    # The tutor's own form (the tutor of each side is its partner): to anyone else it
    # does not exist, even to who sees the placement (tests/internships/test_pages.py).
    "placement-evaluate": [
        page(
            lambda role, side: (
                LOGIN if role == "anonymous" else 200 if role == f"partner_{side.lower()}" else 404
            ),
            pk("placement"),
        )
    ],
    "placement-sign": [
        page(
            everyone(405),
            lambda s, w: {"pk": s.placement.pk, "signature_pk": s.signature.pk},
            # Whose block it is, is the signing rule's (a message); seeing comes first.
            write=Write("placement", allowed=lambda role, side: True),
        )
    ],
    "placement-action": [
        page(
            everyone(405),
            lambda s, w: {"pk": s.placement.pk, "action": "ready"},
            write=Write("placement", allowed=staff_only),
        )
    ],
    "sign-link": [page(everyone(200), lambda s, w: {"token": s.sign_token}, token=True)],
    "sign-link-pdf": [page(everyone(200), lambda s, w: {"token": s.sign_token}, token=True)],
    "evaluation-link": [
        page(everyone(200), lambda s, w: {"token": s.evaluation_token}, token=True)
    ],
    "schema": [page(signed_in(200, anonymous=200))],
    "swagger-ui": [page(signed_in(200, anonymous=200))],
    # --- the API ------------------------------------------------------------------------
    "api:api-root": [api(signed_in(anonymous=401))],
    "api:token": [api(everyone(405))],
    "api:logout": [api(signed_in(405, anonymous=401))],
    "api:me": [api(signed_in(anonymous=401))],
    "api:programme-list": [api_list("catalogue", "programme")],
    "api:programme-detail": [api_detail("catalogue", "programme")],
    "api:cohort-list": [api_list("school", "cohort", search=lambda s: s.cohort.name)],
    "api:cohort-detail": [api_detail("school", "cohort")],
    "api:learner-list": [api_list("school", "learner", search=learner_name)],
    "api:learner-detail": [api_detail("school", "learner")],
    "api:guardian-list": [api_list("school", "guardian", search=lambda s: s.guardian.first_name)],
    "api:guardian-detail": [api_detail("school", "guardian")],
    "api:enrolment-list": [api_list("school", "enrolment")],
    "api:enrolment-detail": [api_detail("school", "enrolment")],
    "api:document-list": [
        api_list("convention", "convention", lambda s: s.convention.number, "convention"),
        api_list("school", "booklet", lambda s: s.booklet.number, "booklet"),
        api_list("report", "report", lambda s: s.report.number, "report"),
    ],
    "api:document-detail": [
        api_detail("convention", "convention", variant="convention"),
        api_detail("school", "booklet", variant="booklet"),
        api_detail("report", "report", variant="report"),
    ],
    "api:document-pdf": [
        api(scoped("convention", anonymous=401), pk("convention"), variant="convention"),
        api(scoped("school", anonymous=401), pk("booklet"), variant="booklet"),
        api(scoped("report", anonymous=401), pk("report"), variant="report"),
    ],
    "api:document-reissue": [api_action("convention", "convention")],
    "api:document-revoke": [api_action("convention", "convention")],
    "api:document-batch-list": [api_list("staff", "batch")],
    "api:document-batch-detail": [api_detail("staff", "batch")],
    "api:company-list": [api_list("company", "company", search=company_name)],
    "api:company-detail": [api_detail("company", "company")],
    "api:contact-list": [api_list("company", "contact", search=lambda s: s.contact.last_name)],
    "api:contact-detail": [api_detail("company", "contact")],
    "api:competency-block-list": [api_list("catalogue", "block")],
    "api:competency-block-detail": [api_detail("catalogue", "block")],
    "api:competency-list": [api_list("catalogue", "competency")],
    "api:competency-detail": [api_detail("catalogue", "competency")],
    "api:course-list": [api_list("catalogue", "course")],
    "api:course-detail": [api_detail("catalogue", "course")],
    "api:room-list": [api_list("catalogue", "room")],
    "api:room-detail": [api_detail("catalogue", "room")],
    "api:machine-list": [api_list("catalogue", "machine")],
    "api:machine-detail": [api_detail("catalogue", "machine")],
    "api:closure-list": [api_list("catalogue", "closure")],
    "api:closure-detail": [api_detail("catalogue", "closure")],
    "api:session-list": [api_list("session", "session")],
    "api:session-detail": [api_detail("session", "session")],
    "api:session-cancel": [api_action("session", "session")],
    "api:session-validate-attendance": [api_action("session", "session")],
    "api:session-series-list": [api(signed_in(405, anonymous=401))],
    "api:attendance-list": [api_list("attendance", "attendance")],
    "api:attendance-detail": [api_detail("attendance", "attendance")],
    "api:attendance-hours": [
        api(
            scoped("school", anonymous=401),
            query=lambda s, w: {
                "learner": str(s.learner.pk),
                "start": "2026-09-01",
                "end": "2027-06-30",
            },
        )
    ],
    "api:attendance-sign": [api(signed_in(405, anonymous=401))],
    "api:derogation-list": [api_list("staff", "derogation")],
    "api:derogation-detail": [api_detail("staff", "derogation")],
    "api:medical-fitness-list": [api_list("staff", "medical_fitness")],
    "api:medical-fitness-detail": [api_detail("staff", "medical_fitness")],
    "api:safety-training-list": [api_list("staff", "safety_training")],
    "api:safety-training-detail": [api_detail("staff", "safety_training")],
    "api:my-schedule-list": [api_list("own_schedule", "session")],
    "api:term-list": [api_list("school", "term")],
    "api:term-detail": [api_detail("school", "term", write=None)],
    "api:ccf-unit-list": [api_list("catalogue", "ccf_unit")],
    "api:ccf-unit-detail": [api_detail("catalogue", "ccf_unit", write=None)],
    "api:situation-list": [api_list("school", "situation")],
    "api:situation-detail": [api_detail("school", "situation")],
    "api:situation-results": [
        api(
            scoped("school", anonymous=401),
            pk("situation"),
            write=Write("school", allowed=lambda role, side: True),
        )
    ],
    "api:situation-publish": [api_action("school", "situation")],
    "api:situation-lock": [api_action("school", "situation")],
    "api:situation-send-grids": [api_action("school", "situation")],
    "api:placement-grid-list": [api_list("grid", "placement_grid")],
    "api:placement-grid-detail": [api_detail("grid", "placement_grid", write=None)],
    "api:result-list": [api_list("school", "result")],
    "api:result-detail": [api_detail("school", "result", write=None)],
    "api:term-comment-list": [api_list("council", "term_comment")],
    "api:term-comment-detail": [api_detail("council", "term_comment", write=None)],
    "api:ccf-proposal-detail": [api(scoped("council", anonymous=401), pk("cohort"))],
    "api:excuse-note-list": [api_list("school", "excuse_note")],
    "api:excuse-note-detail": [api_detail("school", "excuse_note", write=None)],
    "api:excuse-note-accept": [api_action("school", "excuse_note")],
    "api:excuse-note-refuse": [api_action("school", "excuse_note")],
    "api:quote-list": [api_list("sales", "quote")],
    "api:quote-detail": [api_detail("sales", "quote", write=None)],
    **{
        f"api:quote-{action}": [api_action("sales", "quote")]
        for action in ("send", "accept", "refuse")
    },
    "api:delivery-note-list": [api_list("sales", "delivery_note")],
    "api:delivery-note-detail": [api_detail("sales", "delivery_note", write=None)],
    "api:delivery-note-sign": [api_action("sales", "delivery_note")],
    "api:invoice-list": [api_list("sales", "invoice")],
    "api:invoice-detail": [api_detail("sales", "invoice", write=None)],
    "api:invoice-credit": [api_action("sales", "invoice")],
    # The month's export is the accountant's: the office's alone.
    "api:invoice-export": [
        api(lambda role, side: 401 if role == "anonymous" else 200 if role == "staff" else 404)
    ],
    "api:invoice-journal": [
        api(lambda role, side: 401 if role == "anonymous" else 200 if role == "staff" else 404)
    ],
    "api:payment-list": [api_list("sales", "payment")],
    "api:payment-detail": [api_detail("sales", "payment", write=None)],
    "api:order-list": [api_list("order", "order", search=lambda s: s.order.description)],
    "api:order-detail": [api_detail("order", "order")],
    "api:order-drawing": [api(scoped("order", anonymous=401), pk("order"))],
    **{
        f"api:order-{action}": [api_action("order", "order")]
        for action in (
            "accept",
            "advance",
            "countersign",
            "decline",
            "inspection",
            "plan",
            "review",
        )
    },
    "api:time-log-list": [api_list("time_log", "time_log")],
    "api:time-log-detail": [api_detail("time_log", "time_log")],
    "api:evidence-list": [api_list("school", "evidence")],
    "api:evidence-detail": [api_detail("school", "evidence")],
    "api:portfolio-detail": [api_detail("school", "learner")],
    "api:offer-list": [api_list("offer", "offer", search=lambda s: s.offer.title)],
    "api:offer-detail": [api_detail("offer", "offer")],
    "api:offer-close": [api_action("offer", "offer")],
    "api:offer-publish": [api_action("offer", "offer")],
    "api:application-list": [api_list("application", "application")],
    "api:application-detail": [api_detail("application", "application")],
    **{
        f"api:application-{action}": [api_action("application", "application")]
        for action in ("accept", "reject", "review", "withdraw")
    },
    "api:placement-list": [api_list("placement", "placement")],
    "api:placement-detail": [api_detail("placement", "placement")],
    **{
        f"api:placement-{action}": [api_action("placement", "placement")]
        for action in (
            "amend",
            "cancel",
            "paper-signature",
            "ready",
            "request-evaluation",
            "sign",
        )
    },
    "api:visit-list": [api_list("visit", "visit")],
    "api:visit-detail": [api_detail("visit", "visit")],
}

# The admin: every ``admin:*`` URL under one rule (see test_the_admin_is_staff_only).
ADMIN_PREFIX = "admin:"
# Serving static or uploaded files is the web server's (WhiteNoise, the proxy), never
# a URL of ours; were one added, it would be named here and not tested.
EXCLUDED: set[str] = set()

# Known leaks and wrong answers, each a check that fails today, for the lead to fix in
# code this matrix may not change (models, serializers, API views):
# (test, URL name, variant, role, side) → why.
LEAKS: dict[tuple[str, str, str, str, str], str] = {}


# ---------------------------------------------------------------------------------------
# The URL configuration, walked
# ---------------------------------------------------------------------------------------


@dataclass
class Route:
    name: str
    routes: list[str]
    parameters: set[str]
    positional: int = 0  # unnamed groups of a regex route (simple_history's)


def _parameters(pattern: Any) -> set[str]:
    converters = getattr(pattern, "converters", None)
    if converters:
        return set(converters)
    return set(re.compile(str(pattern)).groupindex)


def walk_urlconf() -> tuple[dict[str, Route], list[str]]:
    """Every named URL pattern (``namespace:name``) with its routes and parameters, and
    the routes of the unnamed ones."""
    named: dict[str, Route] = {}
    unnamed: list[str] = []

    def walk(patterns: list[Any], prefix: str, namespace: str, parameters: set[str]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    inner,
                    parameters | _parameters(pattern.pattern),
                )
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if pattern.name is None:
                    unnamed.append(route)
                    continue
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found = named.setdefault(name, Route(name, [], set()))
                found.routes.append(route)
                # DRF's format suffix (".json") doubles each route: not a parameter to give.
                found.parameters |= (parameters | _parameters(pattern.pattern)) - {"format"}
                if not getattr(pattern.pattern, "converters", None):
                    regex = re.compile(str(pattern.pattern))
                    found.positional = max(found.positional, regex.groups - len(regex.groupindex))

    walk(get_resolver().url_patterns, "", "", set())
    return named, unnamed


URLCONF, UNNAMED = walk_urlconf()


def test_every_url_has_an_entry_in_the_matrix() -> None:
    in_urlconf = {name for name in URLCONF if not name.startswith(ADMIN_PREFIX)} - EXCLUDED
    missing = sorted(in_urlconf - set(MATRIX))
    stale = sorted(set(MATRIX) - in_urlconf)
    assert not missing, f"URLs without an entry in the authorisation matrix: {missing}"
    assert not stale, f"Entries of the matrix for URLs that no longer exist: {stale}"


def test_every_url_outside_the_admin_has_a_name() -> None:
    # The matrix finds URLs by name: an unnamed one would escape it. The admin's unnamed
    # routes (its old-style object redirect, its catch-all) only redirect to named ones.
    assert [route for route in UNNAMED if not route.startswith("admin/")] == []


def test_each_entry_gives_exactly_the_parameters_of_its_url(in_world: World) -> None:
    world = in_world
    wrong = []
    for name, cases in MATRIX.items():
        for case in cases:
            given = set(case.kwargs(world.a, world) if case.kwargs else ())
            if given != URLCONF[name].parameters:
                wrong.append((name, case.variant, sorted(given), sorted(URLCONF[name].parameters)))
    assert wrong == []


# ---------------------------------------------------------------------------------------
# The world: built once for the module, in a transaction rolled back at its end; each
# test runs in a savepoint of it (pytest-django's ``db``), so a write a test makes is
# undone before the next.
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    def build() -> World:
        built = build_world()
        built.sessions = _sign_in(built)
        return built

    yield from kept_for_the_module(django_db_blocker, NOW, build)


def _sign_in(world: World) -> dict[str, str]:
    """Each role's session key, signed in once for the module (the sessions live in its
    transaction; what a test writes in one is rolled back with the test)."""
    sessions = {}
    for role, user in world.users.items():
        if user is not None:
            client = Client()
            client.force_login(user)
            sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return sessions


@pytest.fixture
def in_world(world: World, db: None) -> World:
    return world


def client_for(world: World, role: str, use_api: bool) -> Any:
    """A client of the role: the API's authenticated by DRF, the site's with the role's
    session of the world (signed in once, second factor passed)."""
    user = world.users[role]
    if use_api:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client
    client = Client()
    if user is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def body_of(response: HttpResponse) -> str | None:
    """The text of an answer a person or a program reads; None for files."""
    content_type = response.get("Content-Type", "")
    if not content_type.startswith(("text/html", "application/json", "text/calendar")):
        return None
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return response.content.decode()


def check_status(response: HttpResponse, expected: Expected, where: str) -> None:
    status = response.status_code
    if expected == LOGIN:
        assert status == 302, f"{where}: {status}, expected a redirect to log in"
        assert response["Location"].startswith(reverse("login")), where
    elif expected == ADMIN_LOGIN:
        assert status == 302, f"{where}: {status}, expected a redirect to the admin's login"
        assert response["Location"].startswith(reverse("admin:login")), where
    elif isinstance(expected, tuple):
        assert status in expected, f"{where}: {status}, expected one of {expected}"
    else:
        assert status == expected, f"{where}: {status}, expected {expected}"


def check_markers(text: str | None, role: str, case: Case, side: str, where: str) -> None:
    """Nothing the role may not see, in any answer it gets."""
    if text is None:
        return
    found = text.casefold()
    if case.token:
        # Seen by whoever holds the link, if the role itself may not see the other side.
        other = "B" if side == "A" else "A"
        leaked = [m for m in markers_of(other) if role not in MARKERS[m] and m.casefold() in found]
        assert leaked == [], f"{where}: side {other}'s {leaked} in side {side}'s link"
        return
    leaked = [
        m for m, audience in MARKERS.items() if role not in audience and m.casefold() in found
    ]
    assert leaked == [], f"{where}: shows {leaked} to {role}"


def _cases(test: str) -> Iterator[Any]:
    """The parameters of one test: ``read`` (GET), ``write`` (a write on each side's
    object) or ``suffix`` (GET an API detail through its format suffix)."""
    writes = test == "write"
    for name, cases in MATRIX.items():
        for case in cases:
            if writes and case.write is None:
                continue
            if test == "suffix" and not (case.api and case.kwargs and name.endswith("-detail")):
                continue
            for role in ROLES:
                if writes and role == "anonymous":
                    continue
                for side in SIDES if case.has_object or writes else ("-",):
                    write = case.write
                    if (
                        writes
                        and write
                        and sees(write.kind, role, side)
                        and write.allowed(role, side)
                    ):
                        continue  # a write this role may make: not this matrix's business
                    label = f"{name}[{case.variant}]" if case.variant else name
                    reason = LEAKS.get((test, name, case.variant, role, side))
                    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                    yield pytest.param(
                        name, case, role, side, id=f"{label}-{role}-{side}", marks=marks
                    )


def url_of(name: str, case: Case, world: World, side: str) -> tuple[str, dict[str, str]]:
    s = world.sides[side] if side in SIDES else world.a
    url = reverse(name, kwargs=case.kwargs(s, world) if case.kwargs else None)
    return url, case.query(s, world) if case.query else {}


@pytest.mark.parametrize(("name", "case", "role", "side"), list(_cases("read")))
def test_a_role_gets_what_the_role_table_says(
    in_world: World, name: str, case: Case, role: str, side: str
) -> None:
    world = in_world
    url, query = url_of(name, case, world, side)
    client = client_for(world, role, case.api)
    where = f"GET {url} as {role}" + (f" (object of {side})" if side in SIDES else "")
    response = client.get(url, query)
    expected = case.expect(role, side if side in SIDES else "A")
    check_status(response, expected, where)
    check_markers(body_of(response), role, case, side, where)
    if response.status_code == 200 and (case.rows or case.shows):
        check_list(client, url, response, case, world, role)


@pytest.mark.parametrize(("name", "case", "role", "side"), list(_cases("suffix")))
def test_an_api_detail_answers_the_same_through_its_format_suffix(
    in_world: World, name: str, case: Case, role: str, side: str
) -> None:
    world = in_world
    assert case.kwargs is not None
    url = reverse(name, kwargs={**case.kwargs(world.sides[side], world), "format": "json"})
    response = client_for(world, role, use_api=True).get(url)
    where = f"GET {url} as {role} (object of {side})"
    check_status(response, case.expect(role, side), where)
    check_markers(body_of(response), role, case, side, where)


def check_list(
    client: Any, url: str, response: HttpResponse, case: Case, world: World, role: str
) -> None:
    """Each side's row is in the list for the roles that see it, and absent for the
    others — in the list and in the results of a search for its very name."""
    answers: list[tuple[str, HttpResponse, str, tuple[str, ...]]] = [("list", response, "", SIDES)]
    if case.search:
        for side in SIDES:
            term = case.search(world.sides[side])
            searched = client.get(url, {"search" if case.api else "q": term})
            assert searched.status_code == 200, f"GET {url}?search={term} as {role}"
            answers.append((f"search {term!r}", searched, term, (side,)))
    for what, answer, term, sides in answers:
        text = _without_echo(body_of(answer) or "", term)
        check_markers(text, role, case, "-", f"GET {url} ({what}) as {role}")
        for side in sides:
            s = world.sides[side]
            if case.rows:
                kind, row_id = case.rows
                ids = {row["id"] for row in answer.json()["results"]}
                seen = sees(kind, role, side)
                assert (row_id(s) in ids) == seen, (
                    f"{url} ({what}) as {role}: side {side}'s row {'missing' if seen else 'listed'}"
                )
            if case.shows:
                kind, word = case.shows
                seen = sees(kind, role, side)
                assert (word(s).casefold() in text.casefold()) == seen, (
                    f"{url} ({what}) as {role}: side {side}'s {word(s)!r} "
                    f"{'missing' if seen else 'shown'}"
                )


def _without_echo(text: str, term: str) -> str:
    """The page without the term typed, echoed in its search box and in the links back
    to itself (the language switch's ``next``): the term is not a result."""
    if not term:
        return text
    for echo in (
        f'value="{html.escape(term)}"',
        urlencode({"q": term}),
        urlencode({"search": term}),
    ):
        text = text.replace(echo, "")
    return text


@pytest.mark.parametrize(("name", "case", "role", "side"), list(_cases("write")))
def test_a_write_on_what_the_role_does_not_see_answers_404(
    in_world: World, name: str, case: Case, role: str, side: str
) -> None:
    world = in_world
    write = case.write
    assert write is not None
    url, _query = url_of(name, case, world, side)
    client = client_for(world, role, case.api)
    send = getattr(client, write.method)
    response = send(url, {}, format="json") if case.api else send(url, {})
    where = f"{write.method.upper()} {url} as {role} (object of {side})"
    if sees(write.kind, role, side):
        check_status(response, write.seen(role, side), where)
    elif case.api and write.method == "patch" and not _route_accepts(url, "patch"):
        # The route has no PATCH at all: 405 for every id alike, which tells nothing.
        check_status(response, 405, where)
    else:
        check_status(response, 404, where)
    check_markers(body_of(response), role, case, side, where)


def _route_accepts(url: str, method: str) -> bool:
    actions = getattr(resolve(url).func, "actions", {})
    return method in actions


# ---------------------------------------------------------------------------------------
# The admin: staff only, whatever the model; the others are sent to its login
# ---------------------------------------------------------------------------------------


def _admin_model(name: str) -> Any:
    """The model of an admin URL, read from its route (``admin/<app>/<model>/…``; the
    user admin names its password URL ``auth_user_…`` whatever the app), else None."""
    found = re.match(r"admin/(\w+)/(\w+)/", URLCONF[name].routes[0])
    if found is None:
        return None
    for model in admin.site._registry:
        if (model._meta.app_label, model._meta.model_name) == found.groups():
            return model
    return None


def admin_url(name: str, world: World) -> str:
    """The URL with the first row of its model (and that row's first past version); a
    model without rows (the database task backend's results) gets an id that is none."""
    model = _admin_model(name)
    instance = model._default_manager.order_by("pk").first() if model else None
    missing = 0
    route = URLCONF[name]
    if route.positional:  # simple_history's ``<object>/history/<version>/``, a regex
        version = model.history.order_by("history_id").first()
        return reverse(name, args=[version.instance.pk, version.history_id])
    kwargs: dict[str, Any] = {}
    for parameter in route.parameters:
        if parameter == "app_label":
            kwargs[parameter] = "school"
        elif parameter == "content_type_id":
            kwargs[parameter] = ContentType.objects.get_for_model(world.a.learner).pk
            kwargs["object_id"] = world.a.learner.pk
        elif parameter in ("object_id", "pk", "id") and "object_id" not in kwargs:
            kwargs[parameter] = instance.pk if instance else missing
    return reverse(name, kwargs=kwargs)


ADMIN_NAMES = sorted(name for name in URLCONF if name.startswith(ADMIN_PREFIX))
# The admin's queries where a view needs one to answer.
ADMIN_QUERIES: dict[str, dict[str, str]] = {
    "admin:autocomplete": {
        "app_label": "school",
        "model_name": "enrolment",
        "field_name": "learner",
        "term": NAMES["B"]["learner_last"][:5],
    },
}
# What the staff get where it is not a page: the admin's own exceptions to "200 or 302".
ADMIN_STAFF: dict[str, Expected] = {
    "admin:logout": 405,  # logging out is a POST
    "admin:view_on_site": 404,  # no model of ours has a public page of its own
    "admin:school_learner_process_import": 405,  # the import's second step is a POST
}


def staff_admin_expects(name: str, world: World) -> Expected:
    """200 or 302; 403 where the model's admin refuses that view to everyone (a record
    that is never added or deleted by hand: documents, orders, placements…)."""
    if name in ADMIN_STAFF:
        return ADMIN_STAFF[name]
    if name.endswith("_changelist"):
        return 200
    model = _admin_model(name)
    if model is not None and name.endswith(("_add", "_delete")):
        request = RequestFactory().get("/admin/")
        request.user = world.staff
        model_admin = admin.site._registry[model]
        allowed = (
            model_admin.has_add_permission(request)
            if name.endswith("_add")
            else model_admin.has_delete_permission(
                request, model._default_manager.order_by("pk").first()
            )
        )
        return 200 if allowed else 403
    return (200, 302)


@pytest.mark.parametrize("name", ADMIN_NAMES)
def test_the_admin_is_staff_only(in_world: World, name: str) -> None:
    world = in_world
    url = admin_url(name, world)
    query = ADMIN_QUERIES.get(name, {})
    for role in ROLES:
        client = client_for(world, role, use_api=False)
        if name.endswith("_delete"):
            # Django's delete confirmation lists the related rows one by one (their
            # __str__): the N+1 detector's business, not this matrix's.
            with zeal_ignore():
                response = client.get(url, query)
        else:
            response = client.get(url, query)
        where = f"GET {url} as {role}"
        if role == "staff":
            expected = staff_admin_expects(name, world)
        elif name == "admin:login":
            expected = 200  # the login form (« you are not authorised » when signed in)
        elif name == "admin:logout":
            expected = 302  # back to the admin's index, and from there to its login
        else:
            expected = ADMIN_LOGIN
        check_status(response, expected, where)
        if role != "staff":
            check_markers(body_of(response), role, PLAIN, "-", where)


# ---------------------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", SIDES)
def test_a_learner_s_personal_data_export_holds_nothing_of_another(
    in_world: World, side: str
) -> None:
    world = in_world
    other = "B" if side == "A" else "A"
    archive = zipfile.ZipFile(io.BytesIO(learner_export(world.sides[side].learner)))
    data = archive.read("donnees.json").decode()
    assert NAMES[side]["learner_last"] in data
    o = world.sides[other]
    for word in [
        *markers_of(other),
        o.learner.email,
        o.learner_user.email,
        o.guardian.email,
        o.convention.number,
        o.booklet.number,
    ]:
        assert word.casefold() not in data.casefold(), f"side {other}'s {word!r} in {side}'s export"
    assert not any(
        name.endswith((f"{o.convention.number}.pdf", f"{o.booklet.number}.pdf"))
        for name in archive.namelist()
    )
    assert json.loads(data)["learner_id"] == world.sides[side].learner.pk


def test_a_batch_zip_holds_its_own_cohort_only(in_world: World) -> None:
    world = in_world
    client = client_for(world, "staff", use_api=False)
    response = client.get(reverse("batch-zip", args=[world.a.batch.pk]))
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert any(world.a.booklet.number in name for name in names)
    assert not any(world.b.booklet.number in name for name in names)
