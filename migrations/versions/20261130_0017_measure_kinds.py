"""Two kinds of measure (README, "Two kinds of measure"): an indicator is a population indicator
(every existing one) or a partner performance measure typed how much / how well / better off,
and a performance measure is linked to the population indicators it contributes to.

On SQLite the two columns are added with ``ALTER TABLE … ADD COLUMN`` and column CHECKs rather
than a batch rebuild of ``indicators``: rebuilding drops the table, and with foreign keys on that
deletes every value, target and obligation that cascades from it. The column CHECKs carry the
names the models give their table CHECKs; downgrade drops ``performance_type`` first (its CHECK
reads ``kind``), then ``kind``.

Revision ID: 0017_measure_kinds
Revises: 0016_bounces
Create Date: 2026-11-30 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_measure_kinds"
down_revision: str | None = "0016_bounces"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = "kind IN ('population', 'performance')"
TYPE = "performance_type IS NULL OR performance_type IN ('how_much', 'how_well', 'better_off')"
TYPE_KIND = (
    "(kind = 'performance' AND performance_type IS NOT NULL)"
    " OR (kind = 'population' AND performance_type IS NULL)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE indicators ADD COLUMN kind VARCHAR(12) DEFAULT 'population' NOT NULL"
            f" CONSTRAINT ck_indicators_kind CHECK ({KIND})"
        )
        op.execute(
            "ALTER TABLE indicators ADD COLUMN performance_type VARCHAR(12)"
            f" CONSTRAINT ck_indicators_performance_type CHECK ({TYPE})"
            f" CONSTRAINT ck_indicators_performance_type_kind CHECK ({TYPE_KIND})"
        )
    else:
        op.add_column(
            "indicators",
            sa.Column("kind", sa.String(length=12), server_default="population", nullable=False),
        )
        op.add_column(
            "indicators", sa.Column("performance_type", sa.String(length=12), nullable=True)
        )
        op.create_check_constraint(op.f("ck_indicators_kind"), "indicators", KIND)
        op.create_check_constraint(op.f("ck_indicators_performance_type"), "indicators", TYPE)
        op.create_check_constraint(
            op.f("ck_indicators_performance_type_kind"), "indicators", TYPE_KIND
        )
    op.create_table(
        "indicator_contributions",
        sa.Column("performance_id", sa.Integer(), nullable=False),
        sa.Column("population_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "performance_id <> population_id",
            name=op.f("ck_indicator_contributions_not_itself"),
        ),
        sa.ForeignKeyConstraint(
            ["performance_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_contributions_performance_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["population_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_contributions_population_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "performance_id", "population_id", name=op.f("pk_indicator_contributions")
        ),
    )
    op.create_index(
        op.f("ix_indicator_contributions_population_id"),
        "indicator_contributions",
        ["population_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_indicator_contributions_population_id"), table_name="indicator_contributions"
    )
    op.drop_table("indicator_contributions")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE indicators DROP COLUMN performance_type")
        op.execute("ALTER TABLE indicators DROP COLUMN kind")
    else:
        op.drop_constraint(op.f("ck_indicators_performance_type_kind"), "indicators", "check")
        op.drop_constraint(op.f("ck_indicators_performance_type"), "indicators", "check")
        op.drop_constraint(op.f("ck_indicators_kind"), "indicators", "check")
        op.drop_column("indicators", "performance_type")
        op.drop_column("indicators", "kind")
