"""Languages: Babel catalogues under fairserver/locale/<locale>/LC_MESSAGES/messages.po.

Adding a language is adding a catalogue directory: the .po files are compiled in
memory at start-up, so there is no build step to forget.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LOCALE = "en"

_NULL = NullTranslations()
_current: ContextVar[NullTranslations] = ContextVar("translations", default=_NULL)
_current_locale: ContextVar[str] = ContextVar("locale", default=SOURCE_LOCALE)


# The cookie holding a visitor's chosen language (pages and sockets read it alike).
LANG_COOKIE = "fs_lang"


class Catalogues:
    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self._translations: dict[str, NullTranslations] = {SOURCE_LOCALE: NullTranslations()}
        for po_file in sorted(locale_dir.glob("*/LC_MESSAGES/messages.po")):
            name = po_file.parent.parent.name
            with po_file.open("rb") as fh:
                catalog = read_po(fh, locale=name)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            self._translations[name] = Translations(buffer)

    @property
    def locales(self) -> list[str]:
        return sorted(self._translations)

    def names(self) -> list[tuple[str, str]]:
        """(code, the language's own name) for a language menu."""
        result = []
        for code in self.locales:
            locale = Locale.parse(code)
            result.append((code, (locale.get_display_name(locale) or code).capitalize()))
        return result

    def get(self, locale: str) -> NullTranslations:
        return self._translations.get(locale, self._translations[SOURCE_LOCALE])

    def choose(self, *preferred: str | None, accept_language: str = "") -> str:
        """First supported of the explicit choices, else the Accept-Language match."""
        for choice in preferred:
            if choice and choice in self._translations:
                return choice
        wanted = parse_accept_language(accept_language)
        # Browsers say zh-CN or zh; our Simplified Chinese catalogue is zh_Hans.
        # (Babel looks aliases up in lower case.)
        aliases = {"zh": "zh_Hans", "zh_cn": "zh_Hans", "zh_sg": "zh_Hans", "zh_hans_cn": "zh_Hans"}
        found = negotiate_locale(wanted, self.locales, sep="_", aliases=aliases)
        return found or SOURCE_LOCALE

    def activate(self, locale: str) -> None:
        _current.set(self.get(locale))
        _current_locale.set(locale)


def parse_accept_language(header: str) -> list[str]:
    weighted: list[tuple[float, str]] = []
    for part in header.split(",")[:20]:
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((quality, tag.strip().replace("-", "_")))
    weighted.sort(key=lambda item: -item[0])
    return [tag for quality, tag in weighted if quality > 0 and tag != "*"]


def gettext(message: str) -> str:
    return _current.get().ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.get().ungettext(singular, plural, n)


def current_locale() -> str:
    return _current_locale.get()


_ = gettext
