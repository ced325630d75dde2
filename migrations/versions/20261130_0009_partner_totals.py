"""Partner totals: every partner's approved total of an indicator in a period, packed in one row.

Kept next to the rollups and in step with them (``models.analytics.rollups``): the scorecard's
coverage and like-with-like trends read one row per indicator and period instead of one per
partner. Existing approved data is packed once here, as ``cm rollups rebuild`` would.

Revision ID: 0009_partner_totals
Revises: 0007_shared_counters
Create Date: 2026-11-30 16:10:00
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision: str = "0009_partner_totals"
down_revision: str | None = "0007_shared_counters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_totals",
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("measure_type", sa.String(length=10), nullable=False),
        sa.Column("partners", sa.Integer(), nullable=False),
        sa.Column("packed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_partner_totals_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_partner_totals_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["periods.id"],
            name=op.f("fk_partner_totals_period_id_periods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "initiative_id", "indicator_id", "period_id", name=op.f("pk_partner_totals")
        ),
    )
    with op.batch_alter_table("partner_totals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_totals_period_id"), ["period_id"], unique=False
        )
    _fill()


def _fill() -> None:
    """Pack the approved totals there are (the layout of models.analytics.rollups.pack: int64
    member ids, then float64 values, numerators and denominators, little-endian, in
    submission order)."""
    table = sa.table(
        "partner_totals",
        sa.column("initiative_id"),
        sa.column("indicator_id"),
        sa.column("period_id"),
        sa.column("measure_type"),
        sa.column("partners"),
        sa.column("packed", sa.LargeBinary()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT v.initiative_id, v.indicator_id, v.period_id, s.member_id, v.measure_type, "
            'v.value, v.numerator, v.denominator FROM "values" v JOIN submissions s '
            "ON s.id = v.submission_id AND s.status = 'approved' WHERE v.disaggregation = 'total' "
            "ORDER BY v.initiative_id, v.indicator_id, v.period_id, v.submission_id"
        )
    )
    batch = []
    for key, group in groupby(rows, key=lambda r: (r[0], r[1], r[2])):
        partners = list(group)
        parts = [array("q", [r[3] for r in partners])] + [
            array("d", [r[k] or 0.0 for r in partners]) for k in (5, 6, 7)
        ]
        if sys.byteorder == "big":
            for part in parts:
                part.byteswap()
        batch.append(
            {
                "initiative_id": key[0],
                "indicator_id": key[1],
                "period_id": key[2],
                "measure_type": partners[0][4],
                "partners": len(partners),
                "packed": b"".join(part.tobytes() for part in parts),
            }
        )
        if len(batch) >= 1000:
            bind.execute(table.insert(), batch)
            batch = []
    if batch:
        bind.execute(table.insert(), batch)


def downgrade() -> None:
    with op.batch_alter_table("partner_totals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_totals_period_id"))

    op.drop_table("partner_totals")
