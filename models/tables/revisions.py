"""Revisions kept by the database itself: per initiative, a counter of its setup and one of
its reports, each bumped by triggers in the same transaction as the change (migration
0023_setup_revision), whoever makes it — the app, another worker, a migration's raw SQL.

Scope 0 is the deployment's (organisations: their names are in every initiative's answers).
A reader that reads a revision first and then the data in one snapshot has read data no older
than the revision names (README, "Scaling").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base

DEPLOYMENT = 0  # the scope of deployment-wide setup (organisations)


class DataRevision(Base):
    __tablename__ = "data_revisions"

    # An initiative's id, or DEPLOYMENT. No foreign key: a deleted initiative's counter stays,
    # so an id used again never starts from a revision already seen.
    scope: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Periods, members, obligations, indicators and what hangs on them, outcomes, dimensions
    # and categories (and, deployment-wide, organisations).
    setup: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Reports (submissions: every write of a report's values bumps its version) and deadline
    # extensions.
    reports: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The database's time of the last bump (seconds are enough: it only decides whether the
    # scope is quiet, as DataVersion's newest event does).
    changed_at: Mapped[datetime | None]


class ReportStamp(Base):
    """Which reports changed after a reports revision (migration 0027_report_stamps): one row
    per (initiative, period, submission) ever written, stamped by the triggers that bump the
    reports counter with the counter's new value, in the same transaction. A reader that kept
    a period's reports as of revision ``r`` reads again only the rows stamped after ``r``; a
    report deleted, or moved to another period or initiative, leaves its stamp behind (it is
    found gone), so nothing kept outlives it."""

    __tablename__ = "report_stamps"
    __table_args__ = (Index("ix_report_stamps_stamp", "initiative_id", "period_id", "stamp"),)

    # No foreign keys: a stamp outlives its report, so its removal is seen.
    initiative_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    period_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    submission_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    stamp: Mapped[int] = mapped_column(BigInteger)


class AccessRevision(Base):
    """One row: a counter of every change to who may do what (users' e-mail, activity, token
    version and language; role grants; API keys' scope, expiry, revocation and secret;
    memberships), bumped by triggers in the transaction of the change (migration
    0025_access_revision). A worker keeps the actors it resolved under it
    (:mod:`models.access.api_keys`) and resolves again once it moved."""

    __tablename__ = "access_revisions"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The database's time of the last bump: with the counter, it tells a database restored
    # from an older copy (whose counter starts again from an older value) from the one kept.
    changed_at: Mapped[datetime | None]


class FigureRevision(Base):
    """Per initiative and period, a counter of every change to what the figure views read of
    the period: its rollup rows, packed partner totals and publications, bumped by triggers in
    the transaction of the change (migration 0028_figure_revisions). An approval moves its
    quarter's counter only; an audit event, a draft or a setup change none."""

    __tablename__ = "figure_revisions"

    # No foreign keys: a deleted period's counter stays, as the data revisions' do.
    initiative_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    period_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
