"""Languages: the message catalogues, the locale of the request being served, and numbers and
dates written for it (README, "Languages").

Every string a person reads goes through :func:`gettext` with its English text as the message
id (called by that name, not ``_``, which Dash callbacks and unpacking use as a throwaway);
``models/locale/<lang>/LC_MESSAGES/messages.po`` holds the translations, compiled in memory
the first time a language is used (no binaries in git). Placeholders are named, ``%(name)s``,
and filled by keyword, ``gettext("no period %(key)s", key=k)``, so a translation may move
them; a text with placeholders writes a literal percent sign as ``%%``.

The locale is chosen once per request (the user's setting, else the switcher's cookie, else
``Accept-Language``, else English) and kept in a context variable, which the thread pool's
copies of the request context share. It holds a mutable choice, so that learning the user's
setting while resolving who is asking (a dependency run in another thread) still reaches the
rest of the request.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.dates import format_date as _babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberPattern, parse_pattern
from babel.numbers import format_percent as _babel_format_percent
from babel.support import LazyProxy, NullTranslations, Translations

DEFAULT_LOCALE = "en"
LOCALES: tuple[str, ...] = ("en", "es")
# How each language names itself, for the switcher (never translated).
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
LOCALE_COOKIE = "cm_locale"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"


@dataclass
class _Choice:
    locale: str = DEFAULT_LOCALE


_current: ContextVar[_Choice | None] = ContextVar("cm_locale", default=None)


def supported(locale: str | None) -> str | None:
    """``locale`` as one of :data:`LOCALES` (``es-MX`` → ``es``), or None."""
    if not locale or not isinstance(locale, str):
        return None
    language = locale.strip().replace("-", "_").split("_")[0].lower()
    return language if language in LOCALES else None


def negotiate(accept_language: str | None) -> str | None:
    """The best of :data:`LOCALES` for an ``Accept-Language`` header, or None.

    Quality values order the preferences; Babel matches ``es-MX`` to ``es``."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    preferred = [tag.replace("-", "_") for _q, _p, tag in sorted(ranked)]
    found = negotiate_locale(preferred, list(LOCALES), sep="_")
    return supported(found)


def choose(
    *, setting: str | None = None, cookie: str | None = None, accept_language: str | None = None
) -> str:
    """The user's setting, else the switcher's cookie, else ``Accept-Language``, else English."""
    return supported(setting) or supported(cookie) or negotiate(accept_language) or DEFAULT_LOCALE


def current_locale() -> str:
    choice = _current.get()
    return choice.locale if choice is not None else DEFAULT_LOCALE


def begin_request(locale: str) -> object:
    """Serve the rest of this context in ``locale``; the token ends it (:func:`end_request`)."""
    return _current.set(_Choice(supported(locale) or DEFAULT_LOCALE))


def end_request(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def prefer(setting: str | None) -> None:
    """The user's own setting, once known, wins for the rest of the request."""
    choice = _current.get()
    locale = supported(setting)
    if choice is not None and locale is not None:
        choice.locale = locale


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Run a block in ``locale`` (an e-mail in its recipient's language, a test)."""
    token = _current.set(_Choice(supported(locale) or DEFAULT_LOCALE))
    try:
        yield current_locale()
    finally:
        _current.reset(token)


# --- catalogues -------------------------------------------------------------------------------


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue of ``locale`` (fuzzy entries left out: they await review)."""
    path = catalogue_path(locale)
    if locale == DEFAULT_LOCALE or not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalogue = read_po(po, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _fill(text: str, variables: dict[str, Any]) -> str:
    return text % variables if variables else text


def gettext(message: str, /, **variables: Any) -> str:
    """``message`` in the request's language, its ``%(name)s`` placeholders filled."""
    return _fill(translations(current_locale()).gettext(message), variables)


def ngettext(singular: str, plural: str, n: int, /, **variables: Any) -> str:
    """The singular or plural form for ``n`` (available to the text as ``%(n)s``)."""
    text = translations(current_locale()).ngettext(singular, plural, n)
    return _fill(text, {"n": n, **variables})


def pgettext(context: str, message: str, /, **variables: Any) -> str:
    """``message`` in a context (the same English word read two ways)."""
    return _fill(str(translations(current_locale()).pgettext(context, message)), variables)


def lazy_gettext(message: str, /, **variables: Any) -> LazyProxy:
    """Translated when read, in the language of whoever reads it (module-level text)."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


# --- numbers and dates ------------------------------------------------------------------------


def _babel_locale() -> Locale:
    return _locale_named(current_locale())


@cache
def _locale_named(identifier: str) -> Locale:
    """Babel's locale for a language, parsed once per process (a page of flagged values
    formats thousands of numbers; parsing the locale each time was most of their cost)."""
    try:
        return Locale.parse(identifier)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


@cache
def _pattern(format: str) -> NumberPattern:
    """A number pattern, parsed once per process (babel parses it on every call)."""
    return parse_pattern(format)


def _format_decimal(value: float, format: str | None, locale: Locale) -> str:
    """babel's ``format_decimal`` with the locale and pattern parsed once: the same text."""
    pattern = locale.decimal_formats[None] if format is None else _pattern(format)
    return str(pattern.apply(value, locale))


def format_number(value: float, *, digits: int | None = None, max_digits: int | None = None) -> str:
    """``1234.5`` → ``1,234.5`` (en) or ``1.234,5`` (es); ``digits`` fixes the decimals,
    ``max_digits`` rounds to at most so many without trailing zeros."""
    pattern = None
    if digits is not None:
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    elif max_digits is not None:
        pattern = "#,##0" + ("." + "#" * max_digits if max_digits > 0 else "")
    if value == 0:  # 0.0 and -0.0 are one key to a cache: each formatted as it is
        return _format_decimal(value, pattern, _babel_locale())
    return _formatted(value, pattern, current_locale())


@lru_cache(maxsize=8192, typed=True)
def _formatted(value: float, pattern: str | None, locale: str) -> str:
    """A number's text, kept (bounded): a page's tables show the same figures on every view,
    hundreds of them, and babel's formatting of each cost more than the rest of the table.
    ``typed``: an int and the float equal to it are kept apart, each formatted as it is."""
    return _format_decimal(value, pattern, _locale_named(locale))


def short_number(value: float) -> str:
    """A number as briefly as it reads (``%g``): ``1234`` in English, as messages have always
    said it, and with the language's decimal mark otherwise (``1234,5``)."""
    if current_locale() == DEFAULT_LOCALE:
        return f"{value:g}"
    return _format_decimal(value, "0.######", _babel_locale())


def number_separators() -> str:
    """The decimal mark then the group separator (``.,`` / ``,.``), as charts are told them."""
    symbols = _babel_locale().number_symbols.get("latn", {})
    return str(symbols.get("decimal", ".")) + str(symbols.get("group", ","))


def format_percent(value: float, *, digits: int = 0) -> str:
    """A share (``0.125``) as a percentage: ``12.5%`` / ``12,5 %``."""
    locale = _babel_locale()
    pattern = str(locale.percent_formats[None].pattern)  # the locale's spacing ("12,5 %")
    if digits > 0:
        pattern = pattern.replace("0", "0." + "0" * digits, 1)
    return str(_babel_format_percent(value, format=pattern, locale=locale))


def format_date(when: date) -> str:
    """A day in words: ``December 1, 2026`` / ``1 de diciembre de 2026``."""
    if isinstance(when, datetime):
        when = when.date()
    return str(_babel_format_date(when, format="long", locale=_babel_locale()))


__all__ = [
    "DEFAULT_LOCALE",
    "LANGUAGE_NAMES",
    "LOCALES",
    "LOCALE_COOKIE",
    "begin_request",
    "choose",
    "current_locale",
    "end_request",
    "format_date",
    "format_number",
    "format_percent",
    "gettext",
    "lazy_gettext",
    "negotiate",
    "ngettext",
    "number_separators",
    "pgettext",
    "prefer",
    "short_number",
    "supported",
    "translations",
    "use_locale",
]
