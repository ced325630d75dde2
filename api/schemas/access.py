"""Bodies of login, tokens, API keys and users."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from api.schemas.common import ReadModel, WriteModel


class TokenRead(ReadModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class OwnGrantRead(ReadModel):
    role: str
    initiative: str | None = None
    organisation: str | None = None


class MeRead(ReadModel):
    kind: Literal["user", "api_key"]
    email: str | None = None
    name: str | None = None
    label: str
    grants: list[OwnGrantRead]


class LocaleWrite(WriteModel):
    locale: str | None = Field(
        description="A language code (`en`, `es`); null forgets the choice, so the browser's "
        "Accept-Language decides.",
        max_length=16,
    )


class LocaleRead(ReadModel):
    locale: str | None


class ApiKeyCreate(WriteModel):
    name: str = Field(min_length=1, max_length=120)
    organisation: str | None = Field(None, description="Organisation slug (reporter rights).")
    initiative: str | None = Field(None, description="Initiative slug (backbone rights).")
    expires_at: Annotated[AwareDatetime, Field(strict=False)] | None = Field(
        None, description="When the key stops working (RFC 3339 with a time zone); none: never."
    )


class ApiKeyRead(ReadModel):
    """A key's metadata. It acts with its own scope intersected with its creator's rights of
    the moment: it stops when the creator is deactivated or loses the grant."""

    id: int
    name: str
    prefix: str
    organisation_id: int | None
    initiative_id: int | None
    created_by_id: int | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class PasswordChange(WriteModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret. Shown this once; store it now.")


class GrantIn(WriteModel):
    role: str = Field(pattern="^(admin|backbone|reporter|funder)$")
    initiative: str | None = Field(
        None,
        max_length=80,
        description="Initiative slug: backbone and funder grants; for a reporter grant the "
        "initiative it reports to (omitted: every initiative of yours the organisation is a "
        "member of).",
    )
    organisation: str | None = Field(None, max_length=80, description="Reporter grants.")


class UserCreate(GrantIn):
    email: str = Field(max_length=254)
    name: str | None = Field(None, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class UserUpdate(WriteModel):
    is_active: bool


class PasswordReset(WriteModel):
    password: str = Field(min_length=1, max_length=1024, json_schema_extra={"format": "password"})


class GrantRead(ReadModel):
    id: int
    role: str
    initiative: str | None
    organisation: str | None


class UserRead(ReadModel):
    """A user as you may see them: only the grants you manage; name and dates only when you
    manage every grant the user holds."""

    id: int
    email: str
    name: str | None
    is_active: bool
    invitation_pending: bool = Field(
        description="Invited, and has not chosen a password yet: cannot log in until then."
    )
    created_at: datetime | None
    last_login_at: datetime | None
    grants: list[GrantRead]


class InvitationCreate(GrantIn):
    email: str = Field(max_length=254)
    name: str | None = Field(None, max_length=200)


class InvitationRead(ReadModel):
    """The new account and the link that lets the person choose a password. No mail is sent:
    hand the link over yourself. It is shown this once, works once, and stops working when it
    expires, when the account is deactivated or changes its grants, or when a newer link is
    made."""

    user: UserRead
    link: str = Field(description="The one-time link to the invitation page. Shown this once.")
    expires_at: datetime


class InvitationAccept(WriteModel):
    token: str = Field(min_length=1, max_length=2000, description="The link's `token`.")
    password: str = Field(min_length=1, max_length=1024, json_schema_extra={"format": "password"})


class InvitationAccepted(ReadModel):
    email: str = Field(description="Log in with this e-mail and the password just chosen.")
