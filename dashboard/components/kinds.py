"""The overview's order of the two kinds of measure (README, "Two kinds of measure"): a plain
function of the scorecard's rows, so the page and the tests read the same order."""

from __future__ import annotations

from models.core.i18n import gettext

# The three questions of a performance measure, in English (the forms' values and labels);
# :func:`performance_types` and :func:`question_heading` say them in the reader's language.
PERFORMANCE_TYPES = (
    ("how_much", "how much did we do?"),
    ("how_well", "how well did we do it?"),
    ("better_off", "is anyone better off?"),
)


def performance_types() -> tuple[tuple[str, str], ...]:
    """The three questions as :data:`PERFORMANCE_TYPES`, in the reader's language."""
    return (
        ("how_much", gettext("how much did we do?")),
        ("how_well", gettext("how well did we do it?")),
        ("better_off", gettext("is anyone better off?")),
    )


def question_heading(kind: str) -> str:
    """A question as the heading of the measures asking it (``How much did we do?``)."""
    return {
        "how_much": gettext("How much did we do?"),
        "how_well": gettext("How well did we do it?"),
        "better_off": gettext("Is anyone better off?"),
    }.get(kind, kind)


def arrange(rows: list) -> list[tuple[tuple[str | None, str | None], list[tuple[str, object]]]]:
    """The scorecard's rows in the page's order, by outcome: each population indicator, then
    a ``("contribution", code)`` line and the performance measures contributing to it by type
    (``("type", label)`` then ``("performance", row)``); after an outcome's population
    indicators, its performance measures placed under none of them (``("unlinked", None)``)."""
    populations = {r.code for r in rows if r.kind == "population"}
    contributing: dict[str, list] = {}
    for r in rows:
        if r.kind == "performance":
            for code in r.contributes_to:
                contributing.setdefault(code, []).append(r)

    def by_type(measures: list) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        for kind, _label in PERFORMANCE_TYPES:
            typed = [m for m in measures if m.performance_type == kind]
            if typed:
                out.append(("type", question_heading(kind)))
                out += [("performance", m) for m in typed]
        return out

    groups: dict[tuple[str | None, str | None], list] = {}
    for r in rows:
        groups.setdefault((r.outcome, r.outcome_name), []).append(r)
    arranged = []
    for key, members in groups.items():
        entries: list[tuple[str, object]] = []
        for r in members:
            if r.kind != "population":
                continue
            entries.append(("population", r))
            if contributing.get(r.code):
                entries.append(("contribution", r.code))
                entries += by_type(contributing[r.code])
        unplaced = [
            r
            for r in members
            if r.kind == "performance" and not populations & set(r.contributes_to)
        ]
        if unplaced:
            entries.append(("unlinked", None))
            entries += by_type(unplaced)
        if entries:
            arranged.append((key, entries))
    return arranged
