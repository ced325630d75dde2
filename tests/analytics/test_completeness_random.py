"""Completeness after random raw-SQL changes to the setup and the reports (names going back to
earlier ones, obligations, members, due dates, reports, totals, extensions), asked after each
and compared byte for byte with the answer made with nothing kept: what is kept is set aside
for the fresh answer, not cleared, so it goes on being used. ``CM_FUZZ_SEED`` and
``CM_FUZZ_STEPS`` run other or longer sequences; ``CM_FUZZ_DUMP`` writes each answer to a file
(to compare two versions of the code on the same sequence)."""

from __future__ import annotations

import os
import random
from datetime import date, timedelta

from sqlalchemy import text

from ..access.test_kept_actors import _raw, two_engines, world  # noqa: F401

PATHS = [
    "/api/v1/initiatives/mine/completeness?period=2025Q3",
    "/api/v1/initiatives/mine/completeness?period=2025Q4",
    "/api/v1/initiatives/mine/completeness",
]


def _swap(world, kept=None):  # noqa: F811
    from api.routers import analytics as router
    from models.analytics import views

    names_v = ["_SETUP", "_REPORTS", "_GRIDS", "_REPORTED", "_ROWS"]
    names_r = ["_ROW_JSON", "_GRID_JSON"]
    app = world["client"].app
    now = (
        {n: getattr(views, n) for n in names_v},
        {n: getattr(router, n) for n in names_r},
        getattr(app.state, "response_cache", None),
    )
    if kept is None:
        for n in names_v:
            setattr(views, n, type(getattr(views, n))())
        for n in names_r:
            setattr(router, n, type(getattr(router, n))())
        if now[2] is not None:
            app.state.response_cache = type(now[2])()
    else:
        for n, v in kept[0].items():
            setattr(views, n, v)
        for n, v in kept[1].items():
            setattr(router, n, v)
        if kept[2] is not None:
            app.state.response_cache = kept[2]
    return now


def _get(world, path):  # noqa: F811
    r = world["client"].get(path, headers=world["headers"])
    return r.status_code, r.content


def _q(world, sql, **p):  # noqa: F811
    with world["writer"].connect() as conn:
        return conn.execute(text(sql), {**world, **p}).all()


NAMES = ["East", "West", "Alpha", "Zed", "East side"]
INAMES = ["Kids", "Meals", "Books"]


def _setup_more(world):  # noqa: F811
    for slug, name in (("west", "West"), ("north", "North"), ("south", "Alpha")):
        _raw(
            world,
            "INSERT INTO organisations (slug, name, sector) VALUES (:s, :n, 'education')",
            s=slug,
            n=name,
        )
    for slug in ("west", "north"):
        _raw(
            world,
            "INSERT INTO members (initiative_id, organisation_id, shares_with_funders, active) "
            "SELECT :mine, id, true, true FROM organisations WHERE slug = :s",
            s=slug,
        )
    for code in ("MEALS", "BOOKS"):
        _raw(
            world,
            "INSERT INTO indicators (initiative_id, code, name, measure_type, direction, unit, "
            "frequency, position) VALUES (:mine, :c, :c, 'count', 'higher', 'people', "
            "'quarterly', 0)",
            c=code,
        )
    _raw(
        world,
        "INSERT INTO periods (initiative_id, key, kind, starts_on, ends_on, opens_on, due_on, "
        "closes_on) VALUES (:mine, '2025Q4', 'quarter', '2025-10-01', '2025-12-31', "
        "'2026-01-01', :due, '2027-03-01')",
        due=date.today() + timedelta(days=1),
    )


def _op(world, rng: random.Random) -> str:  # noqa: F811
    members = [r[0] for r in _q(world, "SELECT id FROM members WHERE initiative_id = :mine")]
    inds = [r[0] for r in _q(world, "SELECT id FROM indicators WHERE initiative_id = :mine")]
    periods = [r[0] for r in _q(world, "SELECT id FROM periods WHERE initiative_id = :mine")]
    orgs = [r[0] for r in _q(world, "SELECT id FROM organisations")]
    subs = [r[0] for r in _q(world, "SELECT id FROM submissions WHERE initiative_id = :mine")]
    kind = rng.choice(
        [
            "org name",
            "org name",
            "member active",
            "obligation",
            "obligation",
            "indicator name",
            "indicator position",
            "due",
            "submission",
            "submission",
            "status",
            "status",
            "value",
            "value",
            "value",
            "delete submission",
            "extension",
            "outcome",
            "org slug",
        ]
    )
    m, i, p = rng.choice(members), rng.choice(inds), rng.choice(periods)
    if kind == "org name":
        o, n = rng.choice(orgs), rng.choice(NAMES)
        _raw(world, "UPDATE organisations SET name = :n WHERE id = :o", n=n, o=o)
        return f"{kind} {o} {n}"
    if kind == "org slug":
        o = rng.choice(orgs)
        _raw(world, "UPDATE organisations SET slug = slug || 'x' WHERE id = :o", o=o)
        return f"{kind} {o}"
    if kind == "member active":
        _raw(world, "UPDATE members SET active = NOT active WHERE id = :m", m=m)
        return f"{kind} {m}"
    if kind == "obligation":
        has = _q(
            world, "SELECT 1 FROM obligations WHERE member_id = :m AND indicator_id = :i", m=m, i=i
        )
        if has:
            _raw(
                world,
                "DELETE FROM obligations WHERE member_id = :m AND indicator_id = :i",
                m=m,
                i=i,
            )
        else:
            _raw(
                world, "INSERT INTO obligations (member_id, indicator_id) VALUES (:m, :i)", m=m, i=i
            )
        return f"{kind} {m} {i} {'-' if has else '+'}"
    if kind == "indicator name":
        n = rng.choice(INAMES)
        _raw(world, "UPDATE indicators SET name = :n WHERE id = :i", n=n, i=i)
        return f"{kind} {i} {n}"
    if kind == "indicator position":
        n = rng.randint(0, 2)
        _raw(world, "UPDATE indicators SET position = :n WHERE id = :i", n=n, i=i)
        return f"{kind} {i} {n}"
    if kind == "due":
        _raw(
            world,
            "UPDATE periods SET due_on = CASE WHEN due_on = opens_on THEN closes_on "
            "ELSE opens_on END WHERE id = :p",
            p=p,
        )
        return f"{kind} {p}"
    if kind == "submission":
        if _q(world, "SELECT 1 FROM submissions WHERE member_id = :m AND period_id = :p", m=m, p=p):
            return "noop"
        st = rng.choice(["draft", "submitted", "approved", "returned"])
        sub = "CURRENT_TIMESTAMP" if st != "draft" else "NULL"
        _raw(
            world,
            "INSERT INTO submissions (initiative_id, member_id, period_id, status, version, "
            f"is_late, first_submitted_at, submitted_at, created_at, updated_at) VALUES "
            f"(:mine, :m, :p, :st, 1, :late, {sub}, {sub}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            m=m,
            p=p,
            st=st,
            late=rng.random() < 0.5,
        )
        return f"{kind} {m} {p} {st}"
    if not subs:
        return "noop"
    s = rng.choice(subs)
    if kind == "status":
        st = rng.choice(["draft", "submitted", "approved", "returned"])
        _raw(world, "UPDATE submissions SET status = :st WHERE id = :s", st=st, s=s)
        return f"{kind} {s} {st}"
    if kind == "delete submission":
        _raw(world, "DELETE FROM submissions WHERE id = :s", s=s)
        return f"{kind} {s}"
    if kind == "value":
        has = _q(
            world,
            'SELECT 1 FROM "values" WHERE submission_id = :s AND indicator_id = :i '
            "AND disaggregation = 'total'",
            s=s,
            i=i,
        )
        with world["writer"].begin() as conn:
            if has:
                conn.execute(
                    text(
                        'DELETE FROM "values" WHERE submission_id = :s AND indicator_id = :i '
                        "AND disaggregation = 'total'"
                    ),
                    {"s": s, "i": i},
                )
            else:
                conn.execute(
                    text(
                        'INSERT INTO "values" (submission_id, initiative_id, period_id, '
                        "indicator_id, measure_type, disaggregation, value, flags, updated_at) "
                        "SELECT id, initiative_id, period_id, :i, 'count', 'total', 7, '[]', "
                        "CURRENT_TIMESTAMP FROM submissions WHERE id = :s"
                    ),
                    {"s": s, "i": i},
                )
            conn.execute(
                text("UPDATE submissions SET version = version + 1 WHERE id = :s"), {"s": s}
            )
        return f"{kind} {s} {i} {'-' if has else '+'}"
    if kind == "extension":
        has = _q(
            world,
            "SELECT 1 FROM deadline_extensions WHERE member_id = :m AND period_id = :p",
            m=m,
            p=p,
        )
        if has:
            _raw(
                world,
                "DELETE FROM deadline_extensions WHERE member_id = :m AND period_id = :p",
                m=m,
                p=p,
            )
        else:
            _raw(
                world,
                "INSERT INTO deadline_extensions (initiative_id, member_id, period_id, until, "
                "reason, granted_at) VALUES (:mine, :m, :p, :later, 'flood', CURRENT_TIMESTAMP)",
                m=m,
                p=p,
                later=date.today() + timedelta(days=3),
            )
        return f"{kind} {m} {p}"
    if kind == "outcome":
        _raw(
            world,
            "INSERT INTO outcomes (initiative_id, code, name, position) "
            "VALUES (:mine, :c, 'Ready', 1)",
            c=f"O{rng.randint(0, 10**9)}",
        )
        return kind
    return "noop"


def test_kept_answers_follow_random_changes(world) -> None:  # noqa: F811
    seed = int(os.environ.get("CM_FUZZ_SEED", "1"))
    steps = int(os.environ.get("CM_FUZZ_STEPS", "20"))
    rng = random.Random(seed)
    _setup_more(world)
    done = []
    for step in range(steps):
        done.append(_op(world, rng))
        for path in rng.sample(PATHS, k=rng.randint(1, 3)):
            kept_answer = _get(world, path)
            again = _get(world, path)
            saved = _swap(world)
            try:
                fresh = _get(world, path)
            finally:
                _swap(world, saved)
            if os.environ.get("CM_FUZZ_DUMP"):
                with open(os.environ["CM_FUZZ_DUMP"] + world["writer"].dialect.name, "ab") as out:
                    out.write(f"{step} {path} {done[-1]}\n".encode() + kept_answer[1] + b"\n")
            assert kept_answer == fresh, (step, path, done[-8:])
            assert again == fresh, (step, path, done[-8:])


def test_kept_answers_follow_changes_made_while_read_in_threads(world) -> None:  # noqa: F811
    """Readers in three threads while raw SQL changes things (on PostgreSQL's primary a
    request's statements each see the newest commits); once quiet, the kept answer is the
    fresh one."""
    import threading
    from dataclasses import replace

    from sqlalchemy.orm import Session

    from models.analytics import views
    from models.core.actors import Actor

    backbone = Actor(user_id=world["bob"], label="bob", backbone_of=frozenset({world["mine"]}))

    def ask(period="2025Q3"):
        with Session(world["reader"]) as session:
            c = views.completeness(
                session=session, actor=backbone, initiative_slug="mine", period_key=period
            )
            return replace(c, key=None)

    rng = random.Random(int(os.environ.get("CM_FUZZ_SEED", "1")))
    _setup_more(world)
    for step in range(int(os.environ.get("CM_FUZZ_STEPS", "15"))):
        stop = threading.Event()

        def loop(stop=stop):
            while not stop.is_set():
                ask(rng.choice(["2025Q3", "2025Q4"]))

        threads = [threading.Thread(target=loop) for _ in range(3)]
        for t in threads:
            t.start()
        done = [_op(world, rng) for _ in range(3)]
        stop.set()
        for t in threads:
            t.join()
        for period in ("2025Q3", "2025Q4"):
            kept = ask(period)
            saved = _swap(world)
            try:
                fresh = ask(period)
            finally:
                _swap(world, saved)
            assert kept == fresh, (step, period, done)
