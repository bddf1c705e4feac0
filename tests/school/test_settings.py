"""The settings refuse to start in an unsafe production configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# What the test run itself sets must not leak into the configuration under test.
_TEST_ONLY = {
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "EMAIL_URL",
    "PROXY_COUNT",
}
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "s" + "0123456789abcdefghij" * 3,  # strong: 61 characters, 21 distinct
    "ALLOWED_HOSTS": "metaltech.example.org",
    "EMAIL_URL": "smtp+tls://metaltech:secret@smtp.example.org:587",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = _manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    "key",
    ["short", "a" * 60, "django-insecure-" + "x1y2z3" * 10],
    ids=["short", "repetitive", "django-insecure"],
)
def test_production_refuses_a_weak_secret_key(key: str) -> None:
    result = _manage("check", **{**PRODUCTION, "SECRET_KEY": key})
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_production_starts_with_a_strong_key() -> None:
    result = _manage("check", **PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_somewhere_to_send_mail() -> None:
    result = _manage("check", **{**PRODUCTION, "EMAIL_URL": ""})
    assert result.returncode != 0
    assert "EMAIL_URL must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize("name", ["DEBUG", "SECURE_SSL_REDIRECT"])
def test_a_mistyped_yes_no_setting_stops_the_start(name: str) -> None:
    result = _manage("check", **{**PRODUCTION, name: "flase"})
    assert result.returncode != 0
    assert f"{name} must be one of" in result.stderr


@pytest.mark.parametrize(
    ("proxies", "trusted"), [("0", "None"), ("1", "('HTTP_X_FORWARDED_PROTO', 'https')")]
)
def test_the_forwarded_protocol_is_trusted_only_behind_a_proxy(proxies: str, trusted: str) -> None:
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)",
        **{**PRODUCTION, "PROXY_COUNT": proxies},
    )
    assert result.stdout.strip().splitlines()[-1] == trusted, result.stderr


def test_an_unknown_tasks_backend_is_refused() -> None:
    result = _manage("check", DEBUG="1", TASKS_BACKEND="celery")
    assert result.returncode != 0
    assert "TASKS_BACKEND must be one of immediate, database" in result.stderr


def test_production_settings_pass_the_deployment_checks() -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        TASKS_BACKEND="database",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_site_speaks_french_in_paris_time() -> None:
    from django.conf import settings

    assert (settings.LANGUAGE_CODE, settings.TIME_ZONE, settings.USE_TZ) == (
        "fr",
        "Europe/Paris",
        True,
    )
    assert [code for code, _ in settings.LANGUAGES] == ["fr", "en"]
