"""An attacker for the disclosure rules (issue #11).

For small random initiatives (a count indicator, 2–6 partners, 1–3 dimensions of 2–4
categories, small and large counts, partners that do not share with funders, partners that
leave people unallocated or do not break a dimension down, and between two publications a
correction or a report approved late) the attacker collects everything one audience can
fetch: for the funder and every partner, at every moment (after the first publication, after
the correction, after the republication), the scorecard, the series with no ``by``, by every
dimension and by partner, and equity for every dimension; every public vintage (which funders
and partners read too); and, for a partner, its own reports. It writes all of it down as an
integer program over every partner's share of every figure at every moment, and computes by
MILP (HiGHS through scipy: exact integer bounds) what each protected figure can still be. No
protected figure may be pinned or narrowed below its protection:

* every share of a partner the audience may not see (funder: the partners that do not share
  with funders; partner: every other partner; public: everyone) keeps a feasible interval that
  reaches p % of its true value beyond it on one side at least, and is never pinned;
* no initiative figure of fewer than T people is pinned; for a partner, the part the other
  partners put into a figure, when fewer than T people, is never pinned (the insider rule).

What the attacker reads: an exact figure is an equation; "<T" says at most T − 1; a figure
hidden as a complement (``reason`` "complementary", which the live views say) was an exact
figure, so at least T, and no bigger than any figure still published in its breakdown (it was
chosen as the smallest); every other marker says nothing. A partner's categories of a dimension
add up to its total, or to less when it leaves people unallocated or does not break the
dimension down. The attacker is told more than a real one: which partners have reported at
each moment, and which of the corrected partner's figures changed (the others are the same
unknowns at both moments).

T and p are what the deployment promises (the initiative's threshold, 10 %), whatever the
engine runs with: with any one rule of the engine switched off, the attacker finds a leak in a
world made for that rule, so it is not vacuous. It found that a late report was the difference
of two moments; the rule on late reports (models.analytics.disclosure) closes that.
"""

from __future__ import annotations

import math
import os
import random
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array
from sqlalchemy import select

from api.routers.analytics import _equity_read, _scorecard_read, _series_read
from models.access.login import issue_token
from models.access.permissions import actor_for_user
from models.analytics.views import equity, scorecard, series
from models.core.actors import SYSTEM
from models.reporting.submissions import save_values, transition
from models.reporting.validation import ValueInput
from models.tables.initiative import Member

from .. import factories as f

SLUG = "atk"
PERIOD = "2025Q3"
CODE = "KIDS"
TOTAL = "total"
PROTECTION_PERCENT = 10.0  # the p %-rule's promise (CM_DOMINANCE_PERCENT's default)
BIG = 10**6  # no share is anywhere near this: a bound at BIG means "unbounded"


# --- worlds -------------------------------------------------------------------------------------


@dataclass
class Partner:
    slug: str
    shares: bool
    # Reported values per moment (0: first publication, 1: after the correction); None when the
    # partner has not reported (yet). Keys "total" and "d1=a"; a dimension the partner does not
    # break down has no keys.
    values: list[dict[str, int] | None]


@dataclass
class World:
    seed: object
    dims: list[tuple[str, list[str]]]  # (code, category keys)
    partners: list[Partner]
    threshold: int = 10

    @property
    def cells(self) -> list[str]:
        return [TOTAL, *(k for _, keys in self.dims for k in keys)]

    def reported(self, state: int) -> list[int]:
        return [m for m, p in enumerate(self.partners) if p.values[state] is not None]

    def value(self, state: int, m: int, cell: str) -> int:
        values = self.partners[m].values[state]
        return 0 if values is None else values.get(cell, 0)

    def describe(self) -> str:
        lines = [f"world {self.seed!r}: T={self.threshold}, dims={self.dims}"]
        for p in self.partners:
            lines.append(f"  {p.slug} shares={p.shares} before={p.values[0]} after={p.values[1]}")
        return "\n".join(lines)


def _split(rng: random.Random, amount: int, parts: int, small: float) -> list[int]:
    out, left = [], amount
    for _ in range(parts - 1):
        v = rng.randint(0, min(12, left)) if rng.random() < small else rng.randint(0, left)
        out.append(v)
        left -= v
    out.append(left)
    rng.shuffle(out)
    return out


def _report(rng: random.Random, dims: list[tuple[str, list[str]]], small: float) -> dict:
    """One partner's report: the first dimension's categories small (0–12) or large (20–300),
    sometimes a few people unallocated; the other dimensions split the same people."""
    first = dims[0][1]
    cats = [rng.randint(0, 12) if rng.random() < small else rng.randint(20, 300) for _ in first]
    total = sum(cats) + (rng.randint(1, 5) if rng.random() < 0.15 else 0)
    values = {TOTAL: total, **dict(zip(first, cats, strict=True))}
    for _, keys in dims[1:]:
        unallocated = rng.randint(0, min(5, total)) if rng.random() < 0.15 else 0
        values.update(zip(keys, _split(rng, total - unallocated, len(keys), small), strict=True))
    for _, keys in dims:
        if rng.random() < 0.15:  # this partner does not break the dimension down
            for k in keys:
                del values[k]
    return values


def _corrected(rng: random.Random, dims: list[tuple[str, list[str]]], before: dict) -> dict:
    """The report after a correction: people added to or removed from one category of every
    dimension (and the total), or moved between two categories of one dimension."""
    after = dict(before)
    broken = [keys for _, keys in dims if keys[0] in after]
    if broken and rng.random() < 0.4:
        keys = rng.choice(broken)
        a, b = rng.sample(keys, 2)
        moved = rng.randint(1, max(1, after[a]))
        moved = min(moved, after[a])
        after[a] -= moved
        after[b] += moved
        return after
    delta = rng.randint(1, 40)
    if rng.random() < 0.5:  # people removed: no more than the total and every dimension hold
        delta = -min([delta, after[TOTAL], *(max(after[k] for k in keys) for keys in broken)])
    after[TOTAL] += delta
    for keys in broken:
        k = rng.choice([k for k in keys if after[k] + delta >= 0])
        after[k] += delta
    return after


def random_world(seed: int) -> World:
    rng = random.Random(seed)
    n = rng.choice([2, 3, 4, 4, 5, 5, 6, 6])
    dims = []
    for d in range(rng.randint(1, 3)):
        code = f"d{d + 1}"
        dims.append((code, [f"{code}={c}" for c in "abcd"[: rng.randint(2, 4)]]))
    partners = []
    for m in range(n):
        small = rng.choice([0.15, 0.4, 0.9])
        first = _report(rng, dims, small)
        partners.append(Partner(f"p{m + 1}", rng.random() < 0.7, [first, first]))
    late = rng.random() < 0.25
    m = rng.randrange(n)
    if late:  # a report approved after the first publication
        partners[m].values[0] = None
    else:
        partners[m].values[1] = _corrected(rng, dims, partners[m].values[0])
    return World(seed, dims, partners)


# --- the application: build the world, publish, correct, republish, and look -------------------


@dataclass
class Fact:
    """One figure one audience saw: of a cell of the initiative or of one partner's total."""

    state: int
    target: tuple  # ("cell", key) or ("partner", member index)
    value: float | None
    marker: str | None
    reason: str | None
    group: Hashable | None  # the breakdown it was shown in (one answer), for complement caps


@dataclass
class Seen:
    """Everything each audience could fetch."""

    facts: dict[str, list[Fact]] = field(default_factory=lambda: defaultdict(list))
    requests: int = 0


def _save(session, org: str, values: dict[str, int]) -> None:
    save_values(
        session=session,
        actor=SYSTEM,
        initiative_slug=SLUG,
        org_slug=org,
        period_key=PERIOD,
        inputs=[ValueInput(CODE, key, value=v) for key, v in values.items()],
    )


def _move(session, org: str, *actions: str) -> None:
    for action in actions:
        transition(
            session=session,
            actor=SYSTEM,
            initiative_slug=SLUG,
            org_slug=org,
            period_key=PERIOD,
            action=action,
            comment="recount" if action == "reopen" else None,
        )


class Application:
    """The world in the database, and the answers every audience gets.

    Below backbone, initiative figures are those of the latest publication (partner figures
    are live), so what a funder or partner sees between two publications says nothing new
    about the data of the moment. The views are read through the functions behind the HTTP routes (scorecard, series,
    equity with the viewer's Actor, rendered by the routes' own read models): an HTTP request
    costs twice as much, mostly on PostgreSQL. With ``http`` (CM_ATTACK_HTTP=1 for every world;
    one world per backend always) each view is also fetched over HTTP with the viewer's bearer
    token and must be the same answer. Publishing and the public page go over HTTP.
    """

    def __init__(
        self,
        session,
        client,
        world: World,
        engine_threshold: int | None = None,
        http: bool = False,
    ):
        self.session, self.client, self.world = session, client, world
        self.http = http or os.environ.get("CM_ATTACK_HTTP", "") == "1"
        init = f.initiative(
            session, slug=SLUG, suppression_threshold=engine_threshold or world.threshold
        )
        self.engine_threshold = init.suppression_threshold
        dims = [
            f.dimension(session, init, code, [k.split("=")[1] for k in keys])
            for code, keys in world.dims
        ]
        kids = f.indicator(session, init, "count", code=CODE)
        kids.dimensions = dims
        self.member_of: dict[str, int] = {}
        users = {}
        for m, p in enumerate(world.partners):
            org = f.organisation(session, slug=p.slug)
            f.obligation(session, f.member(session, init, org, shares_with_funders=p.shares), kids)
            self.member_of[p.slug] = m
            users[p.slug] = f.user(session, "reporter", init=init, org=org)
        f.period(session, init, PERIOD)
        users["funder"] = f.user(session, "funder", init=init)
        users["backbone"] = f.user(session, "backbone", init=init)
        self.actors = {k: actor_for_user(session=session, user=u) for k, u in users.items()}
        self.headers = {
            k: {"Authorization": f"Bearer {issue_token(u).access_token}"} for k, u in users.items()
        }
        self.audiences = ["public", "funder", *(p.slug for p in world.partners)]
        for p in world.partners:
            if p.values[0] is not None:
                _save(session, p.slug, p.values[0])
                _move(session, p.slug, "submit", "approve")
        session.commit()

    def run(self) -> Seen:
        """Publish, look, correct, look, republish, look."""
        seen = Seen()
        self._publish()
        self.published = 0
        self._look(seen, state=0, public=True)
        if all(p.values[0] == p.values[1] for p in self.world.partners):
            return seen  # nothing changes: every later moment shows the same
        for p in self.world.partners:
            before, after = p.values
            if before == after:
                continue
            if before is None:
                _save(self.session, p.slug, after)
                _move(self.session, p.slug, "submit", "approve")
            else:
                _move(self.session, p.slug, "reopen")
                _save(self.session, p.slug, after)
                _move(self.session, p.slug, "submit", "approve")
        self.session.commit()
        self._look(seen, state=1, public=False)
        self._publish()
        self.published = 1
        self._look(seen, state=1, public=True)
        return seen

    def _publish(self) -> None:
        r = self.client.post(
            f"/api/v1/initiatives/{SLUG}/periods/{PERIOD}/publish",
            json={"confirm_incomplete": True},
            headers=self.headers["backbone"],
        )
        assert r.status_code == 201, r.text

    def _get(self, seen: Seen, audience: str, view: str, **params) -> dict:
        """One view as the audience gets it."""
        seen.requests += 1
        actor, common = self.actors[audience], {"session": self.session, "initiative_slug": SLUG}
        if view == "scorecard":
            answer = _scorecard_read(scorecard(actor=actor, period_key=PERIOD, **common))
        elif view == "series":
            answer = _series_read(series(actor=actor, indicator_code=CODE, **common, **params))
        else:
            answer = _equity_read(equity(actor=actor, indicator_code=CODE, **common, **params))
        answer = answer.model_dump(mode="json")
        if self.http:
            path = {
                "scorecard": f"/api/v1/initiatives/{SLUG}/scorecard",
                "series": f"/api/v1/initiatives/{SLUG}/indicators/{CODE}/series",
                "equity": f"/api/v1/initiatives/{SLUG}/indicators/{CODE}/equity",
            }[view]
            query = {"period": PERIOD} if view == "scorecard" else params
            r = self.client.get(path, params=query, headers=self.headers[audience])
            assert r.status_code == 200, (audience, path, query, r.text)
            assert r.json() == answer, (audience, path, query)
        return answer

    def _look(self, seen: Seen, state: int, public: bool) -> None:
        """Everything every audience can fetch now: the public page (when just published, as
        the public, funders and partners read it) and every live view."""
        if public:
            r = self.client.get(f"/api/v1/public/initiatives/{SLUG}/summary")
            assert r.status_code == 200, r.text
            facts = _public_facts(r.json(), state, ("public", state))
            for audience in self.audiences:
                seen.facts[audience].extend(facts)
        for audience in self.audiences[1:]:
            out = seen.facts[audience]
            card = self._get(seen, audience, "scorecard")
            [row] = [r for r in card["rows"] if r["code"] == CODE]
            # Below backbone the initiative figures are the latest publication's: facts about
            # the data as published; partner figures are live.
            out.append(_fact(self.published, ("cell", TOTAL), row["current"], None))
            # (``org`` narrows ``by=partner`` to one partner: nothing more to see.)
            queries = [{}, *({"by": d} for d, _ in self.world.dims), {"by": "partner"}]
            for n, query in enumerate(queries):
                answer = self._get(seen, audience, "series", **query)
                group = (audience, state, public, "series", n)
                out.extend(self._series_facts(answer, state, group))
            for d, _ in self.world.dims:
                answer = self._get(seen, audience, "equity", dimension=d)
                for point in answer["points"]:
                    if point["period"] != PERIOD:
                        continue
                    group = (audience, state, public, "equity", d)
                    out.extend(
                        _fact(
                            self._state(c["key"], state), self._target(c["key"]), c["figure"], group
                        )
                        for c in point["categories"]
                    )

    def _series_facts(self, answer: dict, state: int, group) -> Iterable[Fact]:
        for p in answer["total"]:
            if p["period"] == PERIOD:
                yield _fact(self.published, ("cell", TOTAL), p["figure"], None)
        for p in answer["breakdown"]:
            if p["period"] == PERIOD:
                yield _fact(
                    self._state(p["key"], state), self._target(p["key"]), p["figure"], group
                )

    def _state(self, key: str, state: int) -> int:
        """The moment of the data behind a figure: live for a partner's, the latest
        publication's for an initiative figure."""
        return state if key in self.member_of else self.published

    def _target(self, key: str) -> tuple:
        """A breakdown's key: a category, or a partner's organisation (which series by a
        dimension, and so equity, list too, below backbone)."""
        if key in self.member_of:
            return ("partner", self.member_of[key])
        assert key in self.world.cells, key
        return ("cell", key)


def _fact(state: int, target: tuple, figure: dict, group) -> Fact:
    # Categories and partners are two breakdowns even when one answer holds both.
    group = None if group is None else (group, target[0])
    return Fact(state, target, figure["value"], figure["marker"], figure.get("reason"), group)


def _public_facts(summary: dict, state: int, tag) -> list[Fact]:
    facts = []
    for period in summary["periods"]:
        if period["period"] != PERIOD:
            continue
        for ind in period["indicators"]:
            if ind["indicator"] != CODE:
                continue
            facts.append(_fact(state, ("cell", TOTAL), ind["total"], None))
            for b in ind["breakdowns"]:
                group = (tag, b["dimension"])
                facts.extend(_fact(state, ("cell", c["key"]), c, group) for c in b["categories"])
    return facts


# --- the attacker -------------------------------------------------------------------------------


@dataclass
class Item:
    """A protected figure: a sum of shares, its true value, and whether the p %-rule applies."""

    label: str
    expr: dict[int, int]
    true: int
    percent: bool


@dataclass
class Finding:
    audience: str
    label: str
    true: int
    low: int
    high: int  # BIG: unbounded

    def __str__(self) -> str:
        high = "∞" if self.high >= BIG else self.high
        return (
            f"{self.audience}: {self.label} = {self.true}, attacker's interval [{self.low}, {high}]"
        )


class Program:
    """Integer shares ≥ 0, linear constraints, exact bounds of linear expressions by MILP."""

    def __init__(self) -> None:
        self.index: dict[Hashable, int] = {}
        self.truth: list[int] = []
        self.rows: dict[tuple, tuple[float, float]] = {}
        self.solves = 0

    def var(self, key: Hashable, true: int) -> int:
        if key not in self.index:
            self.index[key] = len(self.truth)
            self.truth.append(true)
        return self.index[key]

    def add(self, expr: dict[int, int], low: float, high: float) -> None:
        expr = {i: c for i, c in expr.items() if c}
        if not expr:
            return
        key = tuple(sorted(expr.items()))
        lo, hi = self.rows.get(key, (-math.inf, math.inf))
        self.rows[key] = (max(lo, low), min(hi, high))

    def violated(self) -> list[str]:
        """Constraints the true shares break: the attacker misread a view (never expected)."""
        out = []
        for key, (lo, hi) in self.rows.items():
            v = sum(c * self.truth[i] for i, c in key)
            if not lo <= v <= hi:
                out.append(f"{key}: {v} not in [{lo}, {hi}]")
        return out

    def _matrix(self):
        rows, cols, data = [], [], []
        for r, (key, _) in enumerate(self.rows.items()):
            for i, c in key:
                rows.append(r)
                cols.append(i)
                data.append(c)
        n = len(self.truth)
        a = coo_array((data, (rows, cols)), shape=(len(self.rows), n)).tocsr()
        lo = np.array([b[0] for b in self.rows.values()], dtype=float)
        hi = np.array([b[1] for b in self.rows.values()], dtype=float)
        return a, lo, hi

    def solve(self, objective: dict[int, int], sense: int) -> np.ndarray:
        """An integer point minimising (sense 1) or maximising (sense −1) the objective."""
        self.solves += 1
        n = len(self.truth)
        c = np.zeros(n)
        for i, w in objective.items():
            c[i] = sense * w
        res = milp(
            c,
            integrality=np.ones(n),
            bounds=Bounds(0, BIG),
            constraints=[self._constraint],
            options={"mip_rel_gap": 0, "presolve": True, "time_limit": 30},
        )
        assert res.status == 0, f"MILP failed: {res.message}"
        return np.rint(res.x).astype(np.int64)

    def check(self, items: list[Item], percent: float) -> list[tuple[Item, int, int]]:
        """The items the attacker pins down or narrows below their protection, with their exact
        interval."""
        a, lo, hi = self._matrix()
        self._constraint = LinearConstraint(a, lo, hi)
        witnesses = [np.array(self.truth, dtype=np.int64)]

        def admit(x: np.ndarray) -> None:
            v = a @ x
            if np.all(v >= lo - 1e-6) and np.all(v <= hi + 1e-6):
                witnesses.append(x)

        def value(expr: dict[int, int], x: np.ndarray) -> int:
            return int(sum(c * x[i] for i, c in expr.items()))

        pool: dict[int, int] = defaultdict(int)
        for item in items:
            for i in item.expr:
                pool[i] = 1
        if pool:  # two broad points first: most items are settled by them
            admit(self.solve(pool, -1))
            admit(self.solve(pool, 1))
        bad = []
        for item in items:
            need = max(1, math.ceil(percent * item.true / 100)) if item.percent else 1
            up, down = item.true + need, item.true - need

            if any((v := value(item.expr, x)) >= up or v <= down for x in witnesses):
                continue  # a point already seen is far enough
            top = self.solve(item.expr, -1)
            admit(top)
            high = value(item.expr, top)
            if high >= up:
                continue
            bottom = self.solve(item.expr, 1)
            admit(bottom)
            low = value(item.expr, bottom)
            if low <= down:
                continue
            bad.append((item, low, high))
        return bad


def attack(world: World, facts: list[Fact], audience: str, engine_threshold: int) -> list[Finding]:
    """What one audience can narrow down, from everything it saw (and, for a partner, its own
    reports)."""
    prog = Program()
    states = (0, 1)
    own = {m for m, p in enumerate(world.partners) if p.slug == audience}

    def var(state: int, m: int, cell: str) -> int:
        values = world.partners[m].values
        # Unchanged between the moments: the same unknown (the attacker is told).
        if (
            state == 1
            and values[0] is not None
            and world.value(0, m, cell) == world.value(1, m, cell)
        ):
            state = 0
        return prog.var((m, cell, state), world.value(state, m, cell))

    def expr(state: int, target: tuple) -> dict[int, int]:
        kind, what = target
        if kind == "partner":
            return {var(state, what, TOTAL): 1}
        out: dict[int, int] = defaultdict(int)
        for m in world.reported(state):
            out[var(state, m, what)] += 1
        return dict(out)

    # Every partner's categories add up to its total (or less).
    for state in states:
        for m in world.reported(state):
            values = world.partners[m].values[state]
            for _, keys in world.dims:
                e = {var(state, m, k): 1 for k in keys}
                e[var(state, m, TOTAL)] = -1
                complete = (
                    all(k in values for k in keys) and sum(values[k] for k in keys) == values[TOTAL]
                )
                prog.add(e, 0 if complete else -math.inf, 0)
            if m in own:
                for cell in world.cells:
                    i = var(state, m, cell)
                    prog.add({i: 1}, prog.truth[i], prog.truth[i])

    # What the views say.
    small = re.compile(r"<(\d+)")
    exact: dict[Hashable, list[tuple[dict[int, int], float]]] = defaultdict(list)
    complements: dict[Hashable, list[dict[int, int]]] = defaultdict(list)
    for fact in facts:
        e = expr(fact.state, fact.target)
        if fact.value is not None:
            prog.add(e, fact.value, fact.value)
            if fact.group is not None and not (
                fact.target[0] == "partner" and fact.target[1] in own
            ):
                exact[fact.group].append((e, fact.value))
            continue
        if fact.marker and (hit := small.fullmatch(fact.marker)):
            prog.add(e, -math.inf, int(hit.group(1)) - 1)
        if fact.reason == "complementary":
            # It was an exact figure (so at least T), chosen as the smallest left: no bigger
            # than any figure still published in its breakdown.
            prog.add(e, engine_threshold, math.inf)
            if fact.group is not None:
                complements[fact.group].append(e)
    for group, hidden in complements.items():
        for e in hidden:
            for _, v in exact.get(group, []):
                prog.add(e, -math.inf, v)

    wrong = prog.violated()
    assert not wrong, f"{world.seed!r} {audience}: the attacker misread a view: {wrong[:5]}"

    # What must stay protected.
    items: dict[tuple, Item] = {}

    def protect(label: str, e: dict[int, int], true: int, percent: bool) -> None:
        key = (tuple(sorted(e.items())), percent)
        if key not in items:
            items[key] = Item(label, e, true, percent)

    # A funder may see the figures of the partners that share with funders (even those it was
    # not shown: they were hidden to protect the others), a partner its own.
    for state in states:
        for m in world.reported(state):
            p = world.partners[m]
            if m in own or audience == "funder" and p.shares:
                continue
            for cell in p.values[state]:  # what it reported: a cell it left out is no figure
                i = var(state, m, cell)
                protect(f"{p.slug}'s {cell} (moment {state})", {i: 1}, prog.truth[i], True)
        for cell in world.cells:
            reporters = [
                m for m in world.reported(state) if cell in world.partners[m].values[state]
            ]
            others = [m for m in reporters if m not in own]
            if not others:
                continue  # no figure, or only the viewer's own
            e = expr(state, ("cell", cell))
            mine = {var(state, m, cell) for m in own}
            # For a partner, the figure less its own share (the same unknowns, but pinned
            # only if the others' part is): the insider rule.
            e = {i: c for i, c in e.items() if i not in mine}
            true = sum(world.value(state, m, cell) for m in world.reported(state) if m not in own)
            if true < world.threshold:
                what = "other partners' share of" if own else "initiative"
                protect(f"{what} {cell} (moment {state})", e, true, False)
    bad = prog.check(list(items.values()), PROTECTION_PERCENT)
    return [Finding(audience, item.label, item.true, low, high) for item, low, high in bad]


def attack_all(world: World, seen: Seen, engine_threshold: int) -> list[Finding]:
    out = []
    for audience, facts in seen.facts.items():
        out += attack(world, facts, audience, engine_threshold)
    return out


def run_world(session, client, world: World, engine_threshold: int | None = None, http=False):
    app = Application(session, client, world, engine_threshold, http)
    seen = app.run()
    return attack_all(world, seen, app.engine_threshold)


# --- the tests ----------------------------------------------------------------------------------


def assert_safe(world: World, findings: list[Finding]) -> None:
    """No finding."""
    report = f"{world.describe()}\n" + "\n".join(map(str, findings))
    assert not findings, f"seed {world.seed!r}: the attacker narrowed protected figures:\n{report}"


def _seeds() -> list:
    """Fixed seeds, so a failure reproduces (CM_ATTACK_SEEDS="100-399" explores others)."""
    spec = os.environ.get("CM_ATTACK_SEEDS")
    if spec:
        first, _, last = spec.partition("-")
        return list(range(int(first), int(last or first) + 1))
    # Seed 73 is one of the worlds (60, 73, 92 and 93 of the first hundred) in which a late
    # report was given away before the rule on late reports: the attacker found it unaided.
    return [*range(15), 73]


@pytest.mark.parametrize("seed", _seeds())
def test_no_audience_can_narrow_a_protected_figure(session, client, seed) -> None:
    world = random_world(seed)
    assert_safe(world, run_world(session, client, world))


def test_the_answers_attacked_are_the_http_answers(session, client) -> None:
    """One more world, every view also fetched over HTTP with the viewer's token: the same
    answers the attacker reads (CM_ATTACK_HTTP=1 does this for every world)."""
    world = random_world(HTTP_SEED)
    assert_safe(world, run_world(session, client, world, http=True))


HTTP_SEED = 26


# Worlds in which one rule, and only it, protects something (the attacker's promise stays
# T = 10 and p = 10 %). Each is safe with every rule on, and leaks with its rule off.


def _partners(rows: list[dict], shares: list[bool] | None = None) -> list[Partner]:
    return [
        Partner(f"p{m + 1}", True if shares is None else shares[m], [row, row])
        for m, row in enumerate(rows)
    ]


def _row(a: int, b: int, **extra: int) -> dict:
    return {
        TOTAL: a + b,
        "d1=a": a,
        "d1=b": b,
        **{k.replace("_", "="): v for k, v in extra.items()},
    }


D1 = [("d1", ["d1=a", "d1=b"])]

# d1=a is small and d1=c its complement; p1's correction makes d1=b smaller than d1=c, so
# without the vintage rule the republication shows d1=c instead of d1=b, and d1=a follows.
_before = [(1, 20, 16), (1, 16, 14), (1, 15, 13), (0, 16, 14), (0, 16, 13)]
_vintage = _partners([{TOTAL: sum(r), "d1=a": r[0], "d1=b": r[1], "d1=c": r[2]} for r in _before])
_vintage[0].values[1] = {TOTAL: 17, "d1=a": 1, "d1=b": 0, "d1=c": 16}
_late = _partners([_row(50 + 10 * m, 50 + 10 * m) for m in range(4)] + [_row(4, 3)])
_late[4].values[0] = None

RULE_WORLDS = {
    # Eight children in d1=b, from five partners (no partner rule hides it).
    "small_cell": World(
        "small_cell", D1, _partners([_row(100 + 10 * m, b) for m, b in enumerate([2, 2, 2, 1, 1])])
    ),
    # Only p1 has reported (p2 has not, and the coverage says so): its figures are the
    # initiative's.
    "one_partner": World(
        "one_partner",
        D1,
        [Partner("p1", True, [_row(60, 50)] * 2), Partner("p2", True, [None, None])],
    ),
    # p1 (not sharing with funders) is nearly all of every figure; the funder sees the others.
    "dominant": World(
        "dominant",
        D1,
        _partners(
            [_row(600, 400), *(_row(10, 10) for _ in range(4))], [False, True, True, True, True]
        ),
    ),
    # In d1=b p1 has 40 and the three others 8 between them: p1 would know the others' 8.
    "insider": World(
        "insider", D1, _partners([_row(160, 40), _row(147, 3), _row(177, 3), _row(168, 2)])
    ),
    # p1 (200) does not share with funders. Hiding p2 (12) alone leaves p1 + p2 known to the
    # funder, with p2 ∈ [10, 13] (a complement, no bigger than p3's 13): p1 ∈ [199, 202].
    # What the hidden partners add up to must pass the partner rules: p2, p3 and p4 are hidden.
    "derived": World(
        "derived",
        D1,
        _partners(
            [_row(100, 100), _row(6, 6), _row(7, 6), _row(50, 50), _row(50, 50)],
            [False, True, True, True, True],
        ),
    ),
    "vintage": World("vintage", [("d1", ["d1=a", "d1=b", "d1=c"])], _vintage),
    # p5 reports 7 children after the first publication (see test_a_late_report_…).
    "late_report": World("late_report", D1, _late),
}

# Each rule, the world in which it alone protects something, and what leaks without it.
RULES = {
    "threshold": ("small_cell", "public: initiative d1=b (moment 0) = 8"),
    "complementary": ("small_cell", "public: initiative d1=b (moment 0) = 8"),
    "min_contributors": ("one_partner", "public: p1's total (moment 0) = 110"),
    "dominance": ("dominant", "funder: p1's d1=a (moment 0) = 600"),
    "insiders": ("insider", "p1: other partners' share of d1=b (moment 0) = 8"),
    "derived_figures": ("derived", "funder: p1's total (moment 0) = 200"),
    "sharing": ("derived", "funder: p1's total (moment 0) = 200"),
    "vintages": ("vintage", "public: initiative d1=a (moment 0) = 3"),
    "late_reports": ("late_report", "public: p5's total (moment 1) = 7"),
}


@pytest.fixture
def rule_off(request, monkeypatch):
    """Switch one rule of the engine off (the attacker's promise does not change)."""
    import models.analytics.disclosure
    import models.analytics.suppression
    import models.analytics.views
    from models.core.settings import get_settings

    rule = request.param
    if rule == "min_contributors":
        monkeypatch.setenv("CM_MIN_CONTRIBUTORS", "1")
    elif rule == "dominance":
        monkeypatch.setenv("CM_DOMINANCE_PERCENT", "0")
    elif rule == "insiders":
        monkeypatch.setattr(models.analytics.disclosure, "PARTNERS_ARE_VIEWERS", False)
    elif rule == "complementary":  # primary suppression only
        monkeypatch.setattr(models.analytics.suppression, "_protect", lambda *a, **k: None)
    elif rule == "derived_figures":
        monkeypatch.setattr(
            models.analytics.suppression, "_dominated_remainders", lambda *a, **k: set()
        )
    elif rule == "sharing":  # funders see every partner
        real = models.analytics.disclosure.audience_of

        def everyone(*, session, actor, initiative):
            audience = real(session=session, actor=actor, initiative=initiative)
            if actor.is_funder(initiative.id):
                members = session.scalars(
                    select(Member.id).where(Member.initiative_id == initiative.id)
                )
                audience = replace(audience, visible=frozenset(members))
            return audience

        monkeypatch.setattr(models.analytics.views, "audience_of", everyone)
    elif rule == "vintages":
        monkeypatch.setattr(models.analytics.disclosure, "period_memory", lambda *a, **k: {})
    elif rule == "late_reports":
        monkeypatch.setattr(
            models.analytics.disclosure, "_changed_by_too_few", lambda *a, **k: False
        )
    # The initiative figures are remembered by content; a rule switched off inside the engine
    # does not change the content, so the memory must not answer for it.
    models.analytics.disclosure._initiative_figures.cache_clear()
    get_settings.cache_clear()
    yield rule
    get_settings.cache_clear()
    models.analytics.disclosure._initiative_figures.cache_clear()


@pytest.mark.parametrize("name", sorted(RULE_WORLDS))
def test_the_rule_worlds_are_safe_with_every_rule_on(session, client, name) -> None:
    world = RULE_WORLDS[name]
    assert_safe(world, run_world(session, client, world))


@pytest.mark.parametrize("rule_off", sorted(RULES), indirect=True)
def test_with_any_one_rule_off_the_attacker_finds_a_leak(session, client, rule_off) -> None:
    name, expected = RULES[rule_off]
    world = RULE_WORLDS[name]
    threshold = 1 if rule_off == "threshold" else None  # under 1 nothing is small
    findings = run_world(session, client, world, engine_threshold=threshold)
    assert any(str(x).startswith(expected) for x in findings), (
        f"{rule_off} off: expected «{expected}…» among\n" + "\n".join(map(str, findings))
    )


def test_a_late_report_is_not_given_away(session, client) -> None:
    """Four partners report 100, 120, 140 and 160 children and the period is published (total
    520, four partners: every rule passes). The fifth partner's report — 7 children — is
    approved later and the period republished: total 527, five partners, every rule passes
    again. 527 − 520 = 7 is one partner's figure, under the threshold (and d1=a, d1=b give
    away its 4 and 3), there for anyone who kept the first vintage — and for funders and
    partners in the live views as soon as the report is approved, republished or not."""
    rows = [_row(50 + 10 * m, 50 + 10 * m) for m in range(4)] + [_row(4, 3)]
    world = World("late report", D1, _partners(rows))
    world.partners[4].values[0] = None
    assert_safe(world, run_world(session, client, world))


# --- the attacker on its own (no database) -----------------------------------------------------


def _facts(state: int, **cells: float | str) -> list[Fact]:
    out = []
    for key, shown in cells.items():
        key = key.replace("_", "=")
        value, marker = (None, shown) if isinstance(shown, str) else (shown, None)
        target = ("partner", int(key[1:]) - 1) if key.startswith("p") else ("cell", key)
        out.append(Fact(state, target, value, marker, None, ("view", target[0])))
    return out


SMALL_WORLD = World(
    "small",
    D1,
    _partners([_row(40, 5), _row(50, 2), _row(60, 1), _row(70, 0)], [True, True, True, False]),
)


def test_the_attacker_pins_a_small_cell_shown_exactly() -> None:
    facts = _facts(0, total=228, d1_a=220, d1_b=8)  # a view that forgot the threshold
    findings = attack(SMALL_WORLD, facts, "public", 10)
    assert "public: initiative d1=b (moment 0) = 8, attacker's interval [8, 8]" in map(
        str, findings
    )


def test_the_attacker_pins_a_small_cell_left_alone_and_its_complement_protects_it() -> None:
    alone = _facts(0, total=228, d1_a=220, d1_b="<10")  # total − d1=a
    assert any("initiative d1=b" in str(x) for x in attack(SMALL_WORLD, alone, "public", 10))
    both = _facts(0, total=228, d1_a="*", d1_b="<10")
    assert attack(SMALL_WORLD, both, "public", 10) == []


def test_the_attacker_pins_a_partner_the_others_give_away() -> None:
    """A funder shown the total and every sharing partner learns p4 (who does not share)."""
    facts = _facts(0, total=228, p1=45, p2=52, p3=61, d1_a="*", d1_b="<10")
    findings = {str(x) for x in attack(SMALL_WORLD, facts, "funder", 10)}
    assert "funder: p4's total (moment 0) = 70, attacker's interval [70, 70]" in findings
    fewer = _facts(0, total=228, p1=45, p2="*", p3="*", d1_a="*", d1_b="<10")
    assert not any("p4's total" in str(x) for x in attack(SMALL_WORLD, fewer, "funder", 10))


def test_the_attacker_applies_the_percent_rule() -> None:
    """p1 (100, not sharing) is the total 158 less p2's 50 less p3's figure, which the funder
    is told is under 10: p1 ∈ [99, 108], within 10 % on both sides though not pinned."""
    world = World(
        "p%", D1, _partners([_row(60, 40), _row(25, 25), _row(4, 4)], [False, True, True])
    )
    narrowed = attack(world, _facts(0, total=158, p2=50, p3="<10"), "funder", 10)
    assert "funder: p1's total (moment 0) = 100, attacker's interval [99, 108]" in map(
        str, narrowed
    )
    loose = attack(world, _facts(0, total=158, p2=50, p3="*"), "funder", 10)
    assert not any("p1's total" in str(x) for x in loose)


def test_exact_bounds_with_a_complement() -> None:
    """x + y = 25, x hidden as small (≤ 9), y as its complement (≥ 10, and no bigger than the
    20 still published): x ∈ [5, 9] exactly; under a 100 % promise that is a finding."""
    prog = Program()
    x, y, z = (prog.var(k, v) for k, v in (("x", 6), ("y", 19), ("z", 20)))
    prog.add({x: 1, y: 1}, 25, 25)
    prog.add({x: 1}, 0, 9)
    prog.add({y: 1}, 10, 20)  # complement: ≥ T, ≤ the published z
    prog.add({z: 1}, 20, 20)
    assert prog.violated() == []
    [(_, low, high)] = prog.check([Item("x", {x: 1}, 6, True)], 100.0)
    assert (low, high) == (5, 9)
    assert prog.check([Item("x", {x: 1}, 6, True)], 10.0) == []
