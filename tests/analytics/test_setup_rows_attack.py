"""What ``models.analytics.setup_rows`` keeps across requests: bounded by what the figure views
read of an indicator. Its definition and data source are free text the backbone team writes (no
length but the request's), read by no figure view: every setup revision would keep them again
until the kept values fill (``models.analytics.kept``), holding a process's memory."""

from __future__ import annotations

from dataclasses import astuple

from models.analytics.kept import KEPT
from models.analytics.setup_rows import indicators_with_outcomes

from .. import factories as f

LONG = 1_000_000


def test_the_kept_rows_hold_no_free_text_the_views_do_not_read(session) -> None:
    init = f.initiative(session, slug="long")
    f.period(session, init, "2025Q3")
    for n in range(3):
        f.indicator(session, init, code=f"K{n}", definition="d" * LONG, data_source="s" * LONG)
    session.commit()
    KEPT.clear()
    listed = indicators_with_outcomes(session, init.id)
    assert [i.code for i, _ in listed] == ["K0", "K1", "K2"]
    assert listed is indicators_with_outcomes(session, init.id)  # kept
    held = max(len(v) for i, _ in listed for v in astuple(i) if isinstance(v, str))
    assert held < 1000, held
