"""What the pages about one indicator share: the indicator picker and an empty chart."""

from __future__ import annotations

GRAPH_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
EMPTY = {
    "data": [],
    "layout": {"height": 120, "xaxis": {"visible": False}, "yaxis": {"visible": False}},
}


def code_options(choices: list[dict], own: list[str]) -> list[dict]:
    """The indicator picker: a partner's own indicators first, marked as theirs."""
    mine = [c for c in choices if c["code"] in own]
    others = [c for c in choices if c["code"] not in own]
    return [
        {
            "label": f"{c['name']} ({c['code']})" + (" · you report it" if c in mine else ""),
            "value": c["code"],
        }
        for c in mine + others
    ]


def default_code(choices: list[dict], own: list[str], wanted: str | None) -> str | None:
    """The indicator asked for if the initiative has it; else, for a partner, the first one it
    reports (another's would compare no partner of its own); else the first."""
    codes = [c["code"] for c in choices]
    if wanted in codes:
        return wanted
    return next((c for c in codes if c in own), codes[0] if codes else None)
