"""Attacks on the figure views' kept answers (``api.routers.analytics._kept``, keyed by
``models.analytics.fresh.answer_key``): whatever an answer shows, a change to it makes a new
key, or the client keeps the old answer under the new ETag (README, "Scaling")."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from models.audit.trail import record
from models.core.actors import SYSTEM

from .. import factories as f
from .test_fresh_figures import _setup
from .test_revisions import two_engines  # noqa: F401 (a fixture)


def test_an_organisations_new_name_shows_in_the_partner_breakdown(two_engines) -> None:  # noqa: F811
    """An organisation's name is deployment setup (scope 0 of ``data_revisions``), shown in
    ``series?by=partner``: renamed, the kept answer must not be sent under the new ETag."""
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
        path = "/api/v1/initiatives/mine/indicators/KIDS/series?by=partner"

        def labels() -> set[str]:
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200, answer.text
            return {p["label"] for p in answer.json()["breakdown"]}

        assert labels() == {"East"}
        with writer.begin() as conn:
            conn.execute(text("UPDATE organisations SET name = 'East Side' WHERE slug = 'east'"))
        with Session(writer) as s:  # as the app's rename leaves one (deployment scope)
            record(
                session=s,
                actor=SYSTEM,
                initiative_id=None,
                entity_type="organisation",
                entity_id=None,
                action="update",
            )
            s.commit()
        assert labels() == {"East Side"}


def test_indicators_and_outcomes_changed_behind_the_app_show_at_once(two_engines) -> None:  # noqa: F811
    """Indicators and outcomes are kept as rows under the setup revision
    (``models.analytics.setup_rows``): a change to either made through raw SQL by another
    engine shows in the next scorecard and series, a new indicator is found, a deleted one is
    gone."""
    from api.app import create_app

    writer, reader = two_engines
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

        def get(path: str, status: int = 200) -> dict:
            answer = client.get(f"/api/v1/initiatives/mine/{path}", headers=headers)
            assert answer.status_code == status, answer.text
            return answer.json()

        def kids() -> dict:
            rows = get("scorecard?period=2025Q3")["rows"]
            return next(r for r in rows if r["code"] == "KIDS")

        def change(sql: str) -> None:
            with writer.begin() as conn:
                conn.execute(text(sql), ids)
            with Session(writer) as s:  # as the app's writes leave one
                record(
                    session=s,
                    actor=SYSTEM,
                    initiative_id=ids["mine"],
                    entity_type="indicator",
                    entity_id=None,
                    action="update",
                )
                s.commit()

        before = kids()
        assert get("indicators/KIDS/series")["name"] == before["name"]
        get("indicators/NEW/series", 404)
        change("UPDATE indicators SET name = 'Children', decimals = 2 WHERE code = 'KIDS'")
        assert (kids()["name"], kids()["decimals"]) == ("Children", 2)
        assert get("indicators/KIDS/series")["name"] == "Children"
        change(
            "UPDATE outcomes SET name = 'Renamed outcome' "
            "WHERE id = (SELECT outcome_id FROM indicators WHERE code = 'KIDS')"
        )
        assert kids()["outcome_name"] == "Renamed outcome"
        change("UPDATE indicators SET target_value = 42 WHERE code = 'KIDS'")
        assert kids()["end_target"] == 42
        change("UPDATE indicators SET code = 'NEW' WHERE code = 'KIDS'")
        get("indicators/KIDS/series", 404)
        assert get("indicators/NEW/series")["name"] == "Children"
        # Another initiative's indicator of the same code is never this one's.
        assert (
            client.get(
                "/api/v1/initiatives/other/indicators/NEW/series", headers=headers
            ).status_code
            == 404
        )


def test_no_etag_read_during_approvals_names_an_older_answer_than_it_was_sent_with(
    two_engines,  # noqa: F811
) -> None:
    """A figure view's ETag and answer key are read in one statement on PostgreSQL (its first,
    ``models.analytics.views.read_version_first``), while figures keep changing: once the
    writes stop, every ETag a client was sent either still describes the answer (a 304 sends
    nothing new) or is refused (200 with the current answer); no client keeps an older body
    under an ETag the server takes as current."""
    import threading

    from api.app import create_app

    writer, reader = two_engines
    ids = _setup(writer)
    with Session(writer) as s:
        f.user(s, "admin", email="staff@mine.org")
        s.commit()
    app = create_app(sessionmaker(reader, expire_on_commit=False), with_dashboard=False)
    path = "/api/v1/initiatives/mine/scorecard?period=2025Q3"
    seen: list[tuple[str, float]] = []
    failures: list[BaseException] = []
    done = threading.Event()
    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "staff@mine.org", "password": f.PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def kids(answer) -> float:
            return next(r for r in answer.json()["rows"] if r["code"] == "KIDS")["current"]["value"]

        def poll() -> None:
            try:
                while not done.is_set():
                    answer = client.get(path, headers=headers)
                    assert answer.status_code == 200, answer.text
                    seen.append((answer.headers["ETag"], kids(answer)))
            except BaseException as error:  # noqa: BLE001 (reported below)
                failures.append(error)

        readers = [threading.Thread(target=poll) for _ in range(2)]
        for thread in readers:
            thread.start()
        for _ in range(25):
            with Session(writer) as s:  # a figure and its audit event, one commit (an approval)
                s.execute(text("UPDATE rollups SET sum_value = sum_value + 1 WHERE sum_value >= 5"))
                record(
                    session=s,
                    actor=SYSTEM,
                    initiative_id=ids["mine"],
                    entity_type="submission",
                    entity_id=None,
                    action="approve",
                )
                s.commit()
        done.set()
        for thread in readers:
            thread.join(timeout=60)
        assert not failures, failures
        current = kids(client.get(path, headers=headers))
        assert current == 5 + 25
        assert seen
        for etag, value in set(seen):
            again = client.get(path, headers={**headers, "If-None-Match": etag})
            if again.status_code == 304:
                assert value == current, (etag, value, current)
            else:
                assert again.status_code == 200 and kids(again) == current
