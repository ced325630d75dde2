"""The Spanish catalogue is complete and current: every text the code marks for translation
(extracted with Babel, as ``make messages`` does) has a reviewed Spanish translation whose
placeholders are the English text's, and the catalogue holds nothing the code no longer says
(README, "Languages")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from models.core import i18n

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("api", "dashboard", "models")
KEYWORDS = {
    "_": None,  # the e-mail templates
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_gettext": None,
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdrif]|(?<!\{)\{(\w*)\}(?!\})")
TRANSLATED = [code for code in i18n.LOCALES if code != i18n.DEFAULT_LOCALE]


def _key(message: str | tuple[str, ...], context: str | None) -> tuple[str | None, str]:
    singular = message[0] if isinstance(message, tuple) else message
    return (context, singular)


def extracted() -> dict[tuple[str | None, str], str | tuple[str, ...]]:
    """Every marked text of the code, by (context, English text)."""
    found: dict[tuple[str | None, str], str | tuple[str, ...]] = {}
    for source in SOURCES:
        for _file, _line, message, _comments, context in extract_from_dir(
            ROOT / source,
            method_map=[("**/templates/**", "jinja2"), ("**.py", "python")],
            options_map={"**/templates/**": {"extensions": "jinja2.ext.i18n"}},
            keywords=KEYWORDS,
        ):
            found[_key(message, context)] = message
    return found


EXTRACTED = extracted()


def catalogue(locale: str):
    with i18n.catalogue_path(locale).open("rb") as po:
        return read_po(po, locale=locale)


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def test_the_code_marks_texts_for_translation() -> None:
    """The extraction finds the code's texts (a broken keyword list would find none)."""
    assert len(EXTRACTED) > 300
    assert (None, "Log in") in EXTRACTED


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_text_is_translated_and_reviewed(locale: str) -> None:
    entries = {
        (m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in catalogue(locale)
    }
    missing = sorted(k[1] for k in EXTRACTED if k not in entries)
    assert not missing, f"not in the {locale} catalogue (run `make messages`): {missing[:20]}"
    untranslated = sorted(
        key[1]
        for key, message in entries.items()
        if key[1]
        and (not message.string or (isinstance(message.string, tuple) and not all(message.string)))
    )
    assert not untranslated, f"untranslated in {locale}: {untranslated[:20]}"
    fuzzy = sorted(key[1] for key, message in entries.items() if key[1] and message.fuzzy)
    assert not fuzzy, f"fuzzy (awaiting review) in {locale}: {fuzzy[:20]}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_no_stale_text(locale: str) -> None:
    """A text the code no longer says is not kept (obsolete entries included)."""
    po = catalogue(locale)
    stale = sorted(
        m.id if isinstance(m.id, str) else m.id[0]
        for m in po
        if m.id and (m.context, m.id if isinstance(m.id, str) else m.id[0]) not in EXTRACTED
    )
    assert not stale, f"stale in {locale}: {stale[:20]}"
    assert not po.obsolete, f"obsolete in {locale}: {sorted(po.obsolete)[:20]}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_placeholders_match(locale: str) -> None:
    """A translation fills exactly the English text's placeholders (``%(name)s``, ``{name}``):
    a missing one loses a figure, an unknown one fails at run time."""
    wrong = []
    for message in catalogue(locale):
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        strings = (message.string,) if isinstance(message.string, str) else message.string
        # A plural form fills the placeholders of the English singular or plural.
        allowed = [placeholders(text) for text in ids]
        for text in strings:
            if placeholders(text) not in allowed:
                wrong.append((ids[0], text))
    assert not wrong, wrong[:20]


def test_placeholder_check_can_fail() -> None:
    assert placeholders("no period %(key)s in {slug}") == {"key", "slug"}
    assert placeholders("100%% of {{literal}}") == set()


@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_catalogue_compiles_and_is_used(locale: str) -> None:
    """The .po file compiles in memory and its translation is what gettext answers."""
    i18n.translations.cache_clear()
    with i18n.use_locale(locale):
        assert i18n.gettext("Log in") != "Log in"
    with i18n.use_locale("en"):
        assert i18n.gettext("Log in") == "Log in"


def test_no_marked_text_hides_in_parentheses() -> None:
    """``gettext(("a " "b"))`` is invisible to Babel's extraction, so it would never be
    translated and no other test would notice: adjacent literals go straight in the call."""
    hidden = re.compile(r"gettext\(\s*\(\s*[\"']")
    found = [
        str(path.relative_to(ROOT))
        for source in SOURCES
        for path in (ROOT / source).rglob("*.py")
        if hidden.search(path.read_text(encoding="utf-8"))
    ]
    assert not found, found
