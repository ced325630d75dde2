"""What the backbone team's pages are checked with in Spanish: the answers' visible strings,
less what the shared components draw (the initiative picker, a form's dropdown, the table of
changes, a refusal's alert), whose texts are the partner side's to translate and are taken
here as they say themselves in the language of the moment (README, "Languages")."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import select, update

from dashboard.components.common import error_alert
from dashboard.components.forms import Field, Form, changes_table
from dashboard.components.page import Entry, initiative_picker
from models import Indicator, Initiative, Organisation
from models.core.errors import NotFound
from models.core.i18n import use_locale

from .english import english_in, visible_strings

SPANISH = {"Accept-Language": "es-419,es;q=0.9"}


def shared_strings(locale: str = "es") -> set[str]:
    """The strings the shared components show in ``locale``."""
    with use_locale(locale):
        event = {
            "at": datetime(2026, 12, 1, tzinfo=UTC),
            "actor": "user:1",
            "action": "update",
            "entity_type": "indicator",
            "before": {"code": "X", "name": "a"},
            "after": {"code": "X", "name": "b"},
        }
        drawn = [
            initiative_picker("x", Entry(slug="x", options=({"label": "x", "value": "x"},)), md=6),
            Form("x", [Field("a", "a", "select")]).control(Field("a", "a", "select")),
            changes_table([]),
            changes_table([event]),
            error_alert(NotFound("x")),
        ]
        shown = json.loads(json.dumps(drawn, cls=PlotlyJSONEncoder))
        return set(visible_strings(shown))


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
    """The English UI texts of the catalogue in the answers' visible strings, less the shared
    components' own."""
    shared = shared_strings()
    texts = [t for answer in answers for t in shown(answer) if t not in shared]
    return sorted(set(english_in(texts)))


def rename_data(session) -> None:
    """The factories' names ("Initiative 1", "Organisation 5", "Indicator 7") are data, not UI
    text, yet read like the catalogue's English words: given Spanish names."""
    session.execute(update(Initiative).values(name="Iniciativa de prueba"))
    session.execute(update(Indicator).values(name="Indicador " + Indicator.code))
    for org in session.scalars(select(Organisation)):
        org.name = f"Entidad {org.slug}"
    session.commit()
