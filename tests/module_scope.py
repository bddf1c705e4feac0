"""Expensive rows built once for a module instead of once per test.

A module-scoped fixture opens a transaction, builds its rows in it, and keeps it open
for the module's tests; pytest-django's ``db`` then runs each test in a savepoint of
it, so what one test writes is undone before the next, and the whole is rolled back
when the module ends. The clock stays where the rows were built.

Only a module *all* of whose tests use the rows may keep them so: the rows would
otherwise stand in the database of its other tests too (``tests/conftest.py`` refuses
a module that mixes them, for the demo).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import time_machine
from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings

T = TypeVar("T")


def fast_and_collectless() -> override_settings:
    """Real hashing costs ~0.2 s a user; the manifest needs collectstatic: neither is
    under test. (Every test has it, through ``tests/conftest.py``; rows built for a
    module have it here, before any test's settings apply.)"""
    return override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )


def kept_for_the_module(
    django_db_blocker: Any, now: datetime.datetime, build: Callable[[], T]
) -> Iterator[T]:
    """What ``build()`` returns, its rows kept for the module: ``yield from`` it in a
    module-scoped fixture that depends on ``django_db_setup``."""
    travel = time_machine.travel(now, tick=True)
    travel.start()
    outer = transaction.atomic()
    try:
        with django_db_blocker.unblock():
            outer.__enter__()
            try:
                with fast_and_collectless():
                    built = build()
            except BaseException:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)
                raise
        yield built
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
    finally:
        travel.stop()
