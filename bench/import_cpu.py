"""The import's CPU time against the raw bulk insert's, in one process, for comparing two trees.

    python bench/import_cpu.py build --db sqlite|postgresql --target PATH_OR_DATABASE
    python bench/import_cpu.py run --db sqlite|postgresql --template PATH_OR_DATABASE
                               [--rows 200000] [--repeat 3]

``build`` makes one initiative (200 partners, 12 indicators, 8 quarters of approved history)
once; ``run`` copies it (a file copy, or ``CREATE DATABASE … TEMPLATE``) and then, ``--repeat``
times, imports ``--rows`` rows as ``python -m bench``'s import measure does (a CSV into new,
empty quarters, committed) after the raw bulk insert of the same rows into quarters of their
own (``executemany`` on SQLite, ``COPY`` on PostgreSQL, committed). It prints one JSON line per
round: the CPU time of this process (``time.process_time``) and, on PostgreSQL, of the server
process that ran the statements, for each. Run as a script, it imports the project from
``PYTHONPATH``, so the same file measures any tree: alternate the trees' processes on a shared
machine and compare CPU ratios, never one wall-clock run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import migrations
from bench.__main__ import POSTGRES, _empty_quarters
from bench.dataset import Size, _bulk_values, build, csv_for_import
from models import Category, Dimension, Indicator, Initiative, Member, Organisation, Period
from models.core.actors import Actor
from models.spreadsheets.imports import import_file
from models.tables.reporting import Submission

SIZE = Size(initiatives=1, members=200, indicators=12, quarters=8)
_TICK = os.sysconf("SC_CLK_TCK")


def _url(db: str, target: str) -> str:
    if db == "sqlite":
        return f"sqlite:///{target}"
    return make_url(POSTGRES).set(database=target).render_as_string(hide_password=False)


def _admin(statement: str) -> None:
    engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _server_cpu(session: Session) -> float:
    """CPU seconds of the PostgreSQL process serving this session (0 on SQLite)."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return 0.0
    pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _build(db: str, target: str) -> None:
    if db == "postgresql":
        _admin(f"DROP DATABASE IF EXISTS {target}")
        _admin(f"CREATE DATABASE {target}")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    url = _url(db, target)
    migrations.upgrade(url)
    engine = create_engine(url)
    build(engine, SIZE, progress=lambda *a: None)
    engine.dispose()


def _round(
    engine, slug: str, orgs: list[str], codes: list[str], rows: int, first: int, profile: bool
) -> dict:
    """One raw insert and one import of ``rows`` rows into quarters from the ``first``-th on."""

    class Built:  # what csv_for_import reads
        org_slugs, indicator_codes, open_period = orgs, codes, None

    per_quarter = len(orgs) * len(codes) * 11
    count = -(-rows // per_quarter)
    with Session(engine) as s:
        init_id = s.scalar(select(Initiative.id).where(Initiative.slug == slug))
        quarters = _empty_quarters(s, init_id, count, first=first)
        raw_quarters = _empty_quarters(s, init_id, count, first=first + count)
    body, _ = csv_for_import(Built, rows, periods=quarters)
    raw_body, raw = csv_for_import(Built, rows, periods=raw_quarters)
    with Session(engine) as s:
        period_ids = dict(
            s.execute(
                select(Period.key, Period.id).where(
                    Period.initiative_id == init_id, Period.key.in_(raw_quarters)
                )
            ).all()
        )
        members = dict(
            s.execute(
                select(Organisation.slug, Member.id)
                .join(Member, Member.organisation_id == Organisation.id)
                .where(Member.initiative_id == init_id)
            ).all()
        )
        inds = {
            c: (i, mt)
            for i, c, mt in s.execute(
                select(Indicator.id, Indicator.code, Indicator.measure_type).where(
                    Indicator.initiative_id == init_id
                )
            )
        }
        cats = {
            f"{d}={c}": cid
            for d, c, cid in s.execute(
                select(Dimension.code, Category.code, Category.id)
                .join(Category, Category.dimension_id == Dimension.id)
                .where(Dimension.initiative_id == init_id)
            )
        }
        located = [line.split(",", 2)[:2] for line in raw_body.decode().splitlines()[1:]]
        pairs = list(dict.fromkeys((org, period) for org, period in located))
        s.execute(
            insert(Submission),
            [
                {
                    "initiative_id": init_id,
                    "member_id": members[org],
                    "period_id": period_ids[period],
                    "status": "draft",
                    "version": 1,
                }
                for org, period in pairs
            ],
        )
        sub_of = {
            (m, p): sid
            for sid, m, p in s.execute(
                select(Submission.id, Submission.member_id, Submission.period_id).where(
                    Submission.period_id.in_(period_ids.values())
                )
            )
        }
        tuples = []
        for (org, period), (code, key, value, num, den) in zip(located, raw, strict=True):
            ind_id, mt = inds[code]
            pid = period_ids[period]
            tuples.append(
                (sub_of[(members[org], pid)], init_id, pid, ind_id, mt, cats.get(key), key)
                + (value, num, den)
            )
        s.commit()
        server = _server_cpu(s)
        cpu, wall = time.process_time(), time.perf_counter()
        _bulk_values(s, tuples)
        s.commit()
        raw_cpu, raw_wall = time.process_time() - cpu, time.perf_counter() - wall
        raw_server = _server_cpu(s) - server
    with Session(engine) as s:
        actor = Actor(label="bench", backbone_of=frozenset({init_id}))
        server = _server_cpu(s)
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        cpu, wall = time.process_time(), time.perf_counter()
        report = import_file(
            session=s,
            actor=actor,
            initiative_slug=slug,
            stream=io.BytesIO(body),
            filename="bench.csv",
            content_type="text/csv",
        )
        s.commit()
        import_cpu, import_wall = time.process_time() - cpu, time.perf_counter() - wall
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(35)
        import_server = _server_cpu(s) - server
    assert report.ok and report.created == len(raw), report.as_dict()["errors"][:3]
    return {
        "rows": len(raw),
        "raw_cpu": round(raw_cpu, 4),
        "raw_server": round(raw_server, 3),
        "raw_wall": round(raw_wall, 4),
        "import_cpu": round(import_cpu, 4),
        "import_server": round(import_server, 3),
        "import_wall": round(import_wall, 4),
        "ratio_cpu": round((raw_cpu + raw_server) / (import_cpu + import_server), 3),
        "ratio_wall": round(raw_wall / import_wall, 3),
    }


def _run(db: str, template: str, rows: int, repeat: int, label: str, profile: bool) -> None:
    if db == "postgresql":
        target = f"cm_import_cpu_{uuid.uuid4().hex[:8]}"
        _admin(f"CREATE DATABASE {target} TEMPLATE {template}")
    else:
        target = f"{template}.{uuid.uuid4().hex[:8]}"
        shutil.copyfile(template, target)
    engine = create_engine(_url(db, target))
    try:
        with Session(engine) as s:
            slug, init_id = s.execute(select(Initiative.slug, Initiative.id)).one()
            orgs = list(
                s.scalars(
                    select(Organisation.slug)
                    .join(Member, Member.organisation_id == Organisation.id)
                    .where(Member.initiative_id == init_id)
                    .order_by(Member.id)
                )
            )
            codes = list(
                s.scalars(
                    select(Indicator.code)
                    .where(Indicator.initiative_id == init_id)
                    .order_by(Indicator.id)
                )
            )
        per_quarter = len(orgs) * len(codes) * 11
        count = -(-rows // per_quarter)
        for i in range(repeat):
            result = _round(engine, slug, orgs, codes, rows, 2 * count * i, profile)
            print(json.dumps({"tree": label, "db": db, "round": i, **result}), flush=True)
    finally:
        engine.dispose()
        if db == "postgresql":
            _admin(f"DROP DATABASE {target}")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["build", "run"])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--target", help="build: the SQLite file or PostgreSQL database")
    parser.add_argument("--template", help="run: what build made")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--label", default="", help="named in the output")
    parser.add_argument("--profile", action="store_true", help="cProfile the import")
    args = parser.parse_args(argv)
    if args.action == "build":
        _build(args.db, args.target)
    else:
        _run(args.db, args.template, args.rows, args.repeat, args.label, args.profile)


if __name__ == "__main__":
    main()
