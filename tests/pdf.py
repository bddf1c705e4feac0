"""A PDF's text, as the tests that look for a document's mentions read it."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile

from pypdf import PdfReader


def text_of(pdf: bytes, *, layout: bool = True) -> str:
    """poppler's ``pdftotext`` where installed, pypdf's (less faithful) reading else.
    With ``layout=False``, the words in reading order on one line: a table cell's text
    is found whatever the lines it wraps on."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    else:
        with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
            file.write(pdf)
            file.flush()
            options = ["-layout"] if layout else []
            out = subprocess.run(
                [pdftotext, *options, file.name, "-"], capture_output=True, check=True
            )
        text = out.stdout.decode()
    return re.sub(r"[ \t]+", " ", text) if layout else " ".join(text.split())
