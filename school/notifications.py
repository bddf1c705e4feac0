"""E-mails to the people a change concerns, sent by a background task.

``notify`` is called inside the write's transaction and enqueues on commit: a rolled
back write sends nothing, and a slow mail server never holds a request (with the
database backend, a ``db_worker`` sends; the immediate backend sends at commit).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django_tasks import task


@task()
def send_notification(subject: str, body: str, recipients: list[str]) -> None:
    # One message per recipient: a pupil never sees the tutor's or a parent's address.
    for recipient in recipients:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])


def absolute_url(path: str) -> str:
    """A path of the site as an e-mail's reader follows it."""
    return settings.SITE_URL.rstrip("/") + path


def notify(recipients: Iterable[str], subject: str, body: str) -> None:
    to = sorted({address for address in recipients if address})
    if to:
        transaction.on_commit(lambda: send_notification.enqueue(subject, body, to))
