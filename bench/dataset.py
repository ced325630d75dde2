"""A deterministic region-scale dataset, written with the fastest raw path of each database.

Several initiatives, many members, a dozen obligations each, ten years of quarters, and every
value broken down by race, income and gender: ``full`` holds over five million values.
"""

from __future__ import annotations

import io
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from models import (
    ApiKey,
    Category,
    Dimension,
    Indicator,
    Initiative,
    Member,
    Obligation,
    Organisation,
    Period,
    RoleGrant,
    Submission,
    User,
    indicator_dimensions,
)
from models.access.api_keys import _hash_key
from models.analytics.rollups import rebuild

DIMENSIONS = {
    "race": ["asian", "black", "hispanic", "white", "other"],
    "income": ["low", "not_low"],
    "gender": ["female", "male", "nonbinary"],
}


@dataclass(frozen=True)
class Size:
    initiatives: int
    members: int
    indicators: int
    quarters: int

    @property
    def values(self) -> int:
        cells = 1 + sum(len(c) for c in DIMENSIONS.values())
        return self.initiatives * self.members * self.indicators * self.quarters * cells


SIZES = {
    "quick": Size(initiatives=5, members=40, indicators=12, quarters=12),  # ≈ 317k values
    "full": Size(initiatives=5, members=200, indicators=12, quarters=40),  # ≈ 5.28 M values
}


@dataclass
class Built:
    initiative_slug: str
    backbone_key: str
    org_slugs: list[str]
    indicator_codes: list[str]
    open_period: str  # a period with no data, for imports
    submitted: tuple[str, str]  # (org, period) left submitted, for the freshness test
    values: int
    periods: list[str] = field(default_factory=list)


# The dataset's quarters start in 1970, so that the empty quarters imports go to (bench's
# ``_empty_quarters``, from 1981 on) come after its history and have all started: nothing is
# reported for a period that has not started yet.
FIRST_YEAR = 1970


def _quarters(n: int) -> list[tuple[str, date, date]]:
    out, year, q = [], FIRST_YEAR, 1
    for _ in range(n):
        start = date(year, 3 * q - 2, 1)
        end = date(year + (q == 4), (3 * q) % 12 + 1, 1) - timedelta(days=1)
        out.append((f"{year}Q{q}", start, end))
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out


def build(engine: Engine, size: Size, seed: int = 7, progress=print) -> Built:
    rng = random.Random(seed)
    quarters = _quarters(size.quarters + 1)  # the last one stays empty: imports go there
    total_values = 0
    result: Built | None = None
    with Session(engine) as s:
        for i in range(size.initiatives):
            init = Initiative(slug=f"region-{i}", name=f"Region initiative {i}")
            s.add(init)
            s.flush()
            periods = []
            for key, start, end in quarters:
                p = Period(
                    initiative_id=init.id,
                    key=key,
                    kind="quarter",
                    starts_on=start,
                    ends_on=end,
                    opens_on=end + timedelta(days=1),
                    due_on=end + timedelta(days=30),
                    closes_on=date(2099, 1, 1),
                )
                s.add(p)
                periods.append(p)
            dims = []
            for d, cats in DIMENSIONS.items():
                dim = Dimension(initiative_id=init.id, code=d, name=d.title())
                dim.categories = [Category(code=c, name=c, position=j) for j, c in enumerate(cats)]
                s.add(dim)
                dims.append(dim)
            s.flush()
            indicators = []
            for j in range(size.indicators):
                kind = ("rate", "count", "average")[j % 3]
                ind = Indicator(
                    initiative_id=init.id,
                    code=f"IND_{j:02d}",
                    name=f"Indicator {j}",
                    unit="%" if kind == "rate" else "people",
                    measure_type=kind,
                    direction="higher",
                    frequency="quarterly",
                )
                s.add(ind)
                indicators.append(ind)
            s.flush()
            s.execute(
                insert(indicator_dimensions),
                [
                    {"indicator_id": ind.id, "dimension_id": d.id}
                    for ind in indicators
                    for d in dims
                ],
            )
            members = []
            for m in range(size.members):
                org = Organisation(
                    slug=f"r{i}-partner-{m:03d}", name=f"Partner {i}-{m}", sector="nonprofit"
                )
                s.add(org)
                s.flush()
                mem = Member(initiative_id=init.id, organisation_id=org.id)
                s.add(mem)
                members.append((mem, org))
            s.flush()
            s.execute(
                insert(Obligation),
                [
                    {"member_id": mem.id, "indicator_id": ind.id}
                    for mem, _ in members
                    for ind in indicators
                ],
            )
            sub_rows = [
                {
                    "initiative_id": init.id,
                    "member_id": mem.id,
                    "period_id": p.id,
                    "status": "approved",
                    "version": 3,
                }
                for mem, _ in members
                for p in periods[:-1]
            ]
            s.execute(insert(Submission), sub_rows)
            s.flush()
            sub_ids = {
                (m, p): sid
                for sid, m, p in s.execute(
                    text(
                        "SELECT id, member_id, period_id FROM submissions WHERE initiative_id = :i"
                    ),
                    {"i": init.id},
                )
            }
            categories = [(f"{d.code}={c.code}", c.id, d) for d in dims for c in d.categories]
            rows = []
            for mem, _org in members:
                for p in periods[:-1]:
                    sid = sub_ids[(mem.id, p.id)]
                    for ind in indicators:
                        rows.extend(_cells(rng, sid, init.id, p.id, ind, categories))
            total_values += len(rows)
            _bulk_values(s, rows)
            progress(f"  initiative {i + 1}/{size.initiatives}: {len(rows):,} values")
            if i == 0:
                key = f"cm_{uuid.uuid4().hex[:8]}_{uuid.uuid4().hex}"
                # A key acts with its creator's current rights: a backbone officer makes it.
                owner = User(email="bench-key-owner@example.org", password_hash="!")
                owner.grants.append(RoleGrant(role="backbone", initiative_id=init.id))
                s.add(owner)
                s.flush()
                s.add(
                    ApiKey(
                        prefix=key.split("_")[1],
                        key_hash=_hash_key(key),
                        name="bench",
                        initiative_id=init.id,
                        created_by_id=owner.id,
                    )
                )
                # One report left submitted, so approving it shows how fresh rollups are.
                mem0, org0 = members[0]
                s.execute(
                    text("UPDATE submissions SET status = 'submitted' WHERE id = :id"),
                    {"id": sub_ids[(mem0.id, periods[-2].id)]},
                )
                result = Built(
                    init.slug,
                    key,
                    [o.slug for _, o in members],
                    [ind.code for ind in indicators],
                    quarters[-1][0],
                    (org0.slug, periods[-2].key),
                    0,
                )
        s.commit()
        rebuild(session=s)
        s.commit()
    assert result is not None
    result.values = total_values
    result.periods = [key for key, _, _ in quarters]
    return result


def _cells(rng, sid, init_id, period_id, ind, categories):
    """A total and its categories that add up, as value rows."""
    kind = ind.measure_type
    n = rng.randint(40, 400)
    parts = [rng.random() + 0.05 for _ in categories]
    rows = []
    by_dim: dict[str, list] = {}
    for key, cat_id, dim in categories:
        by_dim.setdefault(dim.code, []).append((key, cat_id))
    share = rng.uniform(0.3, 0.9)

    def row(key, cat_id, den):
        num = round(den * share) if kind == "rate" else None
        value = (
            (100.0 * num / den if den else 0.0)
            if kind == "rate"
            else (float(den) if kind == "count" else rng.uniform(200, 300))
        )
        return (
            sid,
            init_id,
            period_id,
            ind.id,
            kind,
            cat_id,
            key,
            value,
            num,
            den if kind in ("rate", "average") else None,
        )

    rows.append(row("total", None, n))
    del parts
    for cats in by_dim.values():
        weights = [rng.random() + 0.1 for _ in cats]
        scale = sum(weights)
        dens = [int(n * w / scale) for w in weights]
        dens[-1] += n - sum(dens)
        for (key, cat_id), den in zip(cats, dens, strict=True):
            if kind != "count" and den == 0:
                continue
            rows.append(row(key, cat_id, den))
    return rows


STAMP = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = (
    "submission_id",
    "initiative_id",
    "period_id",
    "indicator_id",
    "measure_type",
    "category_id",
    "disaggregation",
    "value",
    "numerator",
    "denominator",
)


def _bulk_values(session: Session, rows: list[tuple]) -> None:
    """Raw bulk insert: COPY on PostgreSQL, executemany on SQLite."""
    conn = session.connection()
    columns = ", ".join((*COLUMNS, "flags", "updated_at"))
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor().copy(f'COPY "values" ({columns}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row((*r, "[]", STAMP))
    else:
        placeholders = ", ".join("?" for _ in range(len(COLUMNS) + 2))
        stamp = STAMP.isoformat()
        conn.connection.driver_connection.executemany(
            f'INSERT INTO "values" ({columns}) VALUES ({placeholders})',
            ((*r, "[]", stamp) for r in rows),
        )


def csv_for_import(
    built: Built, rows_wanted: int, seed: int = 11, periods: list[str] | None = None
) -> tuple[bytes, list[tuple]]:
    """A CSV as partners would upload it (for the empty period, or for each of ``periods`` when
    one period has too few cells), and the same rows as tuples."""
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("organisation,period,indicator,disaggregation,value,numerator,denominator\n")
    raw = []
    cats = ["total"] + [f"{d}={c}" for d, cs in DIMENSIONS.items() for c in cs]
    done = 0
    for org, period in ((o, p) for p in (periods or [built.open_period]) for o in built.org_slugs):
        for j, code in enumerate(built.indicator_codes):
            kind = ("rate", "count", "average")[j % 3]
            for key in cats:
                if done >= rows_wanted:
                    return out.getvalue().encode(), raw
                den = rng.randint(10, 300)
                if kind == "rate":
                    num = rng.randint(0, den)
                    out.write(f"{org},{period},{code},{key},,{num},{den}\n")
                    raw.append((code, key, 100.0 * num / den, num, den))
                elif kind == "count":
                    out.write(f"{org},{period},{code},{key},{den},,\n")
                    raw.append((code, key, float(den), None, None))
                else:
                    v = round(rng.uniform(200, 300), 2)
                    out.write(f"{org},{period},{code},{key},{v},,{den}\n")
                    raw.append((code, key, v, None, den))
                done += 1
    return out.getvalue().encode(), raw
