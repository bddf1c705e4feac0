from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://…")
def test_the_shared_cache_is_redis_when_redis_url_is_set() -> None:
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    key = f"probe-{uuid.uuid4()}"
    cache.set(key, "présent", timeout=5)
    assert cache.get(key) == "présent"


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="REDIS_URL is set")
def test_without_redis_the_cache_stays_in_the_process() -> None:
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
