"""Attack review of what the figure views keep under the figure revisions (migration 0027,
``models.analytics.fresh``): whatever way a committed change is made — a script emptying a
table, a period made again with the same id, a write the session does not see as one — the
next answer is the committed state's, and nothing one viewer was given reaches another."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from models.analytics.fresh import answer_key
from models.analytics.suppression import NOT_PUBLISHED
from models.audit.trail import record
from models.core.actors import SYSTEM, Actor
from models.publishing.publish import publish
from models.tables.indicator import Indicator
from models.tables.initiative import Initiative

from .. import factories as f
from .test_fresh_figures import _kids, _periods, _setup
from .test_revisions import two_engines  # noqa: F401 (a fixture)

ROLLUP = (
    "INSERT INTO rollups (initiative_id, indicator_id, period_id, disaggregation, "
    "measure_type, sum_value, sum_numerator, sum_denominator, sum_weighted, contributors) "
    "SELECT i.initiative_id, i.id, p.id, 'total', 'count', :value, 0, 0, 0, 1 "
    "FROM indicators i JOIN periods p ON p.initiative_id = i.initiative_id "
    "WHERE i.code = 'KIDS' AND p.key = :period"
)


def _key(reader, initiative_id: int):
    with Session(reader) as s:
        return answer_key(s, s.get(Initiative, initiative_id).slug)


def _publish(writer, initiative_id: int, period: str = "2025Q3") -> None:
    with Session(writer) as s:
        publish(
            session=s,
            actor=Actor(label="t", backbone_of=frozenset({initiative_id})),
            initiative_slug="mine",
            period_key=period,
            confirm_incomplete=True,
            notify=False,
        )
        s.commit()


@pytest.mark.parametrize("table", ["rollups", "partner_totals", "publications"])
def test_truncating_a_watched_table_moves_the_figures(two_engines, table) -> None:  # noqa: F811
    """A script that empties a table (PostgreSQL's TRUNCATE fires no row or statement trigger
    for DELETE) must not leave a worker showing the figures it kept from the rows."""
    writer, reader = two_engines
    if writer.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    ids = _setup(writer)
    _publish(writer, ids["mine"])
    backbone = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    funder = Actor(label="f", funder_of=frozenset({ids["mine"]}))
    with Session(reader) as s:
        assert _kids(s, backbone).current.value == 5
        assert _kids(s, funder).current.reason != NOT_PUBLISHED
    before = _key(reader, ids["mine"])
    with writer.begin() as conn:
        conn.execute(text(f"TRUNCATE {table}"))
    assert _key(reader, ids["mine"]) != before
    with Session(reader) as s:
        kids = _kids(s, backbone)
        if table == "rollups":
            assert kids.sparkline == [("2025Q2", None), ("2025Q3", None)]
        if table == "publications":
            assert _kids(s, funder).current.reason == NOT_PUBLISHED


def test_truncating_the_rollups_stops_a_kept_answer_in_the_api(two_engines) -> None:  # noqa: F811
    """The same through the API, whose whole answers are kept under every period's revision."""
    from api.app import create_app

    writer, reader = two_engines
    if writer.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    ids = _setup(writer)
    with Session(writer) as s:
        f.user(s, "admin", email="staff@mine.org")
        s.commit()
    app = create_app(sessionmaker(reader, expire_on_commit=False), with_dashboard=False)
    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "staff@mine.org", "password": f.PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        path = "/api/v1/initiatives/mine/indicators/KIDS/series"
        first = client.get(path, headers=headers)
        assert first.status_code == 200, first.text
        assert [p["figure"]["value"] for p in first.json()["total"]] == [3, 5]
        with writer.begin() as conn:
            conn.execute(text("TRUNCATE rollups"))
        # An event as the app's writes leave one (the ETag's data version moves with it).
        with Session(writer) as s:
            record(
                session=s,
                actor=SYSTEM,
                initiative_id=ids["mine"],
                entity_type="rollup",
                entity_id=None,
                action="rebuild",
            )
            s.commit()
        again = client.get(path, headers=headers)
        assert again.status_code == 200, again.text
        assert again.json()["total"] == []


def test_a_period_made_again_with_the_same_id_shows_its_own_figures(two_engines) -> None:  # noqa: F811
    """A period deleted (its rollups with it) and made again with the same id and key, with
    other figures: nothing kept of the first may stand for the second."""
    writer, reader = two_engines
    ids = _setup(writer)
    backbone = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    periods = _periods(writer, ids)
    with Session(reader) as s:
        assert _kids(s, backbone).current.value == 5
    with writer.begin() as conn:
        row = conn.execute(
            text("SELECT * FROM periods WHERE id = :id"), {"id": periods["2025Q3"]}
        ).one()
        conn.execute(text("DELETE FROM periods WHERE id = :id"), {"id": periods["2025Q3"]})
        values = row._asdict()
        conn.execute(
            text(
                f"INSERT INTO periods ({', '.join(values)}) "
                f"VALUES ({', '.join(':' + c for c in values)})"
            ),
            values,
        )
        conn.execute(text(ROLLUP), {"value": 11, "period": "2025Q3"})
    assert _periods(writer, ids)["2025Q3"] == periods["2025Q3"]
    with Session(reader) as s:
        kids = _kids(s, backbone)
        assert (kids.current.value, kids.sparkline) == (11, [("2025Q2", 3), ("2025Q3", 11)])


def test_no_viewer_is_given_another_viewers_kept_answer(two_engines) -> None:  # noqa: F811
    """The backbone's answers kept first (whole, and each period's exact figures); then a
    funder, a partner's reporter, another initiative's backbone and an anonymous client ask
    the same questions, with the backbone's validators too; then a grant removed, a user
    deactivated and a key revoked behind the app's back: none is given what it may not see."""
    from api.app import create_app

    writer, reader = two_engines
    ids = _setup(writer)
    _publish(writer, ids["mine"])
    with Session(writer) as s:
        mine, other = s.get(Initiative, ids["mine"]), s.get(Initiative, ids["other"])
        east = f.organisation(s, slug="far", name="Far")  # a partner of the other initiative
        f.member(s, other, east)
        users = {
            "bob": f.user(s, "backbone", init=mine, email="bob@mine.org"),
            "fay": f.user(s, "funder", init=mine, email="fay@fund.org"),
            "rex": f.user(s, "reporter", init=mine, org=_org(s, "east"), email="rex@east.org"),
            "oli": f.user(s, "backbone", init=other, email="oli@other.org"),
            "ray": f.user(s, "reporter", init=other, org=east, email="ray@far.org"),
        }
        s.commit()
        uid = {name: u.id for name, u in users.items()}
    app = create_app(sessionmaker(reader, expire_on_commit=False), with_dashboard=False)
    paths = [
        "/api/v1/initiatives/mine/scorecard?period=2025Q3",
        "/api/v1/initiatives/mine/indicators/KIDS/series",
        "/api/v1/initiatives/mine/indicators/RATE/equity?dimension=race",
    ]
    with TestClient(app) as client:
        headers = {}
        for name, u in users.items():
            r = client.post(
                "/api/v1/auth/token", data={"username": u.email, "password": f.PASSWORD}
            )
            headers[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        made = client.post(
            "/api/v1/api-keys", json={"name": "sync", "initiative": "mine"}, headers=headers["bob"]
        )
        assert made.status_code == 201, made.text
        headers["key"] = {"Authorization": f"Bearer {made.json()['key']}"}
        headers["anonymous"] = {}
        kept = {}
        for path in paths:
            for _ in range(2):  # the second is the kept answer
                answer = client.get(path, headers=headers["bob"])
                assert answer.status_code == 200, (path, answer.text)
            kept[path] = answer
        assert '"value":5.0' in kept[paths[0]].text  # the backbone's exact figure

        def asks(name: str, path: str) -> list:
            got = []
            tag = kept[path].headers["etag"]
            for extra in (
                {},
                {"If-None-Match": tag},
                {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
            ):
                for method in (client.get, client.head):
                    r = method(path, headers={**headers[name], **extra})
                    assert r.status_code != 304, (name, path, extra)
                    if method is client.get and r.status_code == 200:
                        assert r.content != kept[path].content, (name, path, extra)
                        assert '"value":5.0' not in r.text, (name, path, extra)
                    got.append(r.status_code)
            return got

        for path in paths:
            for name in ("fay", "rex"):
                assert set(asks(name, path)) <= {200, 405}, (name, path)
            for name in ("oli", "ray"):
                assert 200 not in asks(name, path), (name, path)
            assert set(asks("anonymous", path)) <= {401, 405}, path
            assert client.get(path, headers=headers["key"]).status_code == 200

        def raw(sql: str, **params) -> None:
            with writer.begin() as conn:
                conn.execute(text(sql), params)

        raw("DELETE FROM role_grants WHERE user_id = :u", u=uid["fay"])
        raw("UPDATE users SET is_active = false WHERE id = :u", u=uid["rex"])
        raw("UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP")
        for path in paths:
            assert client.get(path, headers=headers["fay"]).status_code in (403, 404), path
            assert client.get(path, headers=headers["rex"]).status_code == 401, path
            assert client.get(path, headers=headers["key"]).status_code == 401, path
            assert client.get(path, headers=headers["bob"]).content == kept[path].content


def _org(session: Session, slug: str):
    from models.tables.organisation import Organisation

    return session.query(Organisation).filter_by(slug=slug).one()


def test_concurrent_approvals_and_a_reopening_lose_no_bump_and_deadlock_nowhere(
    two_engines,  # noqa: F811
) -> None:
    """Six partners' reports of one quarter approved at once, East's approved report of it
    reopened and its publication made at the same time, each by its own worker, while a
    reader keeps asking: no transaction fails, and once all have committed the reader's next
    answer is the committed state's (a bump lost or read early would leave a kept figure)."""
    import threading

    from models.reporting.submissions import save_values, transition
    from models.reporting.validation import ValueInput

    writer, reader = two_engines
    if writer.dialect.name != "postgresql":
        pytest.skip("concurrent writers are PostgreSQL's (SQLite's tell all but one to retry)")
    ids = _setup(writer)
    backbone = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    names = [f"p{i}" for i in range(6)]
    with Session(writer) as s:
        mine = s.get(Initiative, ids["mine"])
        kids = s.query(Indicator).filter_by(initiative_id=mine.id, code="KIDS").one()
        for name in names:
            f.obligation(s, f.member(s, mine, f.organisation(s, slug=name)), kids)
        s.commit()
        for n, name in enumerate(names, start=1):
            common = {"initiative_slug": "mine", "org_slug": name, "period_key": "2025Q3"}
            save_values(
                session=s, actor=SYSTEM, inputs=[ValueInput("KIDS", value=10 * n)], **common
            )
            transition(session=s, actor=SYSTEM, action="submit", **common)
        s.commit()
    with Session(reader) as s:
        assert _kids(s, backbone).current.value == 5  # East's alone: kept
    before = _key(reader, ids["mine"])
    start = threading.Barrier(len(names) + 3)
    failures: list[BaseException] = []
    seen: list[float | None] = []
    done = threading.Event()

    def act(org: str, action: str) -> None:
        try:
            with Session(writer) as s:
                start.wait(timeout=30)
                if action == "publish":
                    _publish_in(s, ids["mine"])
                else:
                    transition(
                        session=s,
                        actor=SYSTEM,
                        action=action,
                        initiative_slug="mine",
                        org_slug=org,
                        period_key="2025Q3",
                        comment="recount" if action == "reopen" else None,
                    )
                s.commit()
        except BaseException as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    def read() -> None:
        start.wait(timeout=30)
        while not done.is_set():
            with Session(reader) as s:
                seen.append(_kids(s, backbone).current.value)

    workers = [threading.Thread(target=act, args=(name, "approve")) for name in names]
    workers += [
        threading.Thread(target=act, args=("east", "reopen")),
        threading.Thread(target=act, args=("", "publish")),
    ]
    watcher = threading.Thread(target=read)
    for t in (*workers, watcher):
        t.start()
    for t in workers:
        t.join(timeout=120)
    done.set()
    watcher.join(timeout=60)
    assert not failures, failures
    assert seen  # the reader asked while the writers wrote
    with writer.connect() as conn:
        committed = conn.execute(
            text(
                "SELECT sum_value FROM rollups r JOIN periods p ON p.id = r.period_id "
                "WHERE p.key = '2025Q3' AND r.disaggregation = 'total' AND r.initiative_id = :i"
            ),
            {"i": ids["mine"]},
        ).scalar_one()
    assert committed == sum(10 * n for n in range(1, len(names) + 1))  # East's 5 taken out
    assert _key(reader, ids["mine"]) != before
    with Session(reader) as s:
        assert _kids(s, backbone).current.value == committed


def _publish_in(session: Session, initiative_id: int) -> None:
    publish(
        session=session,
        actor=Actor(label="t", backbone_of=frozenset({initiative_id})),
        initiative_slug="mine",
        period_key="2025Q3",
        confirm_incomplete=True,
        notify=False,
    )


@pytest.mark.parametrize(
    "write",
    [
        (
            "WITH w AS (UPDATE rollups SET sum_value = 99 WHERE sum_value = 5 RETURNING 1) "
            "SELECT count(*) FROM w"
        ),
        "  update rollups SET sum_value = 99 WHERE sum_value = 5",
        "TRUNCATE rollups",
    ],
)
def test_a_write_the_session_does_not_count_keeps_nothing(two_engines, write) -> None:  # noqa: F811
    """A transaction that wrote however it wrote (a data-changing CTE, a statement as written
    by hand, a TRUNCATE) reads its own uncommitted rows and counter: kept, they would be taken after it
    rolled back, once another commit brought the counter to the same number."""
    writer, reader = two_engines
    if writer.dialect.name != "postgresql" and not write.lstrip().startswith("update"):
        pytest.skip("a data-changing CTE and TRUNCATE are PostgreSQL's")
    ids = _setup(writer)
    backbone = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    with Session(reader) as s:
        s.execute(text(write))
        shown = _kids(s, backbone).current.value  # its own write
        assert shown == (None if write.startswith("TRUNCATE") else 99)
        s.rollback()
    with writer.begin() as conn:  # the counter reaches what the rolled-back write reached
        conn.execute(text("UPDATE rollups SET sum_value = 6 WHERE sum_value = 5"))
    with Session(reader) as s:
        assert _kids(s, backbone).current.value == 6


def test_the_partners_own_figures_are_never_kept_under_the_figure_revisions(
    two_engines,  # noqa: F811
) -> None:
    """The partners' own figures are read from the values, which no figure revision counts:
    a value corrected behind the app's back shows at once in every view that shows them —
    the series by partner, and equity by partner, which is that series."""
    from api.app import create_app

    writer, reader = two_engines
    ids = _setup(writer)
    with Session(writer) as s:
        f.user(s, "backbone", init=s.get(Initiative, ids["mine"]), email="bob@mine.org")
        s.commit()
    app = create_app(sessionmaker(reader, expire_on_commit=False), with_dashboard=False)
    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "bob@mine.org", "password": f.PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        base = "/api/v1/initiatives/mine/indicators/KIDS"

        def east() -> dict[str, list]:
            out = {}
            for path, points in (
                (f"{base}/series?by=partner", lambda a: a["breakdown"]),
                (
                    f"{base}/equity?dimension=partner",
                    lambda a: [c for p in a["points"] for c in p["categories"]],
                ),
            ):
                answer = client.get(path, headers=headers)
                assert answer.status_code == 200, (path, answer.text)
                out[path] = sorted(str(p) for p in points(answer.json()) if "east" in str(p))
            return out

        first = east()
        assert all(first.values()) and all("5.0" in str(v) for v in first.values()), first
        with writer.begin() as conn:
            conn.execute(text('UPDATE "values" SET value = 8 WHERE value = 5'))
        # An event that moves the figures' data version (the ETag's), as a fix would leave.
        with Session(writer) as s:
            record(
                session=s,
                actor=SYSTEM,
                initiative_id=ids["mine"],
                entity_type="rollup",
                entity_id=None,
                action="rebuild",
            )
            s.commit()
        again = east()
        for path, shown in again.items():
            assert "8.0" in str(shown) and "5.0" not in str(shown), (path, shown)


def test_a_parameter_given_twice_is_keyed_as_the_view_reads_it(two_engines) -> None:  # noqa: F811
    """``?period=A&period=B`` asks for B (the last one given wins) and ``?period=B&period=A``
    for A: the two must not share a key, nor one be given the other's answer or ETag."""
    from api.app import create_app

    writer, reader = two_engines
    _setup(writer)
    with Session(writer) as s:
        f.user(s, "admin", email="staff@mine.org")
        s.commit()
    app = create_app(sessionmaker(reader, expire_on_commit=False), with_dashboard=False)
    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "staff@mine.org", "password": f.PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        path = "/api/v1/initiatives/mine/scorecard"
        answers = {}
        for first, last in (("2025Q2", "2025Q3"), ("2025Q3", "2025Q2")):
            single = client.get(f"{path}?period={last}", headers=headers)
            twice = client.get(f"{path}?period={first}&period={last}", headers=headers)
            assert twice.status_code == single.status_code == 200, twice.text
            assert twice.json()["period"] == single.json()["period"] == last
            answers[last] = twice
        assert answers["2025Q2"].headers["etag"] != answers["2025Q3"].headers["etag"]
