"""Counters every worker shares (the login throttle, the rate limit): hits per key and time
bucket, read and written by :mod:`models.core.counters`."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base


class SharedCounter(Base):
    __tablename__ = "shared_counters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # a keyed hash, no e-mail
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(Integer)
    # When the bucket leaves its window (seconds since the epoch): stale rows are swept by it.
    expires: Mapped[int] = mapped_column(BigInteger, index=True)
