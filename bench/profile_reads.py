"""Where a read view spends its time when computed afresh: the real view and its rendering, in
process, timed and profiled (pyinstrument).

python -m bench.profile_reads [--db sqlite|postgresql] [--members 200] [--quarters 12]
                              [--published 4] [--repeat 10] [--profile scorecard ...]

One initiative of ``--members`` partners × 12 indicators × ``--quarters`` quarters, every
value broken down (11 cells); ``--members 200 --quarters 40`` is one initiative of the full
benchmark (about a million values). The last ``--published`` quarters are published, so a
funder's views read publications as they do in a reporting season. Each view is timed as a
request computes it after a change: a fresh session, the view, then the JSON the API sends.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyinstrument import Profiler
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

import migrations
from api.routers.analytics import (
    _completeness_json,
    _equity_read,
    _scorecard_read,
    _series_read,
)
from api.routers.analytics import _rendered as _body
from bench.__main__ import _database
from bench.dataset import Size, build
from models import Initiative, Member, Organisation
from models.analytics.disclosure import _initiative_figures
from models.analytics.fresh import BY_PERIOD
from models.analytics.views import completeness, equity, scorecard, series
from models.core.actors import Actor
from models.publishing.publish import publish
from models.reporting.submissions import transition


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--quarters", type=int, default=12)
    parser.add_argument("--published", type=int, default=4, help="latest quarters published")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--profile", nargs="*", default=[], help="views to profile")
    parser.add_argument("--dump", type=Path, help="write each answer there (to compare)")
    args = parser.parse_args(argv)
    url, drop = _database(args.db)
    try:
        migrations.upgrade(url)
        engine = create_engine(url)
        size = Size(initiatives=1, members=args.members, indicators=12, quarters=args.quarters)
        t = time.perf_counter()
        built = build(engine, size, progress=str)
        print(f"{built.values:,} values in {time.perf_counter() - t:.0f} s")
        with Session(engine) as s:
            init_id = s.scalar(
                select(Initiative.id).where(Initiative.slug == built.initiative_slug)
            )
            org_id = s.scalar(
                select(Organisation.id)
                .join(Member, Member.organisation_id == Organisation.id)
                .where(Member.initiative_id == init_id)
                .order_by(Organisation.slug)
                .limit(1)
            )
        backbone = Actor(label="profile", backbone_of=frozenset({init_id}))
        funder = Actor(label="profile-funder", funder_of=frozenset({init_id}))
        reporter = Actor(label="profile-reporter", reporter_in=frozenset({(init_id, org_id)}))
        quarters = built.periods[:-1]  # the last one is empty
        for key in quarters[len(quarters) - args.published :]:
            with Session(engine) as s:
                publish(
                    session=s,
                    actor=backbone,
                    initiative_slug=built.initiative_slug,
                    period_key=key,
                    confirm_incomplete=True,
                )
                s.commit()
        slug, code = built.initiative_slug, built.indicator_codes[0]
        earlier = quarters[-3]
        views: dict[str, Callable[[Session], Any]] = {
            "scorecard": lambda s: _scorecard_read(
                scorecard(session=s, actor=backbone, initiative_slug=slug)
            ),
            "scorecard-funder": lambda s: _scorecard_read(
                scorecard(session=s, actor=funder, initiative_slug=slug)
            ),
            "series": lambda s: _series_read(
                series(
                    session=s, actor=backbone, initiative_slug=slug, indicator_code=code, by="race"
                )
            ),
            "series-funder": lambda s: _series_read(
                series(
                    session=s, actor=funder, initiative_slug=slug, indicator_code=code, by="race"
                )
            ),
            "equity": lambda s: _equity_read(
                equity(
                    session=s,
                    actor=backbone,
                    initiative_slug=slug,
                    indicator_code=code,
                    dimension="race",
                )
            ),
            "equity-funder": lambda s: _equity_read(
                equity(
                    session=s,
                    actor=funder,
                    initiative_slug=slug,
                    indicator_code=code,
                    dimension="race",
                )
            ),
            "completeness": lambda s: _completeness_json(
                completeness(
                    session=s, actor=backbone, initiative_slug=slug, period_key=quarters[-2]
                )
            ),
        }
        if args.dump:  # more answers, for comparing two versions of the code
            views |= {
                "scorecard-earlier": lambda s: _scorecard_read(
                    scorecard(session=s, actor=backbone, initiative_slug=slug, period_key=earlier)
                ),
                "scorecard-funder-earlier": lambda s: _scorecard_read(
                    scorecard(session=s, actor=funder, initiative_slug=slug, period_key=earlier)
                ),
                "scorecard-reporter": lambda s: _scorecard_read(
                    scorecard(session=s, actor=reporter, initiative_slug=slug)
                ),
                "series-partner-funder": lambda s: _series_read(
                    series(
                        session=s,
                        actor=funder,
                        initiative_slug=slug,
                        indicator_code=code,
                        by="partner",
                    )
                ),
                "series-partner-reporter": lambda s: _series_read(
                    series(
                        session=s,
                        actor=reporter,
                        initiative_slug=slug,
                        indicator_code=code,
                        by="partner",
                    )
                ),
                "series-partner": lambda s: _series_read(
                    series(
                        session=s,
                        actor=backbone,
                        initiative_slug=slug,
                        indicator_code=code,
                        by="partner",
                    )
                ),
                "completeness-earlier": lambda s: _completeness_json(
                    completeness(
                        session=s, actor=backbone, initiative_slug=slug, period_key=earlier
                    )
                ),
                "completeness-default": lambda s: _completeness_json(
                    completeness(session=s, actor=backbone, initiative_slug=slug)
                ),
            }
        if args.dump:  # every answer, then again after a published figure changed
            for name, view in views.items():
                with Session(engine) as s:
                    body = _body(view(s))
                (args.dump / "before-approval").mkdir(parents=True, exist_ok=True)
                (args.dump / "before-approval" / f"{name}.json").write_bytes(body)
            # A published figure that changed since: the partner step hides more.
            org, key = built.submitted
            with Session(engine) as s:
                transition(
                    session=s,
                    actor=backbone,
                    initiative_slug=slug,
                    org_slug=org,
                    period_key=key,
                    action="approve",
                )
                s.commit()
        approve = _approval(engine, built, backbone, quarters[-1])
        _group_by(engine, init_id, args.repeat)
        for name, view in views.items():

            def once(view=view) -> int:
                _initiative_figures.cache_clear()
                BY_PERIOD.clear()  # nothing kept of any period: computed afresh
                with Session(engine) as s:
                    return len(_body(view(s)))

            if args.dump:  # first, with what was kept before the approval (only its quarter new)
                args.dump.mkdir(parents=True, exist_ok=True)
                with Session(engine) as s:
                    (args.dump / f"{name}.json").write_bytes(_body(view(s)))
            size_bytes = once()
            times, cpu = [], []
            for _ in range(args.repeat):
                t, c = time.perf_counter(), time.process_time()
                once()
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            print(
                f"{name:<18} median {statistics.median(times) * 1000:8.2f} ms  "
                f"min {min(times) * 1000:8.2f} ms  "
                f"cpu median {statistics.median(cpu) * 1000:8.2f} ms  "
                f"cpu min {min(cpu) * 1000:8.2f} ms  ({size_bytes:,} bytes)"
            )
            if name in args.profile:
                profiler = Profiler(interval=0.0005)
                profiler.start()
                for _ in range(args.repeat):
                    once()
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=False))
        # After an approval of the shown quarter (last: it changes the data the answers above
        # were written from): that quarter read and decided again, the others as kept under
        # their figure revisions.
        for name in ("scorecard", "series", "equity"):
            view = views[name]

            def warm(view=view) -> int:
                _initiative_figures.cache_clear()
                with Session(engine) as s:
                    return len(_body(view(s)))

            warm()
            times, cpu = [], []
            for _ in range(args.repeat):
                approve()
                t, c = time.perf_counter(), time.process_time()
                warm()
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            print(
                f"{name + ' approved':<18} median {statistics.median(times) * 1000:8.2f} ms  "
                f"min {min(times) * 1000:8.2f} ms  "
                f"cpu median {statistics.median(cpu) * 1000:8.2f} ms  "
                f"cpu min {min(cpu) * 1000:8.2f} ms"
            )
            if f"{name}-approved" in args.profile:
                profiler = Profiler(interval=0.0002)
                for _ in range(args.repeat):
                    approve()
                    profiler.start()
                    warm()
                    profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=False))
        engine.dispose()
    finally:
        drop()


def _group_by(engine, init_id: int, repeat: int) -> None:
    """The bench's plain ``GROUP BY`` of the scorecard and of the series by race (its covering
    index made as the bench makes it), timed here: the baseline of the ratios."""
    with engine.connect() as conn:
        conn.execute(
            text(
                'CREATE INDEX IF NOT EXISTS bench_best ON "values" (initiative_id, disaggregation, '
                "indicator_id, period_id, submission_id, value, numerator, denominator)"
            )
        )
        conn.commit()
        indicator = conn.scalar(
            text("SELECT min(id) FROM indicators WHERE initiative_id = :i"), {"i": init_id}
        )
        for name, sql, params in (
            ("GROUP BY scorecard", GROUP_BY_SCORECARD, {"i": init_id}),
            ("GROUP BY series", GROUP_BY_SERIES, {"i": init_id, "x": indicator}),
        ):
            conn.execute(sql, params).all()
            times, cpu = [], []
            for _ in range(repeat):
                t, c = time.perf_counter(), time.process_time()
                conn.execute(sql, params).all()
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            print(
                f"{name:<18} median {statistics.median(times) * 1000:8.2f} ms  "
                f"min {min(times) * 1000:8.2f} ms  "
                f"cpu median {statistics.median(cpu) * 1000:8.2f} ms  "
                f"cpu min {min(cpu) * 1000:8.2f} ms"
            )


GROUP_BY_SCORECARD = text(
    "SELECT v.indicator_id, v.period_id, SUM(v.value), SUM(v.numerator), "
    "SUM(v.denominator), SUM(v.value * v.denominator), COUNT(*) "
    'FROM "values" v JOIN submissions s ON s.id = v.submission_id '
    "AND s.status = 'approved' WHERE v.initiative_id = :i AND v.disaggregation = "
    "'total' GROUP BY v.indicator_id, v.period_id"
)
GROUP_BY_SERIES = text(
    "SELECT v.period_id, v.disaggregation, SUM(v.numerator), SUM(v.denominator) "
    'FROM "values" v JOIN submissions s ON s.id = v.submission_id '
    "AND s.status = 'approved' WHERE v.initiative_id = :i AND v.indicator_id = :x "
    "AND (v.disaggregation = 'total' OR v.disaggregation LIKE 'race=%') "
    "GROUP BY v.period_id, v.disaggregation"
)


def _approval(engine, built, actor: Actor, period_key: str) -> Callable[[], None]:
    """Each call: a partner's approved report of ``period_key`` reopened and submitted (one
    commit), then approved (another), through the workflow."""
    with Session(engine) as s:
        org = s.scalar(
            select(Organisation.slug)
            .join(Member, Member.organisation_id == Organisation.id)
            .join(Initiative, Initiative.id == Member.initiative_id)
            .where(Initiative.slug == built.initiative_slug)
            .order_by(Organisation.slug.desc())
            .limit(1)
        )
    where = {"initiative_slug": built.initiative_slug, "org_slug": org, "period_key": period_key}

    def approve() -> None:
        with Session(engine) as s:
            transition(session=s, actor=actor, action="reopen", comment="profile", **where)
            transition(session=s, actor=actor, action="submit", **where)
            s.commit()
        with Session(engine) as s:
            transition(session=s, actor=actor, action="approve", **where)
            s.commit()

    return approve


if __name__ == "__main__":
    main()
