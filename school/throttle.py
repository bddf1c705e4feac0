"""Rate limits: how many times one client may do an expensive or guessable thing.

One counter per (action, client, time window) in Django's cache — Redis when
``REDIS_URL`` is set, so every web node counts together; the process's memory
otherwise (one node). The limits are ``settings.RATE_LIMITS``: « count/period ».

django-axes already locks an account after wrong passwords; these limits add a ceiling
per address across accounts (password spraying), on the public verification upload,
on password-reset mails, and on the heavy jobs (document batches, personal-data exports).
The same rule serves pages (``limited``) and the API (``ScopedRateThrottle``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.throttling import BaseThrottle

from .http import client_ip

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def _rate(action: str) -> tuple[int, int]:
    count, _slash, period = settings.RATE_LIMITS[action].partition("/")
    return int(count), PERIODS[period]


def client_key(request: HttpRequest) -> str:
    """Who is counted: the signed-in account, else the client's address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request) or 'unknown'}"


def allow(action: str, key: str) -> tuple[bool, int]:
    """Count one more ``action`` by ``key``; whether it stays within the limit, and the
    seconds until the window ends (for Retry-After)."""
    limit, period = _rate(action)
    now = time.time()
    window = int(now // period)
    counter = f"throttle:{action}:{key}:{window}"
    # add() is atomic on Redis and in memory; incr() too: two nodes never both read 4.
    cache.add(counter, 0, timeout=period + 1)
    try:
        count = cache.incr(counter)
    except ValueError:  # expired between add() and incr()
        cache.add(counter, 1, timeout=period + 1)
        count = 1
    return count <= limit, int((window + 1) * period - now) + 1


def refusal(request: HttpRequest, retry_after: int) -> HttpResponse:
    message = _("Trop de demandes : réessayez dans quelques minutes.")
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def limited(action: str, *, methods: tuple[str, ...] = ("POST",)) -> Callable[..., Any]:
    """Decorate a page: past the limit, its ``methods`` answer 429 with Retry-After."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                allowed, retry_after = allow(action, client_key(request))
                if not allowed:
                    return refusal(request, retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


class ScopedRateThrottle(BaseThrottle):
    """DRF's side of the same counters: a view sets ``throttle_scope`` to an action."""

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        action = getattr(view, "throttle_scope", None)
        if action is None or request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        allowed, self.retry_after = allow(action, client_key(request))
        return allowed

    def wait(self) -> float | None:
        return self.retry_after
