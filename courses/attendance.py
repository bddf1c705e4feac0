"""Attendance (émargement): the trainer's roll call, the learner's own signature, the
trainer's validation, and the hours that follow from them.

Hours are derived from the attendance lines, never typed: the attestation d'assiduité
and any report call ``hours_attended``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from itertools import groupby
from operator import attrgetter
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from school.db import save_checked
from school.models import Enrolment, Guardian, Learner, LearnerQuerySet, Role, User
from school.notifications import absolute_url, notify

from .models import (
    AbsenceNotice,
    Attendance,
    AttendanceStatus,
    Course,
    ExcuseNote,
    ExcuseStatus,
    Session,
    SessionQuerySet,
    SessionStatus,
)

# The émargement is signed per half-day (DESIGN.md); the afternoon starts at 13:00, Paris time.
AFTERNOON = datetime.time(13)

# The roll call cannot be filled in weeks ahead: it opens shortly before the session.
ROLL_CALL_OPENS = datetime.timedelta(minutes=30)

# Lateness still counts as time in the workshop; an absence, excused or not, does not.
ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)

GroupMember = Session.learners.through


def participants(session: Session) -> LearnerQuerySet:
    """Who takes part in a session: its group if it has one, else the cohort's learners
    in training (a suspended or departed learner is not on the roll call)."""
    return _participants(session.pk, session.cohort_id)


def sessions_of(learner: Learner) -> SessionQuerySet:
    """The sessions ``learner`` is among the ``participants`` of: the rule above, asked
    of each session from inside it (each lookup an index's, for the few sessions of a
    half-day this is used for)."""
    takes_part = _participants(OuterRef(OuterRef("pk")), OuterRef(OuterRef("cohort_id")))
    return Session.objects.filter(Exists(takes_part.filter(pk=learner.pk)))


def _participants(session: Any, cohort: Any) -> LearnerQuerySet:
    """``participants`` of a session given by its id and its cohort's, which may be
    references to an outer query's columns."""
    group = GroupMember.objects.filter(session_id=session)
    in_training = Enrolment.objects.active().filter(cohort_id=cohort)
    return Learner.objects.filter(
        Q(pk__in=group.values("learner_id"))
        | (~Exists(group) & Q(pk__in=in_training.values("learner_id")))
    )


def roll_call_sessions(user: User) -> SessionQuerySet:
    """The sessions whose roll call ``user`` may take: their own, or all for the staff."""
    if user.role == Role.STAFF:
        return Session.objects.all()
    if user.role == Role.TRAINER:
        return Session.objects.filter(trainer=user)
    return Session.objects.none()


def _check_roll_call(session: Session, by: User) -> None:
    if not roll_call_sessions(by).filter(pk=session.pk).exists():
        raise PermissionDenied(
            _("Seuls le formateur de la séance et l'équipe de l'école font l'émargement.")
        )
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError(_("Cette séance est annulée : elle n'a pas d'émargement."))


@transaction.atomic
def attendance_mark(
    *, session: Session, learner: Learner, status: str, reason: str = "", by: User
) -> Attendance:
    """Record a learner's presence at a session, as the trainer sees it.

    A change after the trainer validated the roll call stays possible: like every
    change, it is kept in the line's history with its author, before and after.
    """
    _check_roll_call(session, by)
    # Lock the session: the trainer's tap and the learner's first signature may create
    # the same line at once; the second waits instead of failing on the constraint.
    session = Session.objects.select_for_update().get(pk=session.pk)
    if timezone.now() < session.start - ROLL_CALL_OPENS:
        raise ValidationError(
            _("L'émargement ouvre %(minutes)d minutes avant le début de la séance.")
            % {"minutes": ROLL_CALL_OPENS.seconds // 60}
        )
    if status not in AttendanceStatus.values:
        raise ValidationError({"status": _("Choisissez présent, en retard, absent ou excusé.")})
    if not participants(session).filter(pk=learner.pk).exists():
        raise ValidationError(
            _("%(learner)s ne participe pas à cette séance.") % {"learner": learner}
        )
    # Lock the line: the trainer's tap and the learner's signature may land together.
    attendance = Attendance.objects.select_for_update().filter(
        session=session, learner=learner
    ).first() or Attendance(session=session, learner=learner)
    if status == AttendanceStatus.ABSENT:
        # The family excused the day beforehand and the school accepted it.
        excuse = accepted_excuse(learner, session)
        if excuse is not None:
            status, reason = AttendanceStatus.EXCUSED, excuse.reason
    attendance.status = status
    # A motif explains a lateness or an absence; a presence has none to keep.
    attendance.reason = "" if status == AttendanceStatus.PRESENT else reason.strip()
    attendance.recorded_by = by
    attendance.recorded_at = timezone.now()
    attendance.full_clean()
    # The request middleware names the author of a page's change; a script or the
    # shell has no request, and the history must still say who.
    attendance._history_user = by  # type: ignore[attr-defined]
    save_checked(attendance)
    if status == AttendanceStatus.ABSENT:
        absence_noticed(attendance)
    return attendance


def accepted_excuse(learner: Learner, session: Session) -> ExcuseNote | None:
    """The accepted excuse note covering the session's day, if any."""
    day = timezone.localdate(session.start)
    return (
        ExcuseNote.objects.filter(
            learner=learner,
            status=ExcuseStatus.ACCEPTED,
            first_day__lte=day,
            last_day__gte=day,
        )
        .order_by("-decided_at")
        .first()
    )


@transaction.atomic
def attendance_excuse(line: Attendance, *, reason: str, by: User) -> Attendance:
    """An unexcused absence excused afterwards (an accepted note): the line changes, with
    its history, even if the learner has left the cohort since — they were there then."""
    line = Attendance.objects.select_for_update().get(pk=line.pk)
    if line.status != AttendanceStatus.ABSENT:
        return line
    line.status = AttendanceStatus.EXCUSED
    line.reason = reason.strip()
    line.recorded_by = by
    line.recorded_at = timezone.now()
    line._history_user = by  # type: ignore[attr-defined]
    save_checked(line)
    return line


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The start of a day at the school, Paris time, whatever the offset that day."""
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=timezone.get_default_timezone())


def half_day(at: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """The morning (before 13:00) or the afternoon, Paris time, that ``at`` falls in."""
    paris = timezone.get_default_timezone()
    day = timezone.localtime(at, paris).date()
    afternoon = datetime.datetime.combine(day, AFTERNOON, tzinfo=paris)
    if at < afternoon:
        return local_midnight(day), afternoon
    return afternoon, local_midnight(day + datetime.timedelta(days=1))


@transaction.atomic
def attendance_sign(*, learner: Learner, at: datetime.datetime | None = None) -> list[Attendance]:
    """The learner signs their presence for the current half-day, from their phone.

    Only while one of their sessions runs: a signature says « I was there », so it
    cannot be given from home the evening before. It covers every session of the
    half-day, as the paper sheet had one line per half-day.
    """
    now = at or timezone.now()
    start, end = half_day(now)
    sessions = list(
        sessions_of(learner).exclude(status=SessionStatus.CANCELLED).between(start, end)
    )
    if not any(session.start <= now < session.end for session in sessions):
        raise ValidationError(
            _("Aucune séance en cours : la signature est possible pendant la séance.")
        )
    # Same lock order as the roll call (sessions, then lines): no deadlock, no lost line.
    list(Session.objects.select_for_update().filter(pk__in=[s.pk for s in sessions]).order_by("pk"))
    lines = {
        line.session_id: line
        for line in Attendance.objects.select_for_update().filter(
            learner=learner, session__in=sessions
        )
    }
    signed = []
    for session in sessions:
        line = lines.get(session.pk) or Attendance(session=session, learner=learner)
        # The signature says « I was there »; the status stays the trainer's to record,
        # so a signature can never stand in for the roll call.
        if line.signed_at is None:
            line.signed_at = now
        line._history_user = learner.user  # type: ignore[attr-defined]
        save_checked(line)
        signed.append(line)
    return signed


@transaction.atomic
def attendance_validate(*, session: Session, by: User) -> Session:
    """The trainer closes the roll call: every learner taking part has a status."""
    _check_roll_call(session, by)
    session = Session.objects.select_for_update().get(pk=session.pk)
    if timezone.now() < session.start:
        raise ValidationError(_("Une séance qui n'a pas commencé ne peut pas être validée."))
    if session.is_attendance_validated:
        raise ValidationError(_("L'émargement de cette séance est déjà validé."))
    recorded = Attendance.objects.filter(session=session).exclude(status="")
    missing = [
        learner.full_name
        for learner in participants(session)
        .exclude(pk__in=recorded.values("learner_id"))
        .order_by("last_name", "first_name")
    ]
    if missing:
        raise ValidationError(
            ngettext(
                "Présence non relevée pour %(names)s : l'émargement ne peut pas être validé.",
                "Présences non relevées pour %(names)s : l'émargement ne peut pas être validé.",
                len(missing),
            )
            % {"names": ", ".join(missing)}
        )
    session.attendance_validated_at = timezone.now()
    session.attendance_validated_by = by
    session.status = SessionStatus.DONE
    # Not ``updated_at``: closing the roll call changes nothing a calendar shows.
    session.save(update_fields=["attendance_validated_at", "attendance_validated_by", "status"])
    return session


@dataclass(frozen=True)
class Hours:
    """A learner's hours over a period, in hours (two decimals)."""

    scheduled: Decimal
    attended: Decimal  # present or late
    justified_absence: Decimal  # excused
    unjustified_absence: Decimal  # absent

    @property
    def unrecorded(self) -> Decimal:
        """Scheduled hours with no status yet (a roll call not taken)."""
        return self.scheduled - self.attended - self.justified_absence - self.unjustified_absence


def _hours(duration: datetime.timedelta | None) -> Decimal:
    seconds = Decimal((duration or datetime.timedelta()).total_seconds())
    return (seconds / 3600).quantize(Decimal("0.01"))


# What each figure of Hours adds up: the durations of the sessions, by the learner's
# line in the émargement. Totals are summed as durations and rounded once, at the end.
_FIGURES: dict[str, Q] = {
    "scheduled": Q(),
    "attended": Q(line__status__in=ATTENDED),
    "justified_absence": Q(line__status=AttendanceStatus.EXCUSED),
    "unjustified_absence": Q(line__status=AttendanceStatus.ABSENT),
}
_Durations = Mapping[str, datetime.timedelta | None]


def _to_hours(durations: _Durations) -> Hours:
    return Hours(**{figure: _hours(durations[figure]) for figure in _FIGURES})


def _durations_by_learner(
    learners: Sequence[int], *, start: datetime.date | None, end: datetime.date | None
) -> dict[int, dict[int, _Durations]]:
    """The query behind every count of hours: for each learner, their non-cancelled
    sessions starting between ``start`` and ``end`` (local days, both included), their
    durations summed by course and by the learner's line in the émargement.

    Which sessions are a learner's is ``Session.objects.attended_by``'s rule, read here
    for many learners at once, in one query whatever their number: the sessions of
    their groups, and their cohorts' whole-class sessions on the days they were
    enrolled (a learner is enrolled once in a cohort: one row per learner and session).
    """

    def counted(prefix: str) -> Q:
        # Joined, not a subquery: a period of two years is most of the network's sessions.
        kept = ~Q(**{f"{prefix}status": SessionStatus.CANCELLED})
        if start is not None:
            kept &= Q(**{f"{prefix}start__gte": local_midnight(start)})
        if end is not None:
            kept &= Q(**{f"{prefix}start__lt": local_midnight(end + datetime.timedelta(days=1))})
        return kept

    def figures(prefix: str) -> dict[str, Sum]:
        duration = ExpressionWrapper(
            F(f"{prefix}end") - F(f"{prefix}start"), output_field=DurationField()
        )
        return {figure: Sum(duration, filter=only) for figure, only in _FIGURES.items()}

    in_groups = (
        GroupMember.objects.filter(counted("session__"), learner_id__in=learners)
        .annotate(
            line=FilteredRelation(
                "session__attendances", condition=Q(session__attendances__learner=F("learner"))
            )
        )
        .values(enrolled=F("learner_id"), course_id=F("session__course_id"))
        .annotate(**figures("session__"))
        .order_by()
    )
    day = TruncDate("start", tzinfo=timezone.get_default_timezone())
    whole_class = (
        Session.objects.filter(counted(""))
        .alias(day=day)
        .filter(~Exists(GroupMember.objects.filter(session_id=OuterRef("pk"))))
        .filter(
            Q(cohort__enrolments__learner_id__in=learners),
            Q(cohort__enrolments__start_date__lte=F("day")),
            Q(cohort__enrolments__end_date__isnull=True)
            | Q(cohort__enrolments__end_date__gte=F("day")),
        )
        .annotate(enrolled=F("cohort__enrolments__learner_id"))
        .annotate(
            line=FilteredRelation("attendances", condition=Q(attendances__learner=F("enrolled")))
        )
        .values("enrolled", "course_id")
        .annotate(**figures(""))
        .order_by()
    )
    found: dict[int, dict[int, _Durations]] = defaultdict(dict)
    # A session has a group or has none: a learner's course may come from both sides of
    # the union, and then its durations add up.
    for row in in_groups.union(whole_class, all=True):
        by_course = found[row["enrolled"]]
        previous = by_course.get(row["course_id"])
        # (The figures are annotations spread from _FIGURES: the stubs cannot name them.)
        figures_of = {figure: cast(Any, row)[figure] for figure in _FIGURES}
        by_course[row["course_id"]] = (
            figures_of
            if previous is None
            else {f: _add(previous[f], figures_of[f]) for f in _FIGURES}
        )
    return found


def _add(
    one: datetime.timedelta | None, other: datetime.timedelta | None
) -> datetime.timedelta | None:
    return other if one is None else one if other is None else one + other


@dataclass(frozen=True)
class HoursReport:
    total: Hours
    by_course: dict[int, Hours]  # course id → hours, for the courses with a session


def hours_report(
    *, learner: Learner, start: datetime.date | None = None, end: datetime.date | None = None
) -> HoursReport:
    """A learner's hours from the émargement, in all and course by course.

    For an attestation, pass the enrolment's dates: a cohort's sessions after a learner
    left it are not theirs.
    """
    return hours_reports([learner.pk], start=start, end=end)[learner.pk]


def hours_reports(
    learners: Sequence[int], *, start: datetime.date | None = None, end: datetime.date | None = None
) -> dict[int, HoursReport]:
    """``hours_report`` of each of these learners (ids) over one period, in one query:
    a class's attestations issued in a batch read their hours together."""
    found = _durations_by_learner(learners, start=start, end=end)
    return {learner: _report(found.get(learner, {})) for learner in learners}


def _report(by_course: Mapping[int, _Durations]) -> HoursReport:
    total = {
        figure: sum(
            (durations[figure] or datetime.timedelta() for durations in by_course.values()),
            datetime.timedelta(),
        )
        for figure in _FIGURES
    }
    return HoursReport(
        total=_to_hours(total),
        by_course={course: _to_hours(durations) for course, durations in by_course.items()},
    )


def hours_attended(
    *,
    learner: Learner,
    course: Course | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Hours:
    """A learner's hours from the émargement, in one query (see ``hours_report``):
    scheduled, attended (present or late), absences justified and unjustified."""
    report = hours_report(learner=learner, start=start, end=end)
    if course is None:
        return report.total
    return report.by_course.get(course.pk, _to_hours(dict.fromkeys(_FIGURES)))


@dataclass(frozen=True)
class Change:
    """One change of an attendance line after the roll call was validated."""

    learner: Learner
    by: User | None
    at: datetime.datetime
    before: str
    after: str


def _described(line: Attendance) -> str:
    label = str(line.get_status_display()) if line.status else "—"
    return f"{label} ({line.reason})" if line.reason else label


def changes_after_validation(session: Session) -> list[Change]:
    """What changed in the roll call once validated, newest first, from the history.

    One query: each historical row is compared with the previous one of its line.
    A signature alone is no change of the roll call and is left out.
    """
    if session.attendance_validated_at is None:
        return []
    records = (
        Attendance.history.filter(session_id=session.pk)
        .select_related("history_user", "learner")
        .order_by("id", "history_date", "history_id")
    )
    changes = []
    for _line, versions in groupby(records, key=attrgetter("id")):
        before: Any = None  # historical rows: a model simple-history builds at run time
        for after in versions:
            if after.history_date >= session.attendance_validated_at and (
                before is None or (before.status, before.reason) != (after.status, after.reason)
            ):
                changes.append(
                    Change(
                        learner=after.learner,
                        by=after.history_user,
                        at=after.history_date,
                        before=_described(before) if before is not None else "—",
                        after=_described(after),
                    )
                )
            before = after
    return sorted(changes, key=lambda change: change.at, reverse=True)


# ---------------------------------------------------------------------------------------
# The guardians' notice of an unexcused absence: one message per guardian per half-day.
# ---------------------------------------------------------------------------------------


def _guardian_address(guardian: Guardian) -> str:
    return guardian.email or (guardian.user.email if guardian.user else "")


def absence_noticed(attendance: Attendance) -> None:
    """Called when a line becomes « absent »: each guardian of a minor learner gets a
    notice for that half-day, sent at its end (one, however many sessions missed)."""
    session = attendance.session
    learner = attendance.learner
    if not learner.is_minor_on(timezone.localdate(session.start)):
        return
    start, end = half_day(session.start)
    for guardian in learner.guardians.select_related("user"):
        if not _guardian_address(guardian):
            continue
        notice, created = AbsenceNotice.objects.get_or_create(guardian=guardian, half_day=start)
        if created:
            transaction.on_commit(partial(_enqueue, notice.pk, end))


def _enqueue(notice_id: int, end: datetime.datetime) -> None:
    # The worker sends it when the half-day is over, so that a morning's absences come
    # together; a backend that cannot wait (the immediate one, in development) sends now.
    job = send_absence_notice
    if job.get_backend().supports_defer:
        job = job.using(run_after=max(end, timezone.now()))
    job.enqueue(notice_id)


@task()
def send_absence_notice(notice_id: int) -> None:
    with transaction.atomic():
        notice = (
            AbsenceNotice.objects.select_for_update(of=("self",))
            .select_related("guardian__learner", "guardian__user")
            .filter(pk=notice_id, sent_at__isnull=True)
            .first()
        )
        if notice is None:
            return
        start, end = half_day(notice.half_day)
        # Read when sending: a line corrected to « présent » or excused since is not told.
        missed = list(
            Attendance.objects.filter(
                learner=notice.guardian.learner,
                status=AttendanceStatus.ABSENT,
                session__start__gte=start,
                session__start__lt=end,
            )
            .select_related("session__course")
            .order_by("session__start")
        )
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
        if missed:
            _tell(notice.guardian, missed)


def _tell(guardian: Guardian, missed: list[Attendance]) -> None:
    learner = guardian.learner
    lines = "\n".join(
        f"- {timezone.localtime(line.session.start):%d/%m/%Y %H:%M} : {line.session.course}"
        for line in missed
    )
    notify(
        [_guardian_address(guardian)],
        _("Absence de %(learner)s") % {"learner": learner},
        _(
            "Bonjour,\n\n%(learner)s a été noté(e) absent(e), sans justificatif, à :\n"
            "%(lines)s\n\nVous pouvez envoyer un justificatif depuis votre espace "
            "(motif et, si vous le souhaitez, un document scanné) : %(url)s\n"
        )
        % {"learner": learner, "lines": lines, "url": absolute_url(reverse("excuse-list"))},
    )
