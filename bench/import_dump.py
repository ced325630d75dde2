"""Everything a series of imports leaves behind, as JSON, for comparing two trees' imports.

    PYTHONPATH=TREE python bench/import_dump.py --db sqlite|postgresql --out FILE

Builds a small initiative (``bench.dataset``: 12 partners, 12 indicators, 4 quarters of
approved history), then imports files that exercise the import's paths: new reports in one
chunk and spread over chunks (rows of reports interleaved), values updated, unchanged and added
to existing reports, the same file twice, a dry run, refused files (bad numbers, a cell given
twice within a chunk and across chunks, unknown codes, a broken CSV), odd but valid cells
(signs, exponents, spaces, notes, quotes, a semicolon delimiter, CRLF, a BOM, Windows-1252),
and a report submitted between two imports. It dumps each import's answer, the tables the
import writes (``values``, ``submissions``, ``audit_events``, the events' JSON as the database
stores it), the history API's answer for every value and the changes since the previous version
of every report. Times are replaced by their order. Run it with each tree on ``PYTHONPATH``
and compare the files byte for byte.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import uuid
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import String, cast, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import migrations
from bench.__main__ import POSTGRES, _empty_quarters
from bench.dataset import DIMENSIONS, Size, build
from models import AuditEvent, Initiative, Member, Organisation, Period, Submission, Value
from models.core.actors import Actor
from models.reporting.submissions import transition, value_history
from models.reporting.versions import submission_changes
from models.spreadsheets.imports import import_file

CELLS = ["total"] + [f"{d}={c}" for d, cs in DIMENSIONS.items() for c in cs]
HEADER = "organisation,period,indicator,disaggregation,value,numerator,denominator,note"


def _line(rng: random.Random, org: str, period: str, j: int, code: str, key: str) -> list[str]:
    """One valid row of a cell; its kind from the dataset's order (rate, count, average)."""
    kind = ("rate", "count", "average")[j % 3]
    den = rng.randint(10, 300)
    note = rng.choice(["", "", "", "checked", 'said "approx"', "  spaced  ", "=A1"])
    if kind == "rate":
        num = rng.randint(0, den)
        return [org, period, code, key, "", str(num), str(den), note]
    if kind == "count":
        return [org, period, code, key, rng.choice([str(den), f"{den}.0", f"+{den}"]), "", "", note]
    value = rng.choice([str(round(rng.uniform(200, 300), 2)), f"{rng.uniform(2, 3):.3f}e2"])
    return [org, period, code, key, value, "", str(den), note]


def _csv(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> bytes:
    out = io.StringIO()
    import csv

    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADER.split(","))
    writer.writerows(rows)
    return out.getvalue().encode()


def _rows(rng, orgs, codes, periods, share=1.0) -> list[list[str]]:
    rows = []
    for period in periods:
        for org in orgs:
            for j, code in enumerate(codes):
                for key in CELLS:
                    if rng.random() < share:
                        rows.append(_line(rng, org, period, j, code, key))
    return rows


def _unquoted(rows: list[list[str]]) -> list[list[str]]:
    """The rows without quotes in their notes: a plain file (no quote anywhere)."""
    return [[c.replace('"', "") for c in r] for r in rows]


def _files(orgs, codes, periods) -> list[tuple[str, bytes, dict]]:
    """(name, content, import arguments) of every import, in order."""
    rng = random.Random(5)
    p0, p1, p2, p3 = periods
    first = _unquoted(_rows(rng, orgs, codes, [p0]))
    files = [("new-one-chunk.csv", _csv(first), {})]
    spread = _unquoted(_rows(rng, orgs, codes, [p1]))
    rng.shuffle(spread)  # reports interleaved, each over several chunks
    files.append(("new-spread.csv", _csv(spread, newline="\r\n"), {"chunk_rows": 700}))
    mixed = [list(r) for r in first[::3]]  # existing reports: updated, unchanged, added
    for r in mixed[::2]:
        if r[4] and r[2] != codes[0]:
            r[4] = str(float(r[4]) + 1) if "e" not in r[4] else r[4]
        r[7] = 'changed "here"'
    mixed += _rows(rng, orgs[:4], codes, [p2], share=0.5)
    files.append(("mixed.csv", _csv(mixed, ";", "\r\n"), {"chunk_rows": 900}))
    files.append(("mixed-again.csv", _csv(mixed, ";", "\r\n"), {"chunk_rows": 900}))
    more = _unquoted(_rows(rng, orgs[4:8], codes, [p2]))
    files.append(("dry.csv", _csv(more), {"dry_run": True}))
    bad = _unquoted(_rows(rng, orgs, codes, [p2]))
    bad[10][4] = "1,234"
    bad[20][2] = "nope"
    bad[30][3] = "race=martian"
    bad[40] = list(bad[41])  # a cell given twice within the chunk
    bad[1200] = list(bad[50])  # and across chunks
    bad[60][5], bad[60][6] = "9", "3"
    bad[70][4] = "1e999"
    bad[80][0] = "nobody"
    bad[90][4] = "١٢"  # digits, but not ASCII ones
    files.append(("bad.csv", _csv(bad), {"chunk_rows": 1000}))
    files.append(("bad-quoted.csv", _csv(_rows(random.Random(9), orgs, codes, [p2])[:40]), {}))
    broken = _csv(more[:50]).replace(b"checked", b'che"cked', 1) + b'x,"y\n'
    files.append(("broken.csv", broken, {}))
    files.append(("new-bom-cp1252.csv", _bom_cp1252(more), {}))
    odd = _unquoted(_rows(rng, orgs[8:], codes, [p2]))
    odd[0][3] = " Total "  # the first row is a total
    odd[6][4:7] = ["", "", ""]  # no number: skipped, when it has no note either
    odd[6][7] = ""
    odd[1][3] = odd[1][3].replace("=", " = ")
    text = _csv(odd).decode().split("\n")
    text[30:30] = ["", ",,,,,,,", "   "]  # blank lines
    files.append(("odd-plain.csv", "\n".join(text).encode(), {"chunk_rows": 300}))
    last = _unquoted(_rows(rng, orgs, codes, [p3]))
    files.append(("new-crlf-cr.csv", _csv(last, "\t", "\r").replace(b"\r", b"\r\n", 700), {}))
    return files


def _bom_cp1252(rows: list[list[str]]) -> bytes:
    """The rows with a note in Windows-1252 (not UTF-8), spaces around cells."""
    changed = [[f" {c} " if i in (4, 5, 6) and c else c for i, c in enumerate(r)] for r in rows]
    changed[0][7] = "café"
    return _csv(changed).decode().encode("cp1252")


def _url(db: str) -> tuple[str, callable]:
    if db == "sqlite":
        path = Path(f"var/bench/dump-{uuid.uuid4().hex[:8]}.db")
        path.parent.mkdir(parents=True, exist_ok=True)

        def gone() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return f"sqlite:///{path}", gone
    name = f"cm_dump_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()

    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), drop


def _plain(value):
    if hasattr(value, "isoformat"):
        return "<time>"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def dump(db: str) -> dict:
    from models.spreadsheets import imports

    imports._BLOCK_CHARS = 5000  # a tree that reads plain files in blocks: many, small ones
    url, drop = _url(db)
    try:
        migrations.upgrade(url)
        engine = create_engine(url)
        built = build(
            engine,
            Size(initiatives=1, members=12, indicators=12, quarters=4),
            progress=lambda *a: None,
        )
        out: dict = {"imports": []}
        with Session(engine) as s:
            init_id = s.scalar(
                select(Initiative.id).where(Initiative.slug == built.initiative_slug)
            )
            periods = _empty_quarters(s, init_id, 4)
        actor = Actor(label="dump", backbone_of=frozenset({init_id}))
        files = _files(built.org_slugs, built.indicator_codes, periods)
        for number, (name, content, kwargs) in enumerate(files):
            with Session(engine) as s:
                report = import_file(
                    session=s,
                    actor=actor,
                    initiative_slug=built.initiative_slug,
                    stream=io.BytesIO(content),
                    filename=name,
                    content_type="text/csv",
                    **kwargs,
                )
                s.commit()
                out["imports"].append({"file": name, **report.as_dict()})
            if number == 0:  # a report submitted between imports: its versions compared
                with Session(engine) as s:
                    for action in ("submit", "return"):
                        transition(
                            session=s,
                            actor=actor,
                            initiative_slug=built.initiative_slug,
                            org_slug=built.org_slugs[0],
                            period_key=periods[0],
                            action=action,
                            comment="checked",
                        )
                    s.commit()
        with Session(engine) as s:
            conn = s.connection()
            out["values"] = [
                _plain(list(r))
                for r in conn.execute(
                    select(
                        *(c for c in Value.__table__.c if c.name != "flags"),
                        cast(Value.flags, String),
                    ).order_by(Value.id)
                )
            ]
            out["submissions"] = [
                _plain(list(r))
                for r in conn.execute(select(Submission.__table__).order_by(Submission.id))
            ]
            events = AuditEvent.__table__.c
            out["events"] = [
                _plain(list(r))
                for r in conn.execute(
                    select(
                        *(c for c in events if c.name not in ("before", "after")),
                        cast(events.before, String),
                        cast(events.after, String),
                    ).order_by(events.id)
                )
            ]
            out["history"] = {
                value_id: [
                    _plain(vars(h))
                    for h in value_history(
                        session=s,
                        actor=actor,
                        initiative_slug=built.initiative_slug,
                        value_id=value_id,
                    )
                ]
                for value_id in s.scalars(select(Value.id).order_by(Value.id))
            }
            out["versions"] = [
                _plain(
                    asdict(
                        submission_changes(
                            session=s,
                            actor=actor,
                            initiative_slug=built.initiative_slug,
                            org_slug=org,
                            period_key=key,
                        )
                    )
                )
                for org, key in s.execute(
                    select(Organisation.slug, Period.key)
                    .join(Member, Member.organisation_id == Organisation.id)
                    .join(Submission, Submission.member_id == Member.id)
                    .join(Period, Period.id == Submission.period_id)
                    .order_by(Submission.id)
                )
            ]
        engine.dispose()
        return out
    finally:
        drop()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    Path(args.out).write_text(json.dumps(dump(args.db), indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
