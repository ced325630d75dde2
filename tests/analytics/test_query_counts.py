"""No N+1: the dashboard views run the same few queries however many indicators and partners.

Counts the SQL statements of each request on a small world and on one three times larger; the
two counts must be equal, and below a small fixed bound.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from dashboard.session import SESSION_COOKIE
from models.core.actors import SYSTEM
from models.reporting.submissions import save_values, transition
from models.reporting.validation import ValueInput

from .. import factories as f
from ..dash_calls import CALLBACK_URL, callback_body

BOUND = 25


def _world(session, client, slug: str, indicators: int, members: int):
    init = f.initiative(session, slug=slug)
    race = f.dimension(session, init, "race", ["a", "b"])
    inds = [f.indicator(session, init, "count", code=f"I{i}") for i in range(indicators)]
    for ind in inds:
        ind.dimensions = [race]
    for key in ("2025Q1", "2025Q2"):
        f.period(session, init, key)
    for m in range(members):
        mem = f.member(session, init, f.organisation(session, slug=f"{slug}-m{m}"))
        for ind in inds:
            f.obligation(session, mem, ind)
        for key in ("2025Q1", "2025Q2"):
            kw = {
                "session": session,
                "actor": SYSTEM,
                "initiative_slug": slug,
                "org_slug": f"{slug}-m{m}",
                "period_key": key,
            }
            save_values(**kw, inputs=[ValueInput(ind.code, value=20 + m) for ind in inds])
            transition(**kw, action="submit")
            transition(**kw, action="approve")
    user = f.user(session, "backbone", init=init, email=f"bb@{slug}.org")
    session.commit()
    r = client.post("/api/v1/auth/token", data={"username": user.email, "password": f.PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _count(connection, client, path, headers) -> int:
    return _statements(connection, lambda: client.get(path, headers=headers))


def _statements(connection, request) -> int:
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", seen)
    try:
        r = request()
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert r.status_code == 200, r.text
    return len(
        [s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/initiatives/{slug}/scorecard",
        "/api/v1/initiatives/{slug}/indicators/I0/series?by=race",
        "/api/v1/initiatives/{slug}/indicators/I0/series?by=partner",
        "/api/v1/initiatives/{slug}/completeness?period=2025Q2",
    ],
)
def test_statement_count_does_not_grow_with_the_data(connection, session, client, path) -> None:
    small = _world(session, client, "small", indicators=2, members=2)
    large = _world(session, client, "large", indicators=6, members=6)
    n_small = _count(connection, client, path.format(slug="small"), small)
    n_large = _count(connection, client, path.format(slug="large"), large)
    assert n_small == n_large, f"{n_small} statements for the small world, {n_large} for the large"
    assert 3 <= n_large <= BOUND  # (at least the auth and data queries were counted)


def test_reporting_page_statement_count_does_not_grow_with_the_data(
    connection, session, client
) -> None:
    """The dashboard's reporting page (completeness, late and missing, flagged values) as the
    browser asks for it: one callback, with the session cookie."""
    worlds = {
        "small": _world(session, client, "small", indicators=2, members=2),
        "large": _world(session, client, "large", indicators=6, members=6),
    }
    counts = {}
    for slug, headers in worlds.items():
        client.cookies.set(SESSION_COOKIE, headers["Authorization"].removeprefix("Bearer "))
        body = callback_body(
            client,
            "..reporting-heatmap.figure",
            [("reporting-initiative", "value", slug), ("reporting-period", "value", "2025Q2")],
        )
        counts[slug] = _statements(
            connection, lambda body=body: client.post(CALLBACK_URL, json=body)
        )
    assert counts["small"] == counts["large"], counts
    assert 3 <= counts["large"] <= BOUND
