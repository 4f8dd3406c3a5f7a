"""The policy hall (F8): information pages written as Markdown files.

`<name>.md` is the English page and `<name>.zh.md` its optional Simplified
Chinese version. Files are read once, at first use, and kept in memory: they
change with a deployment, not while a fair runs.

A page may start with TOML front matter between two `+++` lines. It is not shown;
it declares what other features take from the page. So far: `[agreement_clause]`
(`text`, `min_term_years`), the clause an intent agreement includes when its term is
at least that long (rooms/interviews/agreement_text.py, decisions §25).
"""

from __future__ import annotations

import logging
import re
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PAGE_NAME = re.compile(r"[a-z0-9-]{1,64}")
ENGLISH, CHINESE = "en", "zh"
# Policy pages are short documents; anything bigger is a mistake, not a page.
MAX_PAGE_BYTES = 512 * 1024
FRONT_MATTER = "+++"


@dataclass(frozen=True)
class PolicyPage:
    name: str
    language: str
    title: str
    # The Markdown after the title line: the page template prints the title itself.
    body: str
    # The page's TOML front matter (empty without one).
    meta: dict[str, Any] = field(default_factory=dict)


def is_page_name(name: str) -> bool:
    return PAGE_NAME.fullmatch(name) is not None


def language_for(locale: str) -> str:
    return CHINESE if locale.lower().startswith("zh") else ENGLISH


def _title_and_body(name: str, source: str) -> tuple[str, str]:
    """The first "# " heading line is the title; the rest is the body."""
    lines = source.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("# "):
            title = line[2:].strip().rstrip("#").strip() or name
            return title, "\n".join(lines[:index] + lines[index + 1 :]).strip()
    return name, source.strip()


def _split_file_name(file_name: str) -> tuple[str, str] | None:
    """'<name>.md' -> (name, 'en'); '<name>.zh.md' -> (name, 'zh'); else None."""
    if file_name.endswith(".zh.md"):
        name, language = file_name.removesuffix(".zh.md"), CHINESE
    elif file_name.endswith(".md"):
        name, language = file_name.removesuffix(".md"), ENGLISH
    else:
        return None
    return (name, language) if is_page_name(name) else None


def split_front_matter(source: str) -> tuple[dict[str, Any], str]:
    """(the TOML between the leading `+++` lines, the rest). Unparsable front matter is
    logged and dropped, so a typo hides a clause but never shows TOML on the page."""
    lines = source.splitlines()
    if not lines or lines[0].strip() != FRONT_MATTER:
        return {}, source
    for end in range(1, len(lines)):
        if lines[end].strip() == FRONT_MATTER:
            rest = "\n".join(lines[end + 1 :])
            try:
                return tomllib.loads("\n".join(lines[1:end])), rest
            except tomllib.TOMLDecodeError:
                log.warning("policy front matter could not be parsed", exc_info=True)
                return {}, rest
    return {}, source


def _read_page(path: Path, name: str, language: str) -> PolicyPage | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_PAGE_BYTES:
            log.warning("policy page %s skipped: not a file or too large", path)
            return None
        source = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        log.warning("policy page %s could not be read", path, exc_info=True)
        return None
    meta, source = split_front_matter(source)
    title, body = _title_and_body(name, source)
    return PolicyPage(name=name, language=language, title=title, body=body, meta=meta)


def read_pages(directory: Path) -> dict[str, dict[str, PolicyPage]]:
    """name -> language -> page. A page needs its English file; Chinese is optional."""
    found: dict[str, dict[str, PolicyPage]] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.iterdir()):
        parts = _split_file_name(path.name)
        if parts is None:
            continue
        page = _read_page(path, *parts)
        if page is not None:
            found.setdefault(page.name, {})[page.language] = page
    return {name: versions for name, versions in found.items() if ENGLISH in versions}


class PolicyLibrary:
    """The pages of one directory, read at first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._pages: dict[str, dict[str, PolicyPage]] | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._pages is not None

    def load(self) -> dict[str, dict[str, PolicyPage]]:
        # A lock, because the first load may run in a worker thread.
        with self._lock:
            if self._pages is None:
                self._pages = read_pages(self.directory)
            return self._pages

    def page(self, name: str, locale: str) -> PolicyPage | None:
        """The page in the locale's language, else English; None for unknown names."""
        if not is_page_name(name):
            return None
        versions = self.load().get(name)
        if versions is None:
            return None
        return versions.get(language_for(locale)) or versions[ENGLISH]

    def pages(self, locale: str) -> list[PolicyPage]:
        """Every page in the locale's language where there is one, by title."""
        chosen = [
            versions.get(language_for(locale)) or versions[ENGLISH]
            for versions in self.load().values()
        ]
        return sorted(chosen, key=lambda page: (page.title.lower(), page.name))
