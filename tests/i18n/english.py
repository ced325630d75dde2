"""Finding English UI text in what a Spanish reader is shown: every English text of the
catalogue whose Spanish differs is looked for in the visible strings (README, "Languages")."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache

from babel.messages.pofile import read_po

from models.core import i18n
from models.spreadsheets.imports import READ_COLUMNS

PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdrgf]|%%")
COUNTED = re.compile(r"%\(n\)s ")  # a count, then what is counted
SHORTEST = 4  # a literal shorter than this ("All", ". ") proves nothing on its own
# A file's column names are its keys, the same in every language (README, "Languages"): the
# upload page names them and its preview heads its columns with them.
KEYS = frozenset(READ_COLUMNS)


@cache
def english_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(English text, pattern) for every catalogue text translated differently in Spanish."""
    with i18n.catalogue_path("es").open("rb") as po:
        catalogue = read_po(po, locale="es")
    patterns = []
    for message in catalogue:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        strings = (message.string,) if isinstance(message.string, str) else message.string
        for text in ids:
            if text in strings or text in KEYS:
                continue  # the same word in both languages ("Portal", "CSV")
            pieces = [p.strip() for p in PLACEHOLDER.split(text)]
            if sum(len(p) for p in pieces) < SHORTEST:
                continue
            literals = [p for p in pieces if p]
            if COUNTED.match(text) and len(literals) == 1 and literals[0].isalpha():
                continue  # one word after a count ("%(n)s people") is told from data by nothing
            # Each literal piece whole words too: "for" is not found inside "informar".
            body = r".+?".join(_whole(p) for p in pieces if p)
            # Whole words only: "Group" is not found inside "Grupo", nor "backbone" inside an
            # address (backbone@x.org).
            patterns.append((text, re.compile(rf"(?<![\w@.]){body}(?![\w@])")))
    return tuple(patterns)


def _whole(piece: str) -> str:
    """``piece`` as a pattern that starts and ends at word boundaries where it starts or ends
    with a letter."""
    start = r"(?<!\w)" if piece[0].isalnum() else ""
    end = r"(?!\w)" if piece[-1].isalnum() else ""
    return start + re.escape(piece) + end


def english_in(texts: Iterable[str]) -> list[tuple[str, str]]:
    """(visible text, the English UI text found in it) for each one found."""
    found = []
    for text in texts:
        for english, pattern in english_patterns():
            if pattern.search(text):
                found.append((text, english))
    return found


VISIBLE_PROPS = ("children", "title", "aria-label", "placeholder", "label", "text")


def _is_component(value: object) -> bool:
    return isinstance(value, dict) and "props" in value and "type" in value


def visible_strings(node: object) -> Iterator[str]:
    """The strings a Dash answer shows: children, titles, labels, options, a chart's title;
    components held in other properties too. Stores' data and ids are not shown."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from visible_strings(item)
    elif _is_component(node):
        props = node["props"]
        for name in VISIBLE_PROPS:
            if name in props:
                yield from visible_strings(props[name])
        for option in props.get("options") or []:
            if isinstance(option, dict):
                yield from visible_strings(option.get("label"))
        figure = props.get("figure")
        if isinstance(figure, dict):
            title = (figure.get("layout") or {}).get("title")
            if isinstance(title, dict):
                yield from visible_strings(title.get("text"))
        for name, value in props.items():
            if name in VISIBLE_PROPS:
                continue
            if _is_component(value) or (
                isinstance(value, list) and any(_is_component(v) for v in value)
            ):
                yield from visible_strings(value)
    elif isinstance(node, dict):
        for value in node.values():
            if isinstance(value, dict | list):
                yield from visible_strings(value)
