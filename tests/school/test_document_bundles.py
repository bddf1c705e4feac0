"""Documents are laid out in bundles and cut into one PDF each: every PDF holds its own
pages only, counts them from one, and keeps the PDF/A identification."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from school import documents
from school.documents import DocumentKind, Draft, Subject
from school.models import Learner

LINES = '{% extends "documents/base.html" %}{% block body %}{% for line in lines %}<p>{{ line }}</p>{% endfor %}{% endblock %}'


@pytest.fixture
def kind(settings: Any, tmp_path: Path) -> DocumentKind:
    """A kind of the tests' own: as many lines as asked, so documents differ in length."""
    folder = tmp_path / "templates" / "documents"
    folder.mkdir(parents=True)
    (folder / "lines.html").write_text(LINES)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path / "templates"]}]
    return DocumentKind(
        code="lines",
        title="Relevé de test",
        template="documents/lines.html",
        build_context=lambda learner, **parameters: {},
        describe=lambda learner, **parameters: Subject(learner=learner, label=str(learner)),
        subject_model=Learner,
    )


def draft(number: int, lines: int) -> Draft:
    return Draft(
        {"lines": [f"Ligne {n} du document {number}" for n in range(lines)]},
        f"MT-2026-{number:06d}",
        timezone.make_aware(datetime.datetime(2026, 3, 2, 9)),
        f"code-{number}",
    )


def pages_of(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_each_document_of_a_bundle_gets_its_own_pages_numbered_from_one(
    kind: DocumentKind,
) -> None:
    drafts = [draft(1, 3), draft(2, 150), draft(3, 3)]

    rendered = documents.render_many(kind, drafts)

    assert len(rendered) == 3
    texts = [pages_of(one.pdf) for one in rendered]
    assert [len(pages) for pages in texts][::2] == [1, 1]
    assert len(texts[1]) > 2
    for number, pages in enumerate(texts, start=1):
        for page, text in enumerate(pages, start=1):
            assert text.endswith(f"page {page} / {len(pages)}")
            assert f"N° MT-2026-{number:06d} — émis le 02/03/2026" in text
        own = " ".join(pages)
        # Its own lines, and none of its neighbours'.
        assert [f"du document {n}" in own for n in (1, 2, 3)] == [n == number for n in (1, 2, 3)]
    assert "Ligne 149 du document 2" in texts[1][-1]


def test_a_cut_document_keeps_the_pdf_a_identification_and_its_own_fingerprint(
    kind: DocumentKind,
) -> None:
    first, second = documents.render_many(kind, [draft(1, 3), draft(2, 3)])
    [alone] = documents.render_many(kind, [draft(3, 3)])

    for one in (first, second, alone):
        reader = PdfReader(io.BytesIO(one.pdf))
        root = reader.root_object
        xmp = root["/Metadata"].get_object().get_data()
        assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
        assert root["/OutputIntents"]
        assert len(reader.trailer["/ID"]) == 2
        assert reader.metadata is not None and reader.metadata.title == "Relevé de test"
    assert first.sha256 != second.sha256
    assert len({first.pdf, second.pdf, alone.pdf}) == 3


def images_of(pdf: bytes) -> list[bytes]:
    """The image streams a PDF holds, drawn or not."""
    reader = PdfReader(io.BytesIO(pdf))
    return [
        image.get_object().get_data()
        for page in reader.pages
        for image in page["/Resources"].get_object().get("/XObject", {}).values()
    ]


def test_a_cut_document_holds_its_own_qr_code_and_none_of_its_neighbours(
    kind: DocumentKind,
) -> None:
    """Each QR code carries a verification code: one learner's PDF must not carry the
    codes of the classmates laid out in the same bundle."""
    cut = documents.render_many(kind, [draft(1, 3), draft(2, 150), draft(3, 3)])
    [alone] = documents.render_many(kind, [draft(2, 3)])

    assert [len(set(images_of(one.pdf))) for one in cut] == [1, 1, 1]
    assert len({images_of(one.pdf)[0] for one in cut}) == 3
    # The same code as when the document is rendered alone.
    assert images_of(cut[1].pdf)[0] == images_of(alone.pdf)[0]


def test_the_verification_address_is_printed_in_one_piece_whatever_its_hyphens(
    kind: DocumentKind, settings: Any
) -> None:
    """A code may hold hyphens, where a line could break: the address must still read
    (and be copied) whole, even on a long domain."""
    settings.SITE_URL = "https://metaltech.ecole-de-production-de-nogent.fr"
    code = "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-"
    one = Draft({"lines": ["Ligne"]}, "MT-2026-000001", draft(1, 1).issued_at, code)

    [rendered] = documents.render_many(kind, [one])

    assert documents.verification_url(code) in " ".join(pages_of(rendered.pdf))
