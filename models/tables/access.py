"""People and machines that act: users, their role grants, and API keys (stored hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.base import Base, TimestampMixin
from models.tables.organisation import _in

ROLES = ("admin", "backbone", "reporter", "funder")


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Bumped on logout or role change: tokens carry it, so old ones stop working.
    token_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_login_at: Mapped[datetime | None]
    # The language the user chose (models.core.i18n.LOCALES); None: the browser's decides.
    locale: Mapped[str | None] = mapped_column(String(8))

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"User({self.email!r})"


class RoleGrant(Base):
    """A role in a scope: admin (deployment), backbone/funder (an initiative), reporter (an
    organisation *within one initiative*).

    A reporter grant names the membership it works through, (initiative, organisation), and a
    composite foreign key to ``members`` removes it with the membership: enrolling a partner
    in a second initiative hands nothing over, and leaving an initiative ends the rights it
    carried (README, "Permissions").
    """

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint(
            "(role = 'admin' AND initiative_id IS NULL AND organisation_id IS NULL)"
            " OR (role IN ('backbone', 'funder') AND initiative_id IS NOT NULL"
            " AND organisation_id IS NULL)"
            " OR (role = 'reporter' AND initiative_id IS NOT NULL"
            " AND organisation_id IS NOT NULL)",
            name="scope_matches_role",
        ),
        ForeignKeyConstraint(
            ["initiative_id", "organisation_id"],
            ["members.initiative_id", "members.organisation_id"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(12))
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User] = relationship(back_populates="grants")


class ApiKey(TimestampMixin, Base):
    """A machine credential: ``cm_<prefix>_<secret>``; only a SHA-256 of the whole key is kept.

    The secret has ≥128 random bits, so a fast hash is safe (no dictionary to attack), and the
    public prefix finds the row without scanning.
    """

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "(organisation_id IS NULL) <> (initiative_id IS NULL)", name="exactly_one_scope"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    # A key acts for its creator, never beyond the creator's rights of the moment; a key whose
    # creator is gone (SET NULL) or inactive stops working.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
