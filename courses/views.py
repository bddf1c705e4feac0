"""The school's week on screen: week timetables, the roll call, the learner's signature,
the staff's list of machine authorisations running out; the workshop's orders and the
learner's competency portfolio."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from school.http import AuthenticatedRequest, attempt, valid_or_told
from school.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    IssuedDocument,
    Learner,
    Role,
    User,
)
from school.pagination import status_page_of
from school.portal import Section

from . import absences, orders
from .attendance import (
    ROLL_CALL_OPENS,
    attendance_mark,
    attendance_sign,
    attendance_validate,
    changes_after_validation,
    local_midnight,
    participants,
    roll_call_sessions,
)
from .forms import AcceptForm, DeclineForm, InspectionForm, OrderForm, PlanForm, TimeLogForm
from .models import (
    Attendance,
    AttendanceStatus,
    ExcuseNote,
    ExcuseStatus,
    Inspection,
    OrderStatus,
    Room,
    Session,
    SessionQuerySet,
    SessionStatus,
    TimeLog,
    WorkshopOrder,
    order_sections,
    sees_prices,
)
from .portfolio import portfolio_of
from .rhythm import attendance_by_week, competency_coverage, rhythm_of
from .scheduling import learners_with_cover_expiring

TEACHING_TEAM = (Role.STAFF, Role.TRAINER)
# Two months' notice: time enough to book the doctor or renew the declaration.
COVER_NOTICE_DAYS = 60


class HtmxRequest(AuthenticatedRequest):
    """A signed-in request, with what ``HtmxMiddleware`` read from its htmx headers."""

    htmx: HtmxDetails


@dataclass(frozen=True)
class Day:
    date: datetime.date
    sessions: list[Session]


def _monday(request: AuthenticatedRequest) -> datetime.date:
    """The Monday of the week asked for by ``?semaine=`` (any day of it), else this week's."""
    try:
        day = datetime.date.fromisoformat(request.GET.get("semaine", ""))
    except ValueError:
        day = timezone.localdate()
    if day.year in (datetime.MINYEAR, datetime.MAXYEAR):  # no week before or after to link to
        day = timezone.localdate()
    return day - datetime.timedelta(days=day.weekday())


def _link(request: AuthenticatedRequest, **params: str) -> str:
    """This page's query string with ``params`` replaced: the week and the child travel together."""
    query = request.GET.copy()
    for key, value in params.items():
        query[key] = value
    return f"?{query.urlencode()}"


def _week(request: AuthenticatedRequest, sessions: SessionQuerySet) -> dict[str, Any]:
    """The week grid: Monday to Friday, and a weekend day when something happens on it.

    The bounds are local midnights, so a week that changes clocks (last Sunday of March
    or October) is 167 or 169 hours long and still holds exactly its own sessions.
    """
    monday = _monday(request)
    listed = list(
        sessions.between(local_midnight(monday), local_midnight(monday + datetime.timedelta(7)))
        .select_related("course", "cohort", "room", "trainer")
        .prefetch_related("learners", "machines")
        .order_by("start", "pk")
    )
    by_day: dict[datetime.date, list[Session]] = defaultdict(list)
    for session in listed:
        by_day[timezone.localtime(session.start).date()].append(session)
    dates = [monday + datetime.timedelta(days=n) for n in range(7)]
    now = timezone.now()
    return {
        "monday": monday,
        "sunday": dates[-1],
        "days": [Day(day, by_day[day]) for n, day in enumerate(dates) if n < 5 or by_day[day]],
        "previous_week": _link(request, semaine=(monday - datetime.timedelta(7)).isoformat()),
        "next_week": _link(request, semaine=(monday + datetime.timedelta(7)).isoformat()),
        "this_week": _link(request, semaine=timezone.localdate().isoformat()),
        "running": [
            session
            for session in listed
            if session.start <= now < session.end and session.status != SessionStatus.CANCELLED
        ],
    }


def _chooser() -> dict[str, Any]:
    """Every timetable the teaching team may open (DESIGN.md: trainers see all of them)."""
    return {
        "cohorts": Cohort.objects.order_by("-start_date", "name"),
        "trainers": User.objects.filter(role=Role.TRAINER, is_active=True),
        "rooms": Room.objects.all(),
    }


@login_required
def my_week(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    if user.role == Role.STAFF:
        return render(request, "courses/week_chooser.html", _chooser())
    if user.role == Role.TRAINER:
        context = _week(request, Session.objects.filter(trainer=user))
        context.update(_chooser(), kind="formateur", title=_("Mon emploi du temps"))
        return _own_week(request, context)
    if user.role == Role.LEARNER:
        learner = get_object_or_404(Learner, user=user)
        context = _week(request, Session.objects.attended_by(learner))
        signed_ids = set(
            Attendance.objects.filter(
                learner=learner,
                session__in=[session for day in context["days"] for session in day.sessions],
                signed_at__isnull=False,
            ).values_list("session_id", flat=True)
        )
        context.update(
            kind="apprenant",
            title=_("Mon emploi du temps"),
            signed_ids=signed_ids,
            # The « Je suis présent(e) » button, while a running session awaits the signature.
            to_sign=[session for session in context["running"] if session.pk not in signed_ids],
        )
        return _own_week(request, context)
    if user.role == Role.GUARDIAN:
        children = list(Learner.objects.visible_to(user).order_by("birth_date", "pk"))
        if not children:
            raise Http404
        # The eldest child by default; a parent of several picks with ``?apprenant=``.
        child = next(
            (c for c in children if str(c.pk) == request.GET.get("apprenant")), children[0]
        )
        context = _week(request, Session.objects.attended_by(child))
        context.update(
            kind="apprenant",
            title=_("Emploi du temps de %(learner)s") % {"learner": child.full_name},
            children=[(c, _link(request, apprenant=str(c.pk))) for c in children],
            child=child,
        )
        return _own_week(request, context)
    raise Http404


def _own_week(request: AuthenticatedRequest, context: dict[str, Any]) -> HttpResponse:
    """The user's own week, with their personal calendar link to subscribe to."""
    context["calendar_url"] = request.user.get_calendar_url(request)
    return render(request, "courses/week.html", context)


@login_required
def week(request: AuthenticatedRequest, kind: str, pk: int) -> HttpResponse:
    user = request.user
    sessions: SessionQuerySet
    learners = Learner.objects.none()
    if kind == "apprenant":
        # A trainer sees the learners they teach, a learner themself, a parent their child.
        learner = get_object_or_404(Learner.objects.visible_to(user), pk=pk)
        title = _("Emploi du temps de %(learner)s") % {"learner": learner.full_name}
        sessions = Session.objects.attended_by(learner)
    elif user.role not in TEACHING_TEAM:
        raise Http404
    elif kind == "formateur":
        trainer = get_object_or_404(User, role=Role.TRAINER, pk=pk)
        title = _("Emploi du temps de %(trainer)s") % {"trainer": trainer}
        sessions = Session.objects.filter(trainer=trainer)
    elif kind == "promotion":
        cohort = get_object_or_404(Cohort, pk=pk)
        title = _("Emploi du temps de la promotion %(cohort)s") % {"cohort": cohort}
        sessions = Session.objects.filter(cohort=cohort)
        # A way to each learner's week, for those the viewer may see (a trainer: taught).
        learners = Learner.objects.visible_to(user).filter(
            pk__in=Enrolment.objects.active().filter(cohort=cohort).values("learner")
        )
    elif kind == "salle":
        room = get_object_or_404(Room, pk=pk)
        title = _("Emploi du temps de la salle %(room)s") % {"room": room}
        sessions = Session.objects.filter(room=room)
    else:
        raise Http404
    context = _week(request, sessions)
    context.update(kind=kind, title=title, learners=learners.order_by("last_name", "first_name"))
    return render(request, "courses/week.html", context)


@dataclass(frozen=True)
class Row:
    """One learner on the roll call, with their line if one was recorded."""

    learner: Learner
    attendance: Attendance | None
    error: str = ""


def _roll_call_session(request: AuthenticatedRequest, pk: int) -> Session:
    return get_object_or_404(
        roll_call_sessions(request.user).select_related(
            "course", "cohort", "room", "trainer", "attendance_validated_by"
        ),
        pk=pk,
    )


@login_required
def roll_call(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    session = _roll_call_session(request, pk)
    lines = {line.learner_id: line for line in session.attendances.all()}
    rows = [
        Row(learner, lines.get(learner.pk))
        for learner in participants(session).order_by("last_name", "first_name")
    ]
    return render(
        request,
        "courses/roll_call.html",
        {
            "session": session,
            "rows": rows,
            "statuses": AttendanceStatus.choices,
            "changes": changes_after_validation(session),
        },
    )


@login_required
@require_POST
def mark_attendance(request: HtmxRequest, pk: int, learner_pk: int) -> HttpResponse:
    session = _roll_call_session(request, pk)
    learner = get_object_or_404(participants(session), pk=learner_pk)
    error = ""
    try:
        attendance_mark(
            session=session,
            learner=learner,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
            by=request.user,
        )
    except ValidationError as refusal:
        error = " ".join(refusal.messages)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("roll-call", pk=session.pk)
    # A refusal comes back in the row, with a 200: htmx swaps only successful answers.
    row = Row(learner, session.attendances.filter(learner=learner).first(), error)
    return render(
        request,
        "courses/_roll_call_row.html",
        {
            "session": session,
            "row": row,
            "statuses": AttendanceStatus.choices,
            # After validation the history block grows too (swapped out of band).
            "changes": changes_after_validation(session),
            "out_of_band": True,
        },
    )


@login_required
@require_POST
def validate_attendance(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    session = _roll_call_session(request, pk)
    try:
        attendance_validate(session=session, by=request.user)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(request, _("Émargement validé."))
    return redirect("roll-call", pk=session.pk)


@login_required
@require_POST
def sign_presence(request: AuthenticatedRequest) -> HttpResponse:
    learner = get_object_or_404(Learner, user=request.user, user__role=Role.LEARNER)
    try:
        signed = attendance_sign(learner=learner)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(
            request,
            _("Présence signée à %(time)s.")
            % {"time": f"{timezone.localtime(signed[0].signed_at):%H:%M}"},
        )
    return redirect("my-week")


@login_required
def cover_expiring(request: AuthenticatedRequest) -> HttpResponse:
    if request.user.role != Role.STAFF:
        raise Http404
    return render(
        request,
        "courses/cover_expiring.html",
        {
            "rows": learners_with_cover_expiring(within_days=COVER_NOTICE_DAYS),
            "within_days": COVER_NOTICE_DAYS,
        },
    )


# ---------------------------------------------------------------------------------------
# Workshop orders (« faire pour apprendre ») and the learner's portfolio
# ---------------------------------------------------------------------------------------


@login_required
def order_list(request: AuthenticatedRequest) -> HttpResponse:
    found = (
        WorkshopOrder.objects.visible_to(request.user)
        .select_related("company", "supervisor")
        .order_by("-created_at", "-pk")
    )
    return render(
        request,
        "courses/order_list.html",
        {
            **status_page_of(request, found, OrderStatus),
            "may_order": request.user.role in (Role.STAFF, Role.PARTNER),
        },
    )


@login_required
def order_create(request: AuthenticatedRequest) -> HttpResponse:
    if request.user.role not in (Role.STAFF, Role.PARTNER):
        raise Http404
    form = OrderForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        placed: list[WorkshopOrder] = []
        if attempt(
            request,
            lambda: placed.append(orders.order_place(by=request.user, **data)),
            _("Commande déposée : l'école l'étudie et vous répond."),
        ):
            return redirect("order-detail", placed[0].pk)
    return render(request, "courses/order_form.html", {"form": form})


def _order(request: AuthenticatedRequest, pk: int) -> WorkshopOrder:
    return get_object_or_404(
        WorkshopOrder.objects.visible_to(request.user).select_related(
            "company", "supervisor", "inspection__document"
        ),
        pk=pk,
    )


@login_required
def order_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)
    user = request.user
    inspection = getattr(order, "inspection", None)
    report_visible = (
        inspection is not None
        and inspection.document is not None
        and IssuedDocument.objects.visible_to(user).filter(pk=inspection.document.pk).exists()
    )
    may_log = order.status in (OrderStatus.PLANNED, OrderStatus.IN_PRODUCTION) and (
        user.role in TEACHING_TEAM or order.learners.filter(user=user).exists()
    )
    logs = TimeLog.objects.visible_to(user).filter(order=order)
    if user.role == Role.TRAINER and order.supervisor_id != user.pk:
        # Every order is open to the teaching team, its learners' names are not: a
        # trainer reads the hours of the learners they teach, its supervisor all of them.
        logs = logs.filter(learner__in=Learner.objects.visible_to(user))
    return render(
        request,
        "courses/order_detail.html",
        {
            "order": order,
            "events": order.events.select_related("by"),
            "logs": logs.select_related("learner", "session__course", "machine"),
            "inspection": inspection,
            "report": inspection.report() if inspection else None,
            "report_visible": report_visible,
            "moves": [
                (status, OrderStatus(status).label)
                for status in order.next_statuses()
                if order.may_move(status, user)
                and status not in (OrderStatus.ACCEPTED, OrderStatus.DECLINED, OrderStatus.PLANNED)
            ],
            "is_staff": user.role == Role.STAFF,
            "sees_prices": sees_prices(user),
            # What the apps above add to the page (billing: the quote, deliveries, invoices).
            "sections": [html for section in order_sections if (html := section(request, order))],
            "accept_form": AcceptForm(),
            "decline_form": DeclineForm(),
            "plan_form": PlanForm(order=order) if user.role == Role.STAFF else None,
            "log_form": TimeLogForm(order=order) if may_log else None,
            "own_learner": Learner.objects.filter(user=user).first(),
            "inspection_form": InspectionForm()
            if order.status == OrderStatus.QUALITY_CONTROL and user.role in TEACHING_TEAM
            else None,
        },
    )


@login_required
@require_POST
def order_action(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    order = _order(request, pk)
    user = request.user
    # The customer and a parent see the order; moving it is the school's.
    if user.role not in (*TEACHING_TEAM, Role.LEARNER):
        raise PermissionDenied
    if action == "review":
        attempt(request, lambda: orders.order_review(order, by=user), _("Commande étudiée."))
    elif action == "accept":
        accept = AcceptForm(request.POST)
        if valid_or_told(request, accept):
            attempt(
                request,
                lambda: orders.order_accept(order, by=user, **accept.cleaned_data),
                _("Commande acceptée : le client est prévenu."),
            )
    elif action == "decline":
        decline = DeclineForm(request.POST)
        reason = decline.cleaned_data["reason"] if decline.is_valid() else ""
        attempt(
            request,
            lambda: orders.order_decline(order, by=user, reason=reason),
            _("Commande déclinée : le client est prévenu."),
        )
    elif action == "plan":
        plan = PlanForm(request.POST, order=order)
        if valid_or_told(request, plan):
            data = plan.cleaned_data
            attempt(
                request,
                lambda: orders.order_plan(
                    order,
                    by=user,
                    sessions=list(data["sessions"]),
                    learners=list(data["learners"]),
                    # The page's boxes start unticked: none ticked keeps the order's.
                    competencies=list(data["competencies"]) or None,
                ),
                _("Commande planifiée."),
            )
    elif action == "log":
        log = TimeLogForm(request.POST, order=order)
        if valid_or_told(request, log):
            attempt(
                request,
                lambda: orders.time_log_record(order=order, by=user, **log.cleaned_data),
                _("Temps enregistré."),
            )
    elif action == "inspection":
        inspection = InspectionForm(request.POST)
        if valid_or_told(request, inspection):
            attempt(
                request,
                lambda: orders.inspection_record(
                    order=order,
                    by=user,
                    characteristics=inspection.cleaned_data["lines"],
                    notes=inspection.cleaned_data["notes"],
                ),
                _("Mesures enregistrées."),
            )
    elif action == "countersign":
        found = Inspection.objects.filter(order=order).first()
        if found is None:
            raise Http404
        attempt(
            request,
            lambda: orders.inspection_countersign(found, by=user),
            _("Rapport contresigné et émis."),
        )
    elif action in OrderStatus.values:
        attempt(
            request,
            lambda: orders.order_advance(order, to=action, by=user),
            _("Commande : %(status)s.") % {"status": OrderStatus(action).label},
        )
    else:
        raise Http404
    return redirect("order-detail", pk)


@login_required
def portfolio(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    learner = get_object_or_404(Learner.objects.visible_to(request.user), pk=pk)
    return render(request, "courses/portfolio.html", {"portfolio": portfolio_of(learner)})


def learner_section(request: AuthenticatedRequest, learner: Learner) -> Section:
    """On the learner's page: their rhythm of learning and their competencies."""
    book = portfolio_of(learner)
    return Section(
        "courses/_learner_section.html",
        {
            "learner": learner,
            "portfolio": book,
            "rhythm": rhythm_of(Learner.objects.filter(pk=learner.pk), book.programme),
        },
    )


def cohort_section(request: AuthenticatedRequest, cohort: Cohort) -> Section:
    """On the cohort's page: its rhythm of learning, per learner in training."""
    learners = Learner.objects.filter(
        enrolments__cohort=cohort, enrolments__status=EnrolmentStatus.ACTIVE
    )
    return Section(
        "courses/_cohort_section.html",
        {
            "rhythm": rhythm_of(learners, cohort.programme),
            "weeks": attendance_by_week(cohort),
            "coverage": competency_coverage(cohort, learners),
        },
    )


ACTIVE_ORDER_STATUSES = (
    OrderStatus.ACCEPTED,
    OrderStatus.PLANNED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.QUALITY_CONTROL,
)


def today_section(request: AuthenticatedRequest) -> Section | None:
    """On the home page: what the day holds for this user in the timetable and the
    workshop. A fixed handful of queries whatever the school's size."""
    user = request.user
    today = timezone.localdate()
    day = (local_midnight(today), local_midnight(today + datetime.timedelta(days=1)))
    monday = today - datetime.timedelta(days=today.weekday())
    week = (local_midnight(monday), local_midnight(monday + datetime.timedelta(days=7)))
    listed = Session.objects.select_related("course", "cohort", "room").order_by("start", "pk")
    context: dict[str, Any] = {"role": user.role, "today": today}
    if user.role in TEACHING_TEAM:
        mine = listed if user.role == Role.STAFF else listed.filter(trainer=user)
        context["sessions_today"] = (
            mine.between(*day)
            .annotate(lines=Count("attendances", filter=~Q(attendances__status="")))
            .select_related("trainer")
        )
        orders_qs = WorkshopOrder.objects.filter(status__in=ACTIVE_ORDER_STATUSES).select_related(
            "company"
        )
        if user.role == Role.TRAINER:
            context["sessions_week"] = mine.between(*week)
            context["orders"] = orders_qs.filter(supervisor=user).order_by("planned_end")[:10]
        else:
            context["orders"] = orders_qs.filter(
                Q(requested_date__lte=today + datetime.timedelta(days=7))
                | Q(planned_end__lte=today + datetime.timedelta(days=7))
            ).order_by("requested_date")[:10]
            context["absences"] = (
                Attendance.objects.filter(
                    status=AttendanceStatus.ABSENT,
                    session__start__gte=local_midnight(today - datetime.timedelta(days=14)),
                    # Bounded by the roll calls open now: the newest are then read from
                    # now backwards, not from the last session planned next summer.
                    session__start__lte=timezone.now() + ROLL_CALL_OPENS,
                )
                .select_related("learner", "session__course")
                .order_by("-session__start")[:10]
            )
            context["covers_expiring"] = len(
                learners_with_cover_expiring(within_days=COVER_NOTICE_DAYS)
            )
    elif user.role in (Role.LEARNER, Role.GUARDIAN):
        learners = Learner.objects.visible_to(user)
        # One query for all the children: the sessions any of them takes part in.
        context["sessions_week"] = list(
            Session.objects.visible_to(user)
            .between(*week)
            .select_related("course", "cohort", "room")
            .order_by("start", "pk")
        )
        context["calendar_url"] = user.get_calendar_url(request)
        context["calendar_qr"] = segno.make(context["calendar_url"], error="m").svg_inline(
            scale=3, dark="#2f3b45", title=_("QR code du lien d'agenda")
        )
        context["documents"] = IssuedDocument.objects.visible_to(user).order_by("-issued_at")[:5]
        context["portfolios"] = [portfolio_of(learner) for learner in learners[:3]]
        if user.role == Role.LEARNER:
            running = [s for s in context["sessions_week"] if s.start <= timezone.now() < s.end]
            signed = set(
                Attendance.objects.filter(
                    learner__user=user, session__in=running, signed_at__isnull=False
                ).values_list("session_id", flat=True)
            )
            context["to_sign"] = [s for s in running if s.pk not in signed]
    elif user.role == Role.PARTNER:
        context["orders"] = (
            WorkshopOrder.objects.visible_to(user)
            .exclude(status=OrderStatus.CLOSED)
            .select_related("company")
            .order_by("-created_at")[:10]
        )
    else:
        return None
    return Section("courses/today_section.html", context)


# ---------------------------------------------------------------------------------------
# Absences: the family's excuse notes, the staff's answers
# ---------------------------------------------------------------------------------------


@login_required
def excuse_list(request: AuthenticatedRequest) -> HttpResponse:
    """A family sends an excuse note and follows it; the staff answer the waiting ones."""
    user = request.user
    if user.role not in (Role.STAFF, Role.GUARDIAN, Role.LEARNER):
        raise Http404
    learners = list(Learner.objects.visible_to(user).order_by("last_name", "first_name"))
    if request.method == "POST":
        if user.role == Role.STAFF:
            raise Http404
        learner = next(
            (one for one in learners if str(one.pk) == request.POST.get("learner")), None
        )
        if learner is None:
            raise Http404
        first, last = (_day(request.POST.get(name, "")) for name in ("first_day", "last_day"))
        if first is None or last is None:
            messages.error(request, _("Indiquez les jours d'absence (JJ/MM/AAAA)."))
        elif attempt(
            request,
            lambda: absences.excuse_send(
                learner=learner,
                first_day=first,
                last_day=last,
                reason=request.POST.get("reason", ""),
                scan=request.FILES.get("scan"),
                by=user,
            ),
            _("Justificatif envoyé : l'école vous répondra."),
        ):
            return redirect("excuse-list")
    notes = (
        ExcuseNote.objects.visible_to(user).select_related("learner").order_by("-sent_at", "-pk")
    )
    if user.role == Role.STAFF:
        notes = notes.filter(status=ExcuseStatus.PENDING)
    return render(
        request,
        "courses/excuses.html",
        {
            "notes": notes[:100],
            # A guardian's learners are their children, whom they may excuse; a learner
            # sees themselves, and excuses themselves once an adult.
            "learners": []
            if user.role == Role.STAFF
            else learners
            if user.role == Role.GUARDIAN
            else [one for one in learners if absences.may_excuse(user, one)],
            "is_staff": user.role == Role.STAFF,
        },
    )


def _day(text: str) -> datetime.date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


@login_required
@require_POST
def excuse_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    if request.user.role != Role.STAFF:
        raise Http404
    note = get_object_or_404(ExcuseNote, pk=pk)
    accept = request.POST.get("decision") == "accept"
    attempt(
        request,
        lambda: absences.excuse_decide(
            note=note,
            accept=accept,
            by=request.user,
            decision_note=request.POST.get("decision_note", ""),
        ),
        _("Justificatif accepté : les absences de ces jours sont excusées.")
        if accept
        else _("Justificatif refusé : la famille en est informée."),
    )
    return redirect("excuse-list")
