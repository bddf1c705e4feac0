"""Personal data (RGPD): a learner's right of access — everything the system holds
about them, as JSON, with the PDFs issued to them, in one ZIP — and the retention
policy: learners anonymised once their time is up, other data purged when it outlived
its use (``manage.py apply_retention``, daily; docs/privacy.md).

Each app adds what it holds about a learner through ``register_export`` (as with
``admin.site.register``): school the identity, guardians, enrolments and documents;
courses the émargement, competencies and workshop hours; internships the applications,
placements and signatures. Nothing about anyone else goes in. In the same way each app
erases its part of a learner (``register_anonymiser``), may keep a learner longer for a
legal reason (``register_retention_hold``) and names what else it purges
(``register_purge``).
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.files.storage import Storage
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from rest_framework.authtoken.models import Token
from simple_history.exceptions import NotHistoricalModelError
from simple_history.utils import get_history_model_for_model

from .models import (
    DocumentBatchItem,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Guardian,
    IssuedDocument,
    Learner,
    User,
)
from .registry import Registry

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)


@dataclass
class Export:
    """One app's part: JSON-able data by section, and files (name in the ZIP → bytes)."""

    sections: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


ExportPart = Callable[[Learner], Export]
_parts: Registry[ExportPart] = Registry()
register_export = _parts.register


def rows(queryset: models.QuerySet[Any], *fields: str) -> list[dict[str, Any]]:
    """The chosen fields of each row, as plain values (dates as ISO text)."""
    return [
        {name: _plain(value) for name, value in row.items()} for row in queryset.values(*fields)
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def school_part(learner: Learner) -> Export:
    documents = IssuedDocument.objects.issued().filter(learner=learner).order_by("issued_at")
    return Export(
        sections={
            "learner": rows(
                Learner.objects.filter(pk=learner.pk),
                "id",
                "first_name",
                "last_name",
                "birth_date",
                "email",
                "phone",
                "address",
                "postal_code",
                "city",
                "ine",
                "created_at",
                "user__email",
            ),
            "guardians": rows(
                Guardian.objects.filter(learner=learner),
                "rank",
                "relationship",
                "first_name",
                "last_name",
                "email",
                "phone",
                "address",
                "user__email",
            ),
            "enrolments": rows(
                learner.enrolments.all(),
                "cohort__name",
                "cohort__programme__title",
                "status",
                "start_date",
                "end_date",
            ),
            "documents": rows(
                documents, "number", "kind", "title", "subject", "status", "issued_at", "sha256"
            ),
        },
        # An anonymised learner's PDFs are deleted (they bear the name): the register keeps
        # their number and hash.
        files={
            f"documents/{document.number}.pdf": _read(document.file)
            for document in documents
            if document.file.name and document.file.storage.exists(document.file.name)
        },
    )


def _read(stored: Any) -> bytes:
    with stored.open("rb") as handle:
        return bytes(handle.read())


def learner_export(learner: Learner) -> bytes:
    """The ZIP of the right of access: ``donnees.json`` and the learner's documents."""
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "learner_id": learner.pk,
    }
    files: dict[str, bytes] = {}
    for part in [school_part, *_parts]:
        export = part(learner)
        data.update(export.sections)
        files.update(export.files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "donnees.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
        )
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# Retention: learners anonymised once their time is up, the rest purged when it outlived
# its use. The delays are settings.RETENTION_DAYS; docs/privacy.md says why each.
# ---------------------------------------------------------------------------------------

# Stored data, in the school's language like the documents it issues: the pseudonym
# « Apprenant anonymisé #42 », and what an erased text becomes where the database
# requires one (an excused absence's reason, a visit's notes…).
PSEUDONYM_FIRST_NAME = "Apprenant anonymisé"
ERASED = "(effacé)"
CHANGE_REASON = "Anonymisation (RGPD)"


def _days(category: str) -> datetime.timedelta:
    return datetime.timedelta(days=settings.RETENTION_DAYS[category])


def _with_history(model: type[models.Model], where: Q) -> list[QuerySet[Any]]:
    """The rows matching ``where``, then the copies django-simple-history keeps of rows
    (every version, those of deleted rows too) that matched it at the time. ``where``
    names fields and forward relations only, which the historical model has as well
    (the primary key as ``id``: a historical copy's ``pk`` is its own)."""
    rows = model._default_manager.filter(where)
    try:
        history = get_history_model_for_model(model)
    except NotHistoricalModelError:
        return [rows]
    return [rows, history._default_manager.filter(where)]


def erase(model: type[models.Model], where: Q, **values: Any) -> int:
    """Overwrite these fields of the rows matching ``where`` and of their historical
    copies, writing no new history (an erasure is not a change anyone audits); the rows."""
    rows, *copies = _with_history(model, where)
    for history in copies:
        history.update(**values)
    return rows.update(**values)


def delete_with_history(model: type[models.Model], where: Q) -> int:
    """Delete the rows matching ``where`` and every copy of them, the record of their
    deletion included; the rows deleted."""
    rows = model._default_manager.filter(where)
    count = rows.count()
    rows.delete()
    for history in _with_history(model, where)[1:]:
        history.delete()
    return count


@dataclass
class Anonymisation:
    """One learner being anonymised, as each app's part sees it: the pseudonym that
    replaces them, how they and their guardians were ever called (free texts may quote
    it), and the stored files to delete once every row is erased."""

    learner: Learner
    pseudonym: str
    # The learner's full names and e-mail addresses: theirs alone, replaced wherever
    # they appear.
    identities: list[str]
    # Their guardians' names and addresses, and given and family names alone: replaced
    # only in rows about this learner (a parent stays one for a younger pupil, a sibling
    # shares the family name, a classmate may share the given one).
    names: list[str]
    files: list[tuple[Storage, str]] = field(default_factory=list)

    def redact(self, text: str, *, names: bool = True) -> str:
        """``text`` with every mention of the learner or a guardian made the pseudonym."""
        for needle in self._needles(names):
            text = re.sub(
                rf"(?<!\w){re.escape(needle)}(?!\w)", self.pseudonym, text, flags=re.IGNORECASE
            )
        return text

    def redact_fields(
        self, model: type[models.Model], where: Q, *fields: str, names: bool = True
    ) -> int:
        """Redact these text fields of the rows matching ``where`` and of their history;
        the rows and copies changed."""
        needles = self._needles(names)
        if not needles:
            return 0
        mentions = Q()
        for name in fields:
            for needle in needles:
                mentions |= Q(**{f"{name}__icontains": needle})
        changed = 0
        for rows in _with_history(model, where):
            for row in rows.filter(mentions).values("pk", *fields):
                redacted = {name: self.redact(row[name], names=names) for name in fields}
                changed += rows.model._default_manager.filter(pk=row["pk"]).update(**redacted)
        return changed

    def redact_journal(self, model: type[models.Model], where: Q) -> int:
        """Redact the back office's journal entries about these objects: their labels may
        name a guardian (call it before the objects are deleted)."""
        ids = [str(pk) for pk in model._default_manager.filter(where).values_list("pk", flat=True)]
        about = Q(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
        return self.redact_fields(LogEntry, about, "object_repr", "change_message")

    def delete_file(self, stored: FieldFile) -> None:
        if stored.name:
            self.files.append((stored.storage, stored.name))

    def _needles(self, names: bool) -> list[str]:
        # Longest first: an e-mail address goes whole before the name it holds.
        return sorted({*self.identities, *(self.names if names else [])}, key=len, reverse=True)


Anonymiser = Callable[[Anonymisation], None]
_anonymisers: Registry[Anonymiser] = Registry()
register_anonymiser = _anonymisers.register


@dataclass(frozen=True)
class Hold:
    """A legal reason to keep learners past their own retention: on a given day, the
    ids of the learners it keeps (a ``values("learner")`` queryset)."""

    reason: StrOrPromise
    learners: Callable[[datetime.date], QuerySet[Any]]


_holds: Registry[Hold] = Registry()
register_retention_hold = _holds.register


@dataclass(frozen=True)
class Purge:
    """A category of data that outlives its use: at a given time, the rows due (a filter
    valid on the model and on its history, see ``erase``), and what becomes of them —
    these fields erased, or, without ``values``, the rows deleted. Once applied the rows
    are no longer due: a second run finds nothing."""

    label: StrOrPromise
    model: type[models.Model]
    due: Callable[[datetime.datetime], Q]
    values: dict[str, Any] | None = None

    def count(self, now: datetime.datetime) -> int:
        """The objects concerned, each counted once however many copies it has."""
        due = self.due(now)
        rows, *copies = _with_history(self.model, due)
        if not copies:
            return rows.count()
        return len({*rows.values_list("pk", flat=True), *copies[0].values_list("id", flat=True)})

    def apply(self, now: datetime.datetime) -> None:
        if self.values is None:
            delete_with_history(self.model, self.due(now))
        else:
            erase(self.model, self.due(now), **self.values)


_purges: Registry[Purge] = Registry()
register_purge = _purges.register


def _older_than(field: str, category: str) -> Callable[[datetime.datetime], Q]:
    return lambda now: Q(**{f"{field}__lt": now - _days(category)})


SCHOOL_PURGES = [
    Purge(
        _("sessions de connexion expirées"),
        Session,
        lambda now: Q(expire_date__lt=now),
    ),
    Purge(
        _("jetons d'API expirés"),
        Token,
        lambda now: Q(created__lt=now - datetime.timedelta(days=settings.API_TOKEN_DAYS)),
    ),
    Purge(
        _("tentatives de connexion (e-mail saisi, adresse IP, navigateur)"),
        AccessAttempt,
        _older_than("attempt_time", "access_logs"),
    ),
    Purge(_("journal des connexions"), AccessLog, _older_than("attempt_time", "access_logs")),
    Purge(
        _("journal des échecs de connexion"),
        AccessFailureLog,
        _older_than("attempt_time", "access_logs"),
    ),
    Purge(
        _("tâches terminées (destinataires et textes des courriels)"),
        DBTaskResult,
        lambda now: Q(
            status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
            finished_at__lt=now - _days("task_results"),
        ),
    ),
]


def learners_leaving(day: datetime.date) -> QuerySet[Learner]:
    """Learners whose own retention is over on ``day``, holds aside: not anonymised, no
    enrolment still open, the last one ended (withdrawn or graduated, with its date) more
    than RETENTION_DAYS["learner"] days ago — or never enrolled and created that long ago."""
    cutoff = day - _days("learner")
    enrolments = Enrolment.objects.filter(learner=OuterRef("pk"))
    still_counted = enrolments.filter(
        ~Q(status__in=Enrolment.FINAL) | Q(end_date__isnull=True) | Q(end_date__gt=cutoff)
    )
    created_before = timezone.make_aware(datetime.datetime.combine(cutoff, datetime.time.min))
    return (
        Learner.objects.filter(anonymised_at__isnull=True)
        .exclude(Exists(still_counted))
        .filter(Exists(enrolments) | Q(created_at__lt=created_before))
    )


def learners_due(day: datetime.date) -> QuerySet[Learner]:
    """Learners to anonymise on ``day``: their retention is over and nothing holds them."""
    due = learners_leaving(day)
    for hold in _holds:
        due = due.exclude(pk__in=hold.learners(day))
    return due


@transaction.atomic
def anonymise_learner(learner: Learner) -> bool:
    """Replace a learner's identity by a pseudonym and erase what could identify them or
    their guardians, in one transaction with the learner's row locked; False if already
    done. Every row a statistic counts stays (enrolments, émargement, evidence, time
    logs, placements, the register of documents with its numbers and hashes)."""
    learner = Learner.objects.select_for_update().get(pk=learner.pk)
    if learner.anonymised_at is not None:
        return False
    erasure = _anonymisation(learner)
    for part in _anonymisers:
        part(erasure)
    _anonymise_school_part(erasure)
    # Last, once every row is erased: a failure above rolls back with the files in place.
    for storage, name in erasure.files:
        storage.delete(name)
    return True


def _anonymisation(learner: Learner) -> Anonymisation:
    """The learner, with every spelling they and their guardians were ever known by
    (the history keeps the names they had before a correction)."""
    person = ("first_name", "last_name", "email")
    own = [
        *Learner.history.filter(id=learner.pk).values_list(*person),
        *User.objects.filter(learner=learner).values_list(*person),
    ]
    family = [
        *Guardian.history.filter(learner_id=learner.pk).values_list(*person),
        *User.objects.filter(guardianships__learner=learner).values_list(*person),
    ]
    alone = {name for first, last, _email in own + family for name in (first, last) if name}
    return Anonymisation(
        learner=learner,
        pseudonym=f"{PSEUDONYM_FIRST_NAME} #{learner.pk}",
        identities=sorted(_spellings(own)),
        names=sorted(_spellings(family) | alone),
    )


def _spellings(people: list[tuple[str, str, str]]) -> set[str]:
    """Full names, either way round, and e-mail addresses."""
    found: set[str] = set()
    for first_name, last_name, email in people:
        if first_name and last_name:
            found |= {f"{first_name} {last_name}", f"{last_name} {first_name}"}
        if email:
            found.add(email)
    return found


def _anonymise_school_part(erasure: Anonymisation) -> None:
    learner = erasure.learner
    erase(EnrolmentStatusChange, Q(enrolment__learner=learner) & ~Q(reason=""), reason=ERASED)
    erasure.redact_fields(DocumentBatchItem, Q(learner=learner), "error")
    # The register keeps each entry (number, kind, hash, status, dates): numbers stay
    # gap-free and the verification page answers; the PDFs, which bear the name, go.
    documents = Q(learner=learner)
    erasure.redact_fields(IssuedDocument, documents, "subject")
    for document in IssuedDocument.objects.filter(documents):
        erasure.delete_file(document.file)
    # The back office's journal names people in its entries' labels.
    erasure.redact_fields(LogEntry, Q(), "object_repr", "change_message", names=False)
    erasure.redact_journal(Learner, Q(pk=learner.pk))
    erasure.redact_journal(Guardian, Q(learner=learner))

    accounts = [
        account
        for account in [learner.user, *User.objects.filter(guardianships__learner=learner)]
        if account is not None
    ]
    delete_with_history(Guardian, Q(learner=learner))
    for account in accounts:
        # A parent of a younger pupil keeps their account: the other child is theirs.
        if not account.guardianships.exists():
            _close_account(account)

    Learner.history.filter(id=learner.pk).delete()
    learner.first_name = PSEUDONYM_FIRST_NAME
    learner.last_name = f"#{learner.pk}"
    # The year alone stays, for statistics by age (minors, age on entry).
    learner.birth_date = datetime.date(learner.birth_date.year, 1, 1)
    learner.email = learner.phone = learner.address = learner.postal_code = learner.city = ""
    learner.ine = ""
    learner.anonymised_at = timezone.now()
    learner._change_reason = CHANGE_REASON  # type: ignore[attr-defined]
    learner.save()


def _close_account(account: User) -> None:
    """Deactivate and scrub an account, and forget the login attempts made with it."""
    address = account.email
    account.email = f"anonymise-{account.pk}@anonymise.invalid"
    account.first_name = account.last_name = ""
    account.is_active = False
    account.calendar_token = None
    account.set_unusable_password()  # also ends its browser sessions (their hash changes)
    account.save()
    Token.objects.filter(user=account).delete()
    for device in devices_for_user(account, confirmed=None):
        device.delete()
    for attempts in (AccessAttempt, AccessLog, AccessFailureLog):
        attempts.objects.filter(username__iexact=address).delete()


@dataclass
class RetentionReport:
    day: datetime.date
    dry_run: bool
    due: list[int] = field(default_factory=list)  # learners to anonymise
    anonymised: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    held: list[tuple[StrOrPromise, int]] = field(default_factory=list)
    # Enrolments still open in a cohort that ended before the learners' retention: the
    # policy cannot start until the office closes them (withdrawn or graduated).
    left_open: int = 0
    purged: list[tuple[StrOrPromise, int]] = field(default_factory=list)


def retention_apply(
    *, now: datetime.datetime | None = None, dry_run: bool = False
) -> RetentionReport:
    """The night's run: purge each category of data whose time is up, then anonymise
    every learner due. One learner's failure is reported and does not stop the others;
    a dry run counts and changes nothing."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    report = RetentionReport(day=day, dry_run=dry_run)
    leaving = learners_leaving(day)
    report.held = [
        (hold.reason, leaving.filter(pk__in=hold.learners(day)).count()) for hold in _holds
    ]
    report.left_open = (
        Enrolment.objects.filter(
            status__in=[EnrolmentStatus.ACTIVE, EnrolmentStatus.SUSPENDED],
            cohort__end_date__lt=day - _days("learner"),
        )
        .values("learner")
        .distinct()
        .count()
    )
    # The purges first: what they erase is then counted the same with --dry-run or without.
    for purge in [*SCHOOL_PURGES, *_purges]:
        with transaction.atomic():
            count = purge.count(now)
            if count and not dry_run:
                purge.apply(now)
        report.purged.append((purge.label, count))
    report.due = list(learners_due(day).order_by("pk").values_list("pk", flat=True))
    for pk in [] if dry_run else report.due:
        try:
            # False: another run (another machine's cron) was first.
            if anonymise_learner(Learner(pk=pk)):
                report.anonymised.append(pk)
        except Exception as error:  # one learner's failure must not stop the night's run
            logger.exception("Anonymisation of learner %s failed", pk)
            report.failed.append((pk, str(error) or type(error).__name__))
    return report
