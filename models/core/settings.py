"""Application settings, read once from the environment (prefix ``CM_``) or ``.env``.

The secret key is generated on first start and kept under the var directory, so a newcomer needs
no configuration while a deployment sets ``CM_SECRET_KEY`` explicitly.
"""

from __future__ import annotations

import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_VAR_DIR = Path("var")


class ConfigError(Exception):
    """A setting is unusable; the message is one line meant for a human."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CM_", env_file=".env", extra="ignore")

    var_dir: Path = Field(DEFAULT_VAR_DIR, description="Where the SQLite file and secrets live.")
    database_url: str = Field("", description="SQLAlchemy URL; default SQLite under var_dir.")
    secret_key: str = Field("", description="Signs session cookies and tokens.")
    suppression_threshold: int = Field(10, ge=1, le=1000)
    # Below backbone level, an initiative figure made by fewer partners than this is hidden.
    min_contributors: int = Field(3, ge=1, le=100)
    # Below backbone level, a figure one or a few partners dominate is hidden (the p %-rule:
    # no partner's share may be estimated to within this percentage); 0 switches it off.
    dominance_percent: float = Field(10.0, ge=0, le=100)
    # An initiative figure is complete when every partner obliged to report it has, or when
    # the partners that reported make up at least this share of the expected partners' usual
    # size (each missing partner counted at its last approved figure). Below it, status and
    # progress read "incomplete" and publishing the period needs a confirmation.
    coverage_min_share: float = Field(0.8, ge=0, le=1)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # Sync endpoints run on a pool of 40 threads per worker; with fewer connections than
    # threads, requests queue for a connection instead of being served.
    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(30, ge=0, le=500)
    # Requests a worker serves at once (api/in_flight.py); the others wait at the door, holding
    # no thread and no connection. At most the thread pool's 40, and at most the connections.
    max_requests_in_flight: int = Field(8, ge=1, le=40)
    # Of those, at most this many are the API's (machines: partners' systems, pollers); the
    # other turns are kept for people's pages and dashboard callbacks. 0: no cap of its own
    # (people still go first when both wait). bench/RESULTS.md "Two lanes at the door".
    max_api_requests_in_flight: int = Field(0, ge=0, le=40)
    sqlite_busy_timeout_ms: int = Field(15_000, ge=0)
    log_level: str = "info"
    rate_limit_per_minute: int = Field(1200, ge=0, description="Requests per user/key; 0: off.")
    max_request_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest JSON body.")
    db_statement_timeout_ms: int = Field(30_000, ge=0, description="PostgreSQL; 0: none.")
    # A value is flagged (never blocked) when it sits this many robust z-scores from the
    # member's own history, or jumps by more than this percentage from the previous period.
    outlier_z: float = Field(3.5, gt=0)
    outlier_jump_pct: float = Field(50.0, gt=0)
    outlier_min_history: int = Field(4, ge=2)
    # Spreadsheet imports: larger uploads answer 413 before anything is parsed.
    import_max_bytes: int = Field(50 * 1024 * 1024, ge=1, description="Largest upload (bytes).")
    import_max_rows: int = Field(200_000, ge=1, description="Most data rows in one import.")
    # The day the reporting calendar takes for today (windows open, due, closed; the current
    # period); unset, the real date. It serves a demo built with ``cm demo --today`` as of that
    # day, and lets a browser test walk a fixed calendar. Timestamps stay real.
    today: date | None = None
    # Shared state (README "Scaling"): every worker and container counts failed logins and
    # requests in Redis when this is set, else in the database (models/core/counters.py).
    redis_url: str = Field("", description="redis://, rediss:// or unix://; empty: the database.")

    # Notifications (README, "Notifications"): mail goes out over SMTP when this is set
    # (smtp:// with STARTTLS when the server offers it or ``?starttls=1`` demands it; smtps://
    # for TLS from the first byte; user and password in the URL), else into the local mailbox
    # the admin reads through the API.
    smtp_url: str = Field("", description="smtp:// or smtps:// URL; empty: the local mailbox.")
    mail_from: str = Field("Common Measure <no-reply@localhost>", description="From: of mail.")
    # The site's address as people reach it, for the links in messages (the worker has no
    # request to read it from); empty: http://CM_HOST:CM_PORT.
    public_url: str = Field("", description="Base of the links in messages.")
    # Where the delivery worker runs: in a thread of each ``cm serve`` process ("app"), or
    # only where ``cm worker`` runs ("external").
    worker: Literal["app", "external"] = "app"
    notify_max_attempts: int = Field(8, ge=1, le=100, description="Sends before failed.")
    notify_lease_seconds: int = Field(300, ge=5, description="A claim's life before takeover.")
    notify_poll_seconds: float = Field(5.0, gt=0, le=3600, description="Worker's idle pause.")
    # A webhook receiver has this long to answer a delivery (README, "Webhooks"); a slower one
    # counts as a timeout and is tried again with the worker's backoff.
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=120, description="Per delivery.")
    # Webhooks may reach loopback, private and link-local addresses only when this is set
    # (development, tests, receivers on the deployment's own network): models/core/addresses.py.
    webhook_allow_private_networks: bool = False

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str) -> str:
        if value and value.split("://", 1)[0] not in {"smtp", "smtps"}:
            raise ValueError("must be an smtp:// or smtps:// URL")
        return value

    @property
    def site_url(self) -> str:
        """Where the links in messages point: ``CM_PUBLIC_URL``, else where ``cm serve``
        listens."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if value and value.split("://", 1)[0] not in {"redis", "rediss", "unix"}:
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL: {value!r}") from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError(f"must be a sqlite or postgresql URL, not {url.get_backend_name()!r}")
        if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
            # psycopg 3 is the one driver we install; make the plain scheme work.
            value = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        return value

    # A streaming replica of the PostgreSQL primary for the dashboards', analytics' and public
    # reads (architecture: Scale); empty: every read goes to the primary.
    database_read_url: str = Field("", description="PostgreSQL replica for reads; empty: none.")

    @model_validator(mode="after")
    def _in_flight_fit_the_pool(self) -> Settings:
        if self.max_requests_in_flight > self.db_pool_size + self.db_max_overflow:
            raise ValueError(
                "CM_MAX_REQUESTS_IN_FLIGHT must be at most CM_DB_POOL_SIZE + "
                f"CM_DB_MAX_OVERFLOW ({self.db_pool_size + self.db_max_overflow}): each "
                "request in flight may hold a database connection"
            )
        return self

    @model_validator(mode="after")
    def _a_delivery_fits_in_a_lease(self) -> Settings:
        # A claim is renewed before each send (models/notifications/claims.renew); the send
        # itself must end before the renewed lease does, or another worker sends it too.
        if self.notify_lease_seconds < 2 * self.webhook_timeout_seconds:
            raise ValueError(
                "CM_NOTIFY_LEASE_SECONDS must be at least twice CM_WEBHOOK_TIMEOUT_SECONDS "
                f"({2 * self.webhook_timeout_seconds:g}): a delivery must end within its claim"
            )
        return self

    @field_validator("database_read_url")
    @classmethod
    def _check_read_url(cls, value: str) -> str:
        value = cls._check_url(value)
        if value and make_url(value).get_backend_name() != "postgresql":
            raise ValueError("must be a postgresql URL (a streaming replica of the primary)")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'common-measure.db').as_posix()}"

    @property
    def effective_secret_key(self) -> str:
        """The configured key, else one generated once and stored (mode 0600) under var_dir."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:  # pydantic ValidationError subclasses ValueError
        errors = getattr(exc, "errors", None)
        if callable(errors):
            first = errors()[0]
            field = "CM_" + str(first["loc"][0]).upper() if first.get("loc") else "settings"
            raise ConfigError(f"{field}: {first['msg'].removeprefix('Value error, ')}") from None
        raise ConfigError(str(exc)) from None
