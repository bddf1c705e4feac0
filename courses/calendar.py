"""Personal live calendars: a user's sessions as an iCalendar feed (RFC 5545) at a
secret URL that calendar clients poll, and the button that replaces that URL."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count, Manager, Max, Sum
from django.db.models.functions import Greatest
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from icalendar.parser import Contentline

from school.http import AuthenticatedRequest
from school.middleware import NO_STORE
from school.models import Cohort, Learner, Role, User
from school.registry import Registry

from .models import Course, Room, Session, SessionQuerySet, SessionStatus

# What a subscriber sees: the recent past (to look back on) and the year ahead.
PAST_DAYS = 60
FUTURE_DAYS = 365
REFRESH = datetime.timedelta(hours=1)
# A rendered feed stays in the cache for a day: its window moves at midnight anyway.
FEED_CACHE_SECONDS = 24 * 3600
# RFC 5545 asks to fold content lines longer than 75 octets.
FOLD_AT = 75
# What an event shows of its session; the rest of the row is never read.
EVENT_FIELDS = (
    "course", "room", "trainer", "cohort", "start", "end", "status", "sequence",
    "created_at", "updated_at",
)  # fmt: skip


def _names(objects: Manager[Any], ids: set[int], field: str) -> dict[int, str]:
    return dict(objects.filter(pk__in=ids).values_list("pk", field))


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


@dataclass(frozen=True)
class Window:
    """The whole local days a feed covers as seen on ``today``: by itself a feed changes
    once a day at most, so its ETag holds until midnight."""

    today: datetime.date

    @property
    def first_day(self) -> datetime.date:
        return self.today - datetime.timedelta(days=PAST_DAYS)

    @property
    def last_day(self) -> datetime.date:
        return self.today + datetime.timedelta(days=FUTURE_DAYS)

    @property
    def start(self) -> datetime.datetime:
        return _midnight(self.first_day)

    @property
    def end(self) -> datetime.datetime:
        return _midnight(self.last_day + datetime.timedelta(days=1))


@dataclass(frozen=True)
class Related:
    """What a feed's sessions refer to, by id, each fetched once: a handful of courses,
    rooms and trainers recur across a year of sessions, and building them into every
    row cost as much as the rest of the feed."""

    courses: dict[int, str]
    rooms: dict[int, str]
    trainers: dict[int, str]
    cohorts: dict[int, str]
    machines: dict[int, list[str]]
    # For a guardian of several children: whose session it is.
    children: dict[int, list[str]]


@dataclass(frozen=True)
class AllDayEvent:
    """A period a higher app puts in a feed (internships: a placement), whole days."""

    uid: str
    summary: str
    first_day: datetime.date
    last_day: datetime.date  # included
    location: str
    description: str
    changed_at: datetime.datetime


# What higher apps add to a person's feed, registered from their AppConfig.ready()
# (courses may not import them): each gives the user's events within the window.
FeedSource = Callable[[User, "Window"], list[AllDayEvent]]
_feed_sources: Registry[FeedSource] = Registry()
register_feed_source = _feed_sources.register


@dataclass(frozen=True)
class Feed:
    """Whose calendar this is and which sessions it holds, before anything is rendered."""

    user: User
    window: Window
    sessions: SessionQuerySet
    children: list[Learner]
    periods: list[AllDayEvent]

    @classmethod
    def of(cls, user: User, window: Window) -> Feed:
        children: list[Learner] = []
        sessions = Session.objects.none()
        if user.role == Role.LEARNER:
            learner = getattr(user, "learner", None)  # an account not yet linked to a pupil
            if learner is not None:
                sessions = Session.objects.attended_by(learner)
        elif user.role == Role.TRAINER:
            sessions = Session.objects.filter(trainer=user)
        elif user.role == Role.GUARDIAN:
            children = list(Learner.objects.visible_to(user).order_by("first_name", "pk"))
            sessions = Session.objects.visible_to(user)
        periods = [event for source in _feed_sources for event in source(user, window)]
        return cls(user, window, sessions.between(window.start, window.end), children, periods)

    def validators(self) -> tuple[str, datetime.datetime]:
        """The feed's ETag and Last-Modified, from one aggregate query and no rendering.

        Editing or cancelling a session moves its ``updated_at`` and ``sequence``; the
        count and the sum of ids move when a session joins or leaves the feed unedited
        (deleted, or a learner moved between groups, which touches no session row); the
        window moves daily as old sessions leave the feed.
        """
        state = self.sessions.aggregate(
            last=Max("updated_at"),
            count=Count("pk"),
            ids=Sum("pk"),
            sequences=Sum("sequence"),
            # What an event prints from its course and room (title, location).
            renamed=Greatest(Max("course__updated_at"), Max("room__updated_at")),
        )
        parts = [
            self.user.pk,
            self.user.calendar_token,
            self.user.get_full_name(),
            *(f"{child.pk}:{child.first_name}" for child in self.children),
            self.window.today,
            *state.values(),
            *(f"{e.uid}:{e.first_day}:{e.last_day}:{e.changed_at}" for e in self.periods),
        ]
        etag = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]
        # A client that sends only If-Modified-Since must still fetch the feed again
        # once the window has moved, at midnight.
        opened = _midnight(self.window.today)
        changed = max(
            filter(None, (state["last"], state["renamed"], *(e.changed_at for e in self.periods))),
            default=opened,
        )
        return quote_etag(etag), max(changed, opened)

    def render(self) -> bytes:
        # One URL serves every client a person subscribes with, each sending its own
        # Accept-Language: the feed speaks the school's language, not the poller's.
        with translation.override(settings.LANGUAGE_CODE):
            lines = [*self._head(), *self._events(), "END:VCALENDAR"]
        return ("\r\n".join(lines) + "\r\n").encode()

    def _head(self) -> list[str]:
        zone = timezone.get_default_timezone()
        refresh = icalendar.vDuration(REFRESH).to_ical().decode()
        vtimezone = icalendar.Timezone.from_tzid(
            zone.key, first_date=self.window.first_day, last_date=self.window.last_day
        )
        return [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//MetalTech//Agenda//FR",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            _text("X-WR-CALNAME", _("MétalTech — %(name)s") % {"name": self.user}),
            _text("X-WR-TIMEZONE", zone.key),
            f"REFRESH-INTERVAL;VALUE=DURATION:{refresh}",
            f"X-PUBLISHED-TTL:{refresh}",
            vtimezone.to_ical().decode().rstrip("\r\n"),
        ]

    def _events(self) -> Iterable[str]:
        sessions = list(self.sessions.only(*EVENT_FIELDS))
        trainers = User.objects.in_bulk({session.trainer_id for session in sessions})
        related = Related(
            courses=_names(Course.objects, {session.course_id for session in sessions}, "title"),
            rooms=_names(Room.objects, {session.room_id for session in sessions}, "name"),
            trainers={pk: str(trainer) for pk, trainer in trainers.items()},
            cohorts=_names(Cohort.objects, {session.cohort_id for session in sessions}, "name"),
            machines=self._machines(),
            children=self._children_by_session(),
        )
        zone = timezone.get_default_timezone()
        for session in sessions:
            yield from _event(session, related, zone)
        for period in self.periods:
            yield from _all_day(period)

    def _machines(self) -> dict[int, list[str]]:
        machines: dict[int, list[str]] = {}
        rows = (
            Session.machines.through.objects.filter(session__in=self.sessions.values("pk"))
            .order_by("machine__name")
            .values_list("session_id", "machine__name")
        )
        for session_id, name in rows:
            machines.setdefault(session_id, []).append(name)
        return machines

    def _children_by_session(self) -> dict[int, list[str]]:
        """Which children each session is for: one query per child, none for one child."""
        if len(self.children) < 2:
            return {}
        names: dict[int, list[str]] = {}
        for child in self.children:
            sessions = Session.objects.attended_by(child).between(
                self.window.start, self.window.end
            )
            for pk in sessions.values_list("pk", flat=True):
                names.setdefault(pk, []).append(child.first_name)
        return names


# icalendar's generic serializer costs ~0.15 ms an event (it infers every value's type
# and folds every line character by character): a year of sessions would take most of
# the time budget. Events are therefore written line by line, still with icalendar's
# value types for escaping and formatting and its folding for the rare long line.


def _fold(line: str) -> str:
    if len(line.encode()) < FOLD_AT:
        return line
    return Contentline(line).to_ical().decode()


def _text(name: str, value: str) -> str:
    return _fold(f"{name}:{icalendar.vText(value).to_ical().decode()}")


def _utc(name: str, moment: datetime.datetime) -> str:
    return f"{name}:{icalendar.vDatetime(moment.astimezone(datetime.UTC)).to_ical().decode()}"


def _local(name: str, moment: datetime.datetime, zone: ZoneInfo) -> str:
    # Wall-clock time with its zone: a session at 8 h stays at 8 h across DST changes.
    local = icalendar.vDatetime(moment.astimezone(zone)).to_ical().decode()
    return f"{name};TZID={zone.key}:{local}"


def _event(session: Session, related: Related, zone: ZoneInfo) -> list[str]:
    title = related.courses[session.course_id]
    if children := related.children.get(session.pk):
        title = f"{title} ({', '.join(children)})"
    cancelled = session.status == SessionStatus.CANCELLED
    if cancelled:
        # STATUS:CANCELLED alone is not shown by every client; the title says it too.
        title = _("Annulée : %(title)s") % {"title": title}
    details = [
        _("Formateur : %(name)s") % {"name": related.trainers[session.trainer_id]},
        _("Promotion : %(name)s") % {"name": related.cohorts[session.cohort_id]},
    ]
    if machines := related.machines.get(session.pk):
        details.append(_("Machines : %(names)s") % {"names": ", ".join(machines)})
    return [
        "BEGIN:VEVENT",
        f"UID:session-{session.pk}@{settings.SITE_DOMAIN}",
        # Stamped with the last change rather than the request time: an unchanged
        # session renders the same bytes at every poll.
        _utc("DTSTAMP", session.updated_at),
        _local("DTSTART", session.start, zone),
        _local("DTEND", session.end, zone),
        _text("SUMMARY", title),
        _text("LOCATION", related.rooms[session.room_id]),
        _text("DESCRIPTION", "\n".join(details)),
        f"SEQUENCE:{session.sequence}",
        _utc("CREATED", session.created_at),
        _utc("LAST-MODIFIED", session.updated_at),
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "END:VEVENT",
    ]


def _all_day(event: AllDayEvent) -> list[str]:
    # DTEND of an all-day event is the day after the last (RFC 5545, 3.6.1).
    after = event.last_day + datetime.timedelta(days=1)
    return [
        "BEGIN:VEVENT",
        f"UID:{event.uid}@{settings.SITE_DOMAIN}",
        _utc("DTSTAMP", event.changed_at),
        f"DTSTART;VALUE=DATE:{event.first_day:%Y%m%d}",
        f"DTEND;VALUE=DATE:{after:%Y%m%d}",
        _text("SUMMARY", event.summary),
        _text("LOCATION", event.location),
        _text("DESCRIPTION", event.description),
        _utc("LAST-MODIFIED", event.changed_at),
        # A period does not make its days busy: the hours are the company's schedule.
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def _with_validators(
    response: HttpResponse, etag: str, last_modified: datetime.datetime
) -> HttpResponse:
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified.timestamp())
    # A 304 carries no type for the middleware to recognise: say it here too.
    response["Cache-Control"] = NO_STORE
    return response


def _rendered(calendar: Feed, etag: str) -> bytes:
    """The feed's body, rendered once per state of its data and kept in the cache (Redis
    when configured, shared by every web node). The ETag sums up everything the body
    prints, so a key holding it never serves a stale feed: any change makes a new key,
    and the old body simply expires."""
    key = f"calendar-feed:{calendar.user.pk}:{etag.strip(chr(34))}"
    body = cache.get(key)
    if body is None:
        body = calendar.render()
        cache.set(key, body, FEED_CACHE_SECONDS)
    return body


@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """A user's sessions for calendar clients. No login: the token in the URL is the
    credential, and an unknown or rotated one learns nothing but 404."""
    owner = (
        User.objects.select_related("learner").filter(calendar_token=token, is_active=True).first()
    )
    if owner is None:
        raise Http404
    calendar = Feed.of(owner, Window(timezone.localdate(timezone=timezone.get_default_timezone())))
    etag, last_modified = calendar.validators()
    # Answered before rendering: most polls find nothing new and cost one aggregate.
    response = get_conditional_response(
        request, etag=etag, last_modified=int(last_modified.timestamp())
    )
    if response is None:
        response = HttpResponse(
            _rendered(calendar, etag), content_type="text/calendar; charset=utf-8"
        )
        response["Content-Disposition"] = 'inline; filename="metaltech.ics"'
    return _with_validators(response, etag, last_modified)


@login_required
@require_POST
def rotate(request: AuthenticatedRequest) -> HttpResponseRedirect:
    """Replace the user's feed URL, e.g. after sharing it by mistake."""
    request.user.rotate_calendar_token()
    messages.success(request, _("Nouveau lien d'agenda créé : l'ancien ne fonctionne plus."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return HttpResponseRedirect(target)
