"""Where an import spends its time: pyinstrument over the real import path.

python -m bench.profile_import [--db sqlite|postgresql] [--rows 100000] [--quarters 4]

``--quarters 40`` gives each of the 200 partners ten years of approved history (about a million
values), as in one initiative of the full benchmark.
"""

from __future__ import annotations

import argparse
import io

from pyinstrument import Profiler
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import migrations
from bench.__main__ import _database, _empty_quarters
from bench.dataset import Size, build, csv_for_import
from models import Initiative
from models.core.actors import Actor
from models.spreadsheets.imports import import_file


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quarters", type=int, default=4, help="of history in the dataset")
    args = parser.parse_args(argv)
    url, drop = _database(args.db)
    try:
        _profile(url, args.rows, args.quarters)
    finally:
        drop()


def _profile(url: str, rows: int, history: int) -> None:
    migrations.upgrade(url)
    engine = create_engine(url)
    built = build(
        engine, Size(initiatives=1, members=200, indicators=12, quarters=history), progress=str
    )
    per_quarter = len(csv_for_import(built, 10**9)[1])
    with Session(engine) as s:
        init_id = s.scalar(select(Initiative.id).where(Initiative.slug == built.initiative_slug))
        quarters = _empty_quarters(s, init_id, -(-rows // per_quarter))
    body, _ = csv_for_import(built, rows, periods=quarters)
    with Session(engine) as s:
        init_id = s.scalar(select(Initiative.id).where(Initiative.slug == built.initiative_slug))
        actor = Actor(label="profile", backbone_of=frozenset({init_id}))
        profiler = Profiler(interval=0.002)
        profiler.start()
        report = import_file(
            session=s,
            actor=actor,
            initiative_slug=built.initiative_slug,
            stream=io.BytesIO(body),
            filename="p.csv",
            content_type="text/csv",
        )
        s.commit()
        profiler.stop()
    assert report.ok
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
