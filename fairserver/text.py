"""User text: cleaning on the way in, safe Markdown on the way out."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from markdown_it import MarkdownIt
from markupsafe import Markup
from pydantic import AfterValidator

# Bidi embeddings, overrides and isolates (they can make "gpj.exe" read as
# "exe.jpg"), zero-width joiners aside, and C0/C1 controls except tab and newline.
_INVISIBLE = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    "table"
)


def clean(value: str) -> str:
    """NFC-normalised, without invisible direction or control characters, trimmed."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", value)).strip()


def clean_line(value: str) -> str:
    return " ".join(clean(value).split())


# For single-line fields (names, titles) and multi-line ones (descriptions, chat).
Line = Annotated[str, AfterValidator(clean_line)]
Text = Annotated[str, AfterValidator(clean)]


def markdown(source: str) -> Markup:
    """Markdown with raw HTML disabled; markdown-it refuses javascript:/vbscript:/data: links."""
    return Markup(_md.render(clean(source)))  # noqa: S704 - html is off in the renderer


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP's CSV injection rule)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else clean(str(value))
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + text
    return text
