"""What the backbone team's pages are checked with in Spanish: the answers' visible strings
(README, "Languages")."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from models import Indicator, Initiative, Organisation

from .english import english_in, visible_strings

SPANISH = {"Accept-Language": "es-419,es;q=0.9"}


def shown(answer: object) -> list[str]:
    """The visible strings of a layout, or of a callback's answer (``{id: {property: value}}``:
    a text set as an output's ``children`` is shown as any child is)."""
    if isinstance(answer, dict) and "props" not in answer:
        return [
            text
            for props in answer.values()
            if isinstance(props, dict)
            for text in visible_strings({"type": "Answer", "namespace": "", "props": props})
        ]
    return list(visible_strings(answer))


def english_shown(answers: Iterable[object]) -> list[tuple[str, str]]:
    """The English UI texts of the catalogue in the answers' visible strings."""
    texts = [t for answer in answers for t in shown(answer)]
    return sorted(set(english_in(texts)))


def rename_data(session) -> None:
    """The factories' names ("Initiative 1", "Organisation 5", "Indicator 7") are data, not UI
    text, yet read like the catalogue's English words: given Spanish names."""
    session.execute(update(Initiative).values(name="Iniciativa de prueba"))
    session.execute(update(Indicator).values(name="Indicador " + Indicator.code))
    for org in session.scalars(select(Organisation)):
        org.name = f"Entidad {org.slug}"
    session.commit()
