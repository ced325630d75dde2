"""Webhooks on the wire: the JSON body, its signature, the POST, and what each answer means
(README, "Webhooks", which a receiver follows to verify a delivery).

**Signature.** Each attempt sends ``X-CM-Timestamp`` (Unix seconds, when it was sent) and
``X-CM-Signature``, the hex HMAC-SHA256 under the endpoint's secret of the timestamp, a dot and
the body's exact bytes: a receiver checks both and refuses an old timestamp, so a captured
delivery cannot be replayed later. ``X-CM-Event-Id`` is the same on every attempt of one event
to one endpoint, so a receiver drops a second copy (delivery is at least once).

**Answers.** A 2xx is delivered. A timeout, a connection error, 408, 429 or a 5xx is worth
another try, with the worker's backoff; any other answer (a 4xx, a redirect, which is never
followed with a signed body) fails the message at once. Every attempt is logged
(``webhook_deliveries``) and the message's end, sent or failed, is in the audit trail as a
mail's is.

**No transaction waits for the receiver.** The endpoint's URL and secret are read, that
transaction ends, and only then is the request made, with a short timeout
(``CM_WEBHOOK_TIMEOUT_SECONDS``); the outcome is written in a transaction of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.core.addresses import AddressRefused, Resolver, checked_target
from models.core.settings import get_settings
from models.notifications.claims import Claimed, Tick, audit, backoff, settle
from models.tables.base import utcnow
from models.tables.webhooks import WebhookDelivery, WebhookEndpoint

log = logging.getLogger("cm.notifications")
_posting = threading.local()


class _QuietWebhookRequests(logging.Filter):
    """httpx logs every request's URL at INFO; a webhook's URL may hold the receiver's own
    credential (a token in its path or query), so a delivery's request stays out of the log
    (its outcome is in the delivery log, its failures in ours, by endpoint id)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_posting, "active", False)


logging.getLogger("httpx").addFilter(_QuietWebhookRequests())

EVENT_ID_HEADER = "X-CM-Event-Id"
EVENT_HEADER = "X-CM-Event"
TIMESTAMP_HEADER = "X-CM-Timestamp"
SIGNATURE_HEADER = "X-CM-Signature"
RETRY_STATUSES = frozenset({408, 429})
API = "/api/v1"


def event_id(idempotency_key: str) -> str:
    """The event's id for one endpoint: the same on every attempt, so receivers deduplicate."""
    return "evt_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def links(kind: str, payload: dict[str, Any]) -> dict[str, str]:
    """Where a receiver reads more, with its own credentials (``CM_PUBLIC_URL``): figures are
    never in the body, only where the receiver's access lets it read them."""
    site = get_settings().site_url
    initiative = payload["initiative"]
    out = {"initiative": f"{site}{API}/initiatives/{initiative}"}
    if kind == "period_published":
        out |= {
            "publications": f"{site}{API}/initiatives/{initiative}/periods/"
            f"{payload['period']}/publications",
            "summary": f"{site}{API}/public/initiatives/{initiative}/summary",
            "datapackage": f"{site}{API}/public/initiatives/{initiative}/datapackage.zip",
            "page": f"{site}/public/{initiative}",
        }
    else:
        out["report"] = (
            f"{site}{API}/initiatives/{initiative}/submissions/"
            f"{payload['organisation']}/{payload['period']}"
        )
    return out


def body(kind: str, event: str, payload: dict[str, Any]) -> bytes:
    """The JSON sent: the same bytes on every attempt (keys sorted, no spaces)."""
    document = {"id": event, "event": kind, "data": payload, "links": links(kind, payload)}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, timestamp: int, content: bytes) -> str:
    """``HMAC-SHA256(secret, f"{timestamp}.{body}")`` as hex (README, "Webhooks")."""
    return hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + content, hashlib.sha256
    ).hexdigest()


def verify(
    secret: str,
    timestamp: str,
    content: bytes,
    signature: str,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """What a receiver does (the README shows the same): the signature matches and the
    timestamp is recent."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, content), signature)


@dataclass(frozen=True)
class Attempt:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    outcome: str  # delivered, retrying or failed


def outcome_of(status_code: int) -> str:
    if 200 <= status_code < 300:
        return "delivered"
    if status_code in RETRY_STATUSES or status_code >= 500:
        return "retrying"
    return "failed"


class WebhookPoster:
    """Posts signed deliveries over one HTTP client (connections are reused between them)."""

    def __init__(self, timeout: float | None = None, resolve: Resolver | None = None) -> None:
        self.timeout = timeout if timeout is not None else get_settings().webhook_timeout_seconds
        self.resolve = resolve
        self.client = httpx.Client(
            timeout=self.timeout,
            follow_redirects=False,
            headers={"User-Agent": "Common-Measure-Webhooks/1"},
        )

    def post(self, *, url: str, secret: str, kind: str, event: str, content: bytes) -> Attempt:
        at = utcnow()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: event,
            EVENT_HEADER: kind,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, content),
        }
        began = time.perf_counter()
        _posting.active = True
        try:
            target, extensions = self._pinned(httpx.URL(url), headers)
            response = self.client.post(
                target, content=content, headers=headers, extensions=extensions
            )
        except AddressRefused as exc:  # the URL names what the server must not call
            return Attempt(at, None, f"refused: {exc}", _ms(began), "failed")
        except httpx.TimeoutException:
            return Attempt(at, None, f"timeout after {self.timeout:g} s", _ms(began), "retrying")
        except httpx.InvalidURL as exc:  # no later attempt can reach it either
            return Attempt(at, None, _error(exc), _ms(began), "failed")
        except Exception as exc:  # noqa: BLE001 - a connection error, or any other: recorded
            return Attempt(at, None, _error(exc), _ms(began), "retrying")
        finally:
            _posting.active = False
        code = response.status_code
        outcome = outcome_of(code)
        error = None if outcome == "delivered" else f"HTTP {code}"
        return Attempt(at, code, error, _ms(began), outcome)

    def _pinned(self, url: httpx.URL, headers: dict[str, str]) -> tuple[httpx.URL, dict[str, Any]]:
        """The URL to connect to: the address checked public (models/core/addresses.py), with
        the name kept for the Host header and for TLS (SNI and the certificate's check)."""
        port = url.port or (443 if url.scheme == "https" else 80)
        kwargs = {"resolve": self.resolve} if self.resolve is not None else {}
        address = checked_target(url.host, port, **kwargs).address
        if address is None:  # private networks allowed: the client resolves the name
            return url, {}
        headers["Host"] = url.netloc.decode("ascii")
        extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
        return url.copy_with(host=address), extensions

    def close(self) -> None:
        self.client.close()


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _ms(began: float) -> int:
    return round((time.perf_counter() - began) * 1000)


def deliver_webhook(
    session_factory: sessionmaker[Session],
    poster: WebhookPoster,
    message: Claimed,
    *,
    now: datetime,
    tick: Tick,
) -> None:
    """Post one claimed webhook message and record the attempt and the outcome."""
    with session_factory() as session:
        endpoint = (
            session.get(WebhookEndpoint, message.webhook_endpoint_id)
            if message.webhook_endpoint_id is not None
            else None
        )
        if endpoint is None or not endpoint.enabled:
            settle(session, message, status="skipped", last_error="endpoint disabled")
            session.commit()
            tick.skipped += 1
            return
        endpoint_id, url, secret = endpoint.id, endpoint.url, endpoint.secret
        session.commit()  # no transaction stays open while the receiver answers
        event = event_id(message.idempotency_key)
        attempt = poster.post(
            url=url,
            secret=secret,
            kind=message.kind,
            event=event,
            content=body(message.kind, event, message.payload),
        )
        outcome = attempt.outcome
        if outcome == "retrying" and message.attempts >= get_settings().notify_max_attempts:
            outcome = "failed"
        try:
            done = _record(session, message, endpoint_id, url, event, attempt, outcome, now, tick)
            session.commit()
        except IntegrityError:  # the endpoint was deleted meanwhile, and its messages with it
            session.rollback()
            done = False
        if not done:
            tick.lost += 1
        if outcome != "delivered":
            log.warning(
                "webhook not delivered",
                extra={
                    "event": f"webhook_{outcome}",
                    "outbox_id": message.id,
                    "endpoint_id": endpoint_id,
                    "attempts": message.attempts,
                    "error": (attempt.error or "")[:300],
                },
            )


def _record(
    session: Session,
    message: Claimed,
    endpoint_id: int,
    url: str,
    event: str,
    attempt: Attempt,
    outcome: str,
    now: datetime,
    tick: Tick,
) -> bool:
    """The attempt in the endpoint's log, and the message settled by it (audited when it is
    sent or failed); False when the claim is no longer ours."""
    session.add(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            outbox_id=message.id,
            event_id=event,
            event=message.kind,
            attempt=message.attempts,
            at=attempt.at,
            status_code=attempt.status_code,
            error=attempt.error,
            duration_ms=attempt.duration_ms,
            outcome=outcome,
        )
    )
    session.flush()
    details = {
        "to": url,
        "channel": "webhook",
        "endpoint": endpoint_id,
        "event_id": event,
        "status_code": attempt.status_code,
    }
    if outcome == "delivered":
        done = settle(session, message, status="sent", sent_at=utcnow(), last_error=None)
        if done:
            audit(session, message, "sent", None, **details)
        tick.sent += done
    elif outcome == "failed":
        done = settle(session, message, status="failed", last_error=attempt.error)
        if done:
            audit(session, message, "failed", attempt.error, **details)
        tick.failed += done
    else:
        done = settle(
            session,
            message,
            status="pending",
            available_at=now + backoff(message.attempts),
            last_error=attempt.error,
        )
        tick.retrying += done
    return done
