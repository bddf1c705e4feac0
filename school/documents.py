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
import io
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import models
from django.template.loader import render_to_string
from django.urls import reverse
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject
from weasyprint import HTML, Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from .models import Learner
from .notifications import absolute_url


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
    # A kind another workflow issues (the convention, when a version of it is frozen for
    # signature) is not issued nor reissued on request from the register.
    on_request: bool = True
    # (subjects, parameters) → each one's context, read together: a kind that batches
    # issue for a whole class reads a chunk in a few queries instead of a few per learner.
    build_contexts: Callable[..., list[dict[str, Any]]] | None = None
    # The series it is numbered in, and the digits of its rank: the register's own
    # (MT-2026-000123), or a series of its own (quotes DV-2026-0001, invoices
    # FA-2026-000001), each gap-free per year.
    series: str = "MT"
    digits: int = 6
    # (PDF, draft) → the PDF to store: what the kind adds once the layout is done (an
    # invoice's Factur-X XML). The stored file's SHA-256 is that of the finished PDF.
    finish: Callable[[bytes, Draft], bytes] | None = None

    def contexts(self, subjects: Sequence[Any], **parameters: Any) -> list[dict[str, Any]]:
        if self.build_contexts is not None:
            return self.build_contexts(subjects, **parameters)
        return [self.build_context(subject, **parameters) for subject in subjects]


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


def signing_place() -> str:
    """The town the school signs in: the end of its address (« …, 52800 Nogent »), so
    that another school of the network signs in its own."""
    address = settings.SCHOOL_IDENTITY["address"]
    town = re.search(r"\b\d{5}\s+(.+)$", address)
    return town.group(1).strip() if town else address


def verification_url(code: str) -> str:
    return absolute_url(reverse("verify", args=[code]))


@dataclass(frozen=True)
class Draft:
    """One document to render: its kind's context and the register's identity."""

    context: dict[str, Any]
    number: str
    issued_at: datetime.datetime
    verification_code: str


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    sha256: str


def render_many(kind: DocumentKind, drafts: Sequence[Draft]) -> list[Rendered]:
    """One PDF per draft, all laid out and written in a single WeasyPrint pass.

    WeasyPrint's cost per document (fonts, styles, the PDF's own structure) is paid
    once for the bundle, which is then cut into one PDF per document: each keeps its
    own pages, numbered « page x / y » from its own first page (see document.css), and
    the bundle's PDF/A identification.
    """
    bundle = HTML(
        string=bundle_html(kind, drafts), base_url=base_url(), url_fetcher=StaticOnlyURLFetcher()
    ).render(font_config=_font_config())
    ranges = _page_ranges(bundle, len(drafts))
    pdf = bundle.write_pdf(pdf_variant="pdf/a-3b")
    assert pdf is not None  # noqa: S101 — write_pdf without a target returns the bytes
    pdfs = [pdf] if len(drafts) == 1 else _cut(pdf, ranges)
    if kind.finish is not None:
        pdfs = [kind.finish(one, draft) for one, draft in zip(pdfs, drafts, strict=True)]
    return [Rendered(pdf=one, sha256=hashlib.sha256(one).hexdigest()) for one in pdfs]


def bundle_html(kind: DocumentKind, drafts: Sequence[Draft]) -> str:
    """The HTML of a bundle: one <article> per draft, in its kind's template."""
    articles = [
        render_to_string(
            kind.template,
            {
                **draft.context,
                "document": _engine_context(kind, draft, index),
                "school": settings.SCHOOL_IDENTITY,
            },
        )
        for index, draft in enumerate(drafts)
    ]
    return render_to_string(
        "documents/bundle.html",
        {
            "articles": articles,
            "title": kind.title,
            "language": settings.LANGUAGE_CODE,
            "school": settings.SCHOOL_IDENTITY,
        },
    )


def base_url() -> str:
    """Where the bundle's relative links (document.css) point: the static folder."""
    return Path(finders.find("documents/document.css") or ".").resolve().parent.as_uri() + "/"


_per_thread = threading.local()


def _font_config() -> FontConfiguration:
    # The fonts found once per thread (a FontConfiguration is not meant to be shared
    # between threads): every bundle a worker renders after the first reuses them.
    if not hasattr(_per_thread, "font_config"):
        _per_thread.font_config = FontConfiguration()
    return _per_thread.font_config


QR_MASK = 4  # a checkerboard of 2 × 3 blocks, which breaks up runs of one colour


def _engine_context(kind: DocumentKind, draft: Draft, index: int) -> dict[str, Any]:
    url = verification_url(draft.verification_code)
    return {
        "title": kind.title,
        "number": draft.number,
        "issued_at": draft.issued_at,
        "verification_url": url,
        # A bitmap of one pixel per module, drawn without smoothing: crisp when printed,
        # and far cheaper for WeasyPrint than the same code as an SVG path. Any of the
        # eight masks reads alike; scoring them all for the « best » one cost more than
        # a third of the code's making, for each document of a batch.
        "qr_code": segno.make(url, error="m", mask=QR_MASK).png_data_uri(scale=1, border=2),
        # Consecutive documents alternate their page names, so that each starts a page
        # group of its own and its page counter starts again at 1.
        "page_group": "odd" if index % 2 else "even",
        "anchor": f"document-{index}",
    }


def _page_ranges(bundle: Document, count: int) -> list[range]:
    """The bundle's pages, document by document, found by each one's start anchor."""
    starts = [
        number
        for number, page in enumerate(bundle.pages)
        for anchor in page.anchors
        if anchor.startswith("document-") and anchor.endswith("-start")
    ]
    # Each document opens a page of its own (document.css): anything else would cut
    # one learner's page into another's PDF.
    if len(starts) != count or starts[:1] != [0] or starts != sorted(set(starts)):
        raise RuntimeError(f"Bundle of {count} documents laid out with starts {starts[:10]}")
    ends = [*starts[1:], len(bundle.pages)]
    return [range(start, end) for start, end in zip(starts, ends, strict=True)]


def _cut(pdf: bytes, ranges: list[range]) -> list[bytes]:
    """One PDF per range of pages, each with the bundle's information dictionary, XMP
    metadata and output intent (what makes it PDF/A, as WeasyPrint wrote them) and a
    file identifier of its own."""
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.root_object
    pieces = []
    for pages in ranges:
        writer = PdfWriter()
        for number in pages:
            page = reader.pages[number]
            _keep_own_images(page)
            writer.add_page(page)
        for key in ("/Metadata", "/OutputIntents"):
            writer.root_object[NameObject(key)] = root[key].clone(writer)
        if reader.metadata:
            writer.add_metadata(reader.metadata)
        writer.generate_file_identifiers()
        out = io.BytesIO()
        writer.write(out)
        pieces.append(out.getvalue())
    return pieces


_DRAWN = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+Do\b")


def _keep_own_images(page: PageObject) -> None:
    """WeasyPrint gives every page of the bundle one shared set of resources, holding
    the images of all its pages: each learner's QR code, hence their verification
    code. A page keeps the images it draws, and none of its neighbours'."""
    resources = cast(DictionaryObject, page["/Resources"].get_object())
    images = cast(DictionaryObject, resources.get("/XObject", DictionaryObject()).get_object())
    contents = page.get_contents()
    data = contents.get_data() if contents is not None else b""
    drawn = {b"/" + name for name in _DRAWN.findall(data)}
    own_images = DictionaryObject()
    for name in images:
        if name.encode() in drawn:
            own_images[NameObject(name)] = images.raw_get(name)
    own = DictionaryObject()
    for key in resources:
        own[NameObject(key)] = resources.raw_get(key)
    own[NameObject("/XObject")] = own_images
    page[NameObject("/Resources")] = own
