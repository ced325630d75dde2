"""The delivery worker: claims due messages from the outbox, sends them, marks them sent.

**Claims.** A worker takes a batch in one statement, ``UPDATE … WHERE id IN (SELECT … LIMIT n
FOR UPDATE SKIP LOCKED)`` on PostgreSQL, so several workers share the outbox without waiting
for each other or taking the same message; SQLite has one writer, so the same statement (without
the lock clause) is a whole claim there too. A claim sets ``status='sending'``, a random
``claim_token``, a lease (``CM_NOTIFY_LEASE_SECONDS``) and counts the attempt.

**Sending and marking.** The message is sent outside any lock, then marked sent with
``WHERE claim_token = :mine AND status = 'sending'``: only the holder of the current claim can
mark it, so a message is marked once however many workers touched it. A worker that dies
between claiming and marking (crash, kill, lost database) leaves the message ``sending``; when
its lease expires another worker claims it afresh (a new token: the dead worker's late mark,
should it come back, changes nothing) and sends it again.

**Long batches.** A claim's lease covers the batch it came in; once half of it has gone, each
message's claim is renewed just before it is sent, and one already taken over by another worker
(whose own lease it then is) is left to that worker: two live workers never send the same message.

**One connection per batch.** Over SMTP a claimed batch goes out on one connection (opened for
its first message, closed after its last; one dropped meanwhile is opened again), not one per
message: a server that limits connections, or is far away, is not asked for twenty handshakes.

**What this promises.** The outbox's own accounting never loses a message and never marks one
twice. Delivery over SMTP is *at least once*: SMTP has no idempotency, so a worker that sent a
message and died before marking it causes a second copy (with the same Message-ID, which some
receivers use to drop duplicates). The local mailbox is exactly once: its row is written in the
transaction that marks the message.

**Failures.** A temporary failure (server down, timeout, 4xx) puts the message back with an
exponential backoff (30 s, 1 min, 2 min, … at most an hour); after ``CM_NOTIFY_MAX_ATTEMPTS``
attempts, or at once on a permanent refusal (5xx), it is ``failed``: kept with its last error,
visible to the admin (``GET /api/v1/notifications/outbox?status=failed``).

**Several processes.** On PostgreSQL every serving process runs a worker and they share the
outbox; on a SQLite file they take turns, one at a time (models/notifications/turn.py).

**Webhooks** (README, "Webhooks") go through the same claims, leases and backoff; they are
posted by ``models.notifications.webhooks``, with HTTP's own rules for what is worth retrying.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.access.invitations import mailed_link
from models.core import dates
from models.core.db import get_sessionmaker, session_scope
from models.core.i18n import use_locale
from models.core.settings import get_settings
from models.notifications.bounces import held_because, hold_on
from models.notifications.claims import Claimed, Tick, audit, backoff, claim, renew, settle
from models.notifications.digests import bundle_digests
from models.notifications.email import (
    BatchSender,
    Mail,
    PermanentFailure,
    Sender,
    configured_sender,
    item_link,
    render,
)
from models.notifications.reminders import schedule_reminders
from models.notifications.turn import Turn, lock_path
from models.notifications.webhooks import WebhookPoster, deliver_webhook
from models.outbox.preferences import muted
from models.tables.access import User
from models.tables.base import utcnow

_clock = time.monotonic  # how long a batch has taken (a test's own clock can stand in)
log = logging.getLogger("cm.notifications")

REMINDER_EVERY = 60.0  # seconds between two computations of the day's reminders


def _link(session: Session, message: Claimed) -> str | None:
    """Where the message points; None when it no longer stands (an invitation since
    accepted, renewed or withdrawn)."""
    p = message.payload
    if message.kind == "invitation":
        assert message.recipient_user_id is not None  # a mail has its person (constraint)
        return mailed_link(
            session=session,
            user_id=message.recipient_user_id,
            token_version=int(p["token_version"]),
            base_url=str(p["base_url"]),
        )
    return item_link(message.kind, p)


def deliver(
    session_factory: sessionmaker[Session],
    sender: Sender,
    message: Claimed,
    *,
    now: datetime,
    tick: Tick,
) -> None:
    """Send one claimed mail and record what happened, each in its own transaction."""
    max_attempts = get_settings().notify_max_attempts
    user_id = message.recipient_user_id
    assert user_id is not None  # the channel 'email' names its person (constraint 'recipient')
    with session_factory() as session:
        try:
            link = _link(session, message)
            off = muted(session=session, user_ids=[user_id], kind=message.kind)
            held = hold_on(session, message.address)
            if link is None or off or held is not None:
                if off:
                    why = "recipient turned this kind off"
                elif held is not None:
                    why = held_because(held)
                else:
                    why = "no longer stands"
                settle(session, message, status="skipped", last_error=why)
                session.commit()
                tick.skipped += 1
                return
            # In the recipient's own language; without a setting, English (README, "Languages").
            language = session.scalar(select(User.locale).where(User.id == user_id))
            with use_locale(language):
                mail: Mail = render(
                    kind=message.kind,
                    to=message.address,
                    user_id=user_id,
                    payload=message.payload,
                    link=link,
                    key=message.idempotency_key,
                )
            session.commit()  # no transaction stays open while the network is slow
            sender.send(session, message.id, mail)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the message
            session.rollback()
            permanent = isinstance(exc, PermanentFailure)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if permanent or message.attempts >= max_attempts:
                done = settle(session, message, status="failed", last_error=error)
                if done:
                    audit(session, message, "failed", error)
                tick.failed += done
            else:
                done = settle(
                    session,
                    message,
                    status="pending",
                    available_at=now + backoff(message.attempts),
                    last_error=error,
                )
                tick.retrying += done
            session.commit()
            if not done:  # another worker holds the message now: its outcome is theirs
                tick.lost += 1
                return
            log.warning(
                "message not delivered",
                extra={
                    "event": "notification_failed" if permanent else "notification_retry",
                    "outbox_id": message.id,
                    "attempts": message.attempts,
                    "error": error[:300],
                },
            )
            return
        if settle(session, message, status="sent", sent_at=utcnow(), last_error=None):
            audit(session, message, "sent")
            session.commit()
            tick.sent += 1
        else:
            # Our lease ran out and another worker claimed the message: it is theirs to mark.
            session.rollback()
            tick.lost += 1
            log.warning(
                "claim taken over before the message was marked",
                extra={"event": "notification_claim_lost", "outbox_id": message.id},
            )


class DeliveryWorker:
    """Rounds of: the day's reminders, escalations and period-opening notices (at most once a
    minute), the digests due, then every due message in batches. ``run_once`` is one round
    (the tests' and ``cm worker --once``); ``start`` runs rounds in a daemon thread until
    ``stop`` (``cm serve``, ``cm worker``)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session] | None = None,
        sender: Sender | None = None,
        *,
        poll_seconds: float | None = None,
        poster: WebhookPoster | None = None,
    ) -> None:
        self.session_factory = session_factory or get_sessionmaker()
        self.sender = sender or configured_sender()
        self.poster = poster or WebhookPoster()
        self.poll_seconds = poll_seconds or get_settings().notify_poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reminded_at: float | None = None

    def run_once(self, now: datetime | None = None, *, reminders: bool = True) -> Tick:
        """One round; ``reminders`` also writes the day's reminders, escalations and
        period-opening notices (models/notifications/reminders.py)."""
        tick = Tick()
        if reminders:
            with session_scope(self.session_factory) as session:
                tick.reminders = schedule_reminders(session=session, today=dates.today())
        with session_scope(self.session_factory) as session:
            tick.digests = bundle_digests(session=session, now=now or utcnow(), today=dates.today())
        while not self._stop.is_set():
            moment = now or utcnow()
            batch = claim(self.session_factory, now=moment)
            if not batch:
                break
            tick.claimed += len(batch)
            claimed_at = _clock()
            with self._connection():
                for message in batch:
                    if not self._still_ours(message, claimed_at, now):
                        tick.overtaken += 1
                        continue
                    if message.channel == "webhook":
                        deliver_webhook(
                            self.session_factory, self.poster, message, now=moment, tick=tick
                        )
                        continue
                    deliver(self.session_factory, self.sender, message, now=moment, tick=tick)
        return tick

    def _still_ours(self, message: Claimed, claimed_at: float, now: datetime | None) -> bool:
        """Renew the claim before sending once half the batch's lease has gone (claims.renew);
        earlier the claim is certainly ours, and costs no statement."""
        lease = get_settings().notify_lease_seconds
        if _clock() - claimed_at < lease / 2:
            return True
        return renew(self.session_factory, message, now=now or utcnow())

    def _connection(self) -> AbstractContextManager[None]:
        """One connection for a batch when the sender keeps one (SMTP)."""
        if isinstance(self.sender, BatchSender):
            return self.sender.batch()
        return nullcontext()

    def _round(self) -> None:
        due = self._reminded_at is None or time.monotonic() - self._reminded_at >= REMINDER_EVERY
        try:
            tick = self.run_once(reminders=due)
            if due:
                self._reminded_at = time.monotonic()
            if tick.claimed or tick.reminders or tick.digests:
                log.info(
                    "notifications delivered",
                    extra={
                        "event": "notifications",
                        "sent": tick.sent,
                        "retrying": tick.retrying,
                        "failed": tick.failed,
                        "skipped": tick.skipped,
                        "reminders": tick.reminders,
                        "digests": tick.digests,
                    },
                )
        except Exception:  # a database outage must not end the worker
            log.exception("notification round failed", extra={"event": "notifications_error"})

    def run_forever(self) -> None:
        """Rounds until stopped; on a SQLite file only while this worker has the turn among
        the processes sharing it (models/notifications/turn.py)."""
        turn = Turn(lock_path(self.session_factory))
        try:
            while not self._stop.is_set():
                if turn.held():
                    self._round()
                self._stop.wait(self.poll_seconds)
        finally:
            turn.release()

    def start(self) -> threading.Thread:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run_forever, name="cm-delivery-worker", daemon=True
        )
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
