"""The document engine: one path from a Django template to a numbered, stored PDF.

Kinds of documents are registered by the apps that hold their data (as models are
registered with ``admin.site``): a kind is a template and one function that builds
its context. The engine adds the school's identity, the number, the issue date and a
QR code to the public verification page, then renders with WeasyPrint, fetching
nothing but the project's own static files.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import models
from django.template.loader import render_to_string
from django.urls import reverse
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from .models import Learner


@dataclass(frozen=True)
class Subject:
    """Who or what a document is about: the register files it under the learner."""

    learner: Learner | None
    label: str


@dataclass(frozen=True)
class DocumentKind:
    code: str
    title: str
    template: str
    # (subject object, parameters) → the template's own context
    build_context: Callable[..., dict[str, Any]]
    # (subject object, parameters) → Subject for the register
    describe: Callable[..., Subject]
    # What the subject is (Enrolment, Learner, Cohort, a placement…): the API finds it
    # by id among those the user may see (its QuerySet's visible_to).
    subject_model: type[models.Model]


_kinds: dict[str, DocumentKind] = {}


def register_kind(kind: DocumentKind) -> DocumentKind:
    _kinds[kind.code] = kind
    return kind


def get_kind(code: str) -> DocumentKind:
    return _kinds[code]


def kinds() -> list[DocumentKind]:
    return sorted(_kinds.values(), key=lambda kind: kind.title)


class StaticOnlyURLFetcher(URLFetcher):
    """Fetch the project's static files, and nothing else: a name typed as
    ``<img src=http://…>`` must never make the server call out."""

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith("file://"):
            path = Path(url.removeprefix("file://").split("?")[0]).resolve()
            if any(path.is_relative_to(root) for root in _static_roots()):
                return super().fetch(url, headers)
        raise ValueError(f"Refused by the document renderer: {url[:80]}")


def _static_roots() -> list[Path]:
    return [Path(directory).resolve() for directory in settings.STATICFILES_DIRS] + [
        Path(finders.find("documents/document.css") or ".").resolve().parent
    ]


def verification_url(code: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("verify", args=[code])


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    sha256: str


def render(
    kind: DocumentKind,
    context: dict[str, Any],
    *,
    number: str,
    issued_at: datetime.datetime,
    verification_code: str,
) -> Rendered:
    """The PDF of one document; the engine's part of the context is the same for all."""
    url = verification_url(verification_code)
    html = render_to_string(
        kind.template,
        {
            **context,
            "document": {
                "title": kind.title,
                "number": number,
                "issued_at": issued_at,
                "verification_url": url,
                "qr_code": segno.make(url, error="m").svg_data_uri(scale=3),
            },
            "school": settings.SCHOOL_IDENTITY,
        },
    )
    stylesheet_dir = Path(finders.find("documents/document.css") or ".").resolve().parent
    pdf = HTML(
        string=html, base_url=stylesheet_dir.as_uri() + "/", url_fetcher=StaticOnlyURLFetcher()
    ).write_pdf(pdf_variant="pdf/a-3b")
    assert pdf is not None  # noqa: S101 — write_pdf without a target returns the bytes
    return Rendered(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest())
