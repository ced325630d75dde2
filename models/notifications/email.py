"""Mail: rendered from Jinja2 templates (plain text and HTML, HTML autoescaped), sent over
SMTP when ``CM_SMTP_URL`` is set, else put in the local mailbox table for the admin to read.

``smtp://`` upgrades to TLS with STARTTLS whenever the server offers it, and insists on it with
``?starttls=1``; ``smtps://`` speaks TLS from the first byte. User and password come from the
URL. Certificates are checked against the system's store.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from models.core import i18n
from models.core.dates import day
from models.core.settings import get_settings
from models.outbox.preferences import labels, unsubscribe_link
from models.tables.notifications import MailboxMessage

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default=False),
    undefined=StrictUndefined,
    keep_trailing_newline=False,
    extensions=["jinja2.ext.i18n"],
)
# The templates' text comes from the catalogues, in the language being rendered (the worker
# renders each mail in its recipient's: README, "Languages"). New-style gettext fills the
# placeholders by keyword and escapes them in HTML.
_env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=lambda message: i18n.translations(i18n.current_locale()).gettext(message),
    ngettext=lambda singular, plural, n: i18n.translations(i18n.current_locale()).ngettext(
        singular, plural, n
    ),
    newstyle=True,
)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def portal_link(payload: dict[str, Any]) -> str:
    """The partner's report for the period, in the portal."""
    query = urlencode(
        {
            "initiative": payload["initiative"],
            "org": payload["organisation"],
            "period": payload["period"],
        }
    )
    return f"{get_settings().site_url}/portal?{query}"


# The browser download of a period's pre-filled Excel template (api.web_downloads): it reads
# the dashboard's session cookie, so a link in a mail works with a click (README,
# "Notifications"); the API's template.xlsx wants a bearer token, which a browser has not.
TEMPLATE_DOWNLOAD = "/portal/template.xlsx"


def template_path(initiative: str, organisation: str, period: str) -> str:
    """Where a browser downloads the partner's pre-filled template for the period."""
    query = urlencode({"initiative": initiative, "org": organisation, "period": period})
    return f"{TEMPLATE_DOWNLOAD}?{query}"


def template_link(payload: dict[str, Any]) -> str:
    """The partner's import template for the period, pre-filled with its obligations and the
    values entered so far (README, "Spreadsheets"), downloaded with the dashboard's login."""
    path = template_path(payload["initiative"], payload["organisation"], payload["period"])
    return f"{get_settings().site_url}{path}"


def reporting_link(payload: dict[str, Any]) -> str:
    """The backbone team's reporting page for the period: who has reported, who is late."""
    query = urlencode({"initiative": payload["initiative"], "period": payload["period"]})
    return f"{get_settings().site_url}/reporting?{query}"


def item_link(kind: str, payload: dict[str, Any]) -> str:
    """Where a message of ``kind`` points (an invitation's link is signed by the worker)."""
    if kind == "period_published":
        return f"{get_settings().site_url}/public/{payload['initiative']}"
    if kind == "digest":
        return get_settings().site_url
    if kind == "escalation":
        return reporting_link(payload)
    if kind == "period_opened":
        return template_link(payload)
    return portal_link(payload)


def subject(kind: str, payload: dict[str, Any]) -> str:
    """The one-line subject of a message of ``kind`` (also a digest's entry)."""
    return " ".join(_env.get_template(f"{kind}.subject").render(_dated(payload)).split())


def _dated(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its dates as people read them."""
    context = dict(payload)
    if "due_on" in payload:
        context["due"] = day(_date(payload["due_on"]))
    if "day" in payload:
        context["day_text"] = day(_date(payload["day"]))
    return context


def render(
    *, kind: str, to: str, user_id: int, payload: dict[str, Any], link: str, key: str
) -> Mail:
    """The message of ``kind`` for one recipient, with its unsubscribe link and headers
    (List-Unsubscribe with one-click POST; a Message-ID derived from the idempotency key, so a
    receiver that deduplicates by it sees a resent message as the same one)."""
    unsubscribe = unsubscribe_link(user_id, kind)
    if kind == "digest":
        entries = [
            {
                "subject": subject(i["kind"], i["payload"]),
                "link": item_link(i["kind"], i["payload"]),
            }
            for i in payload["items"]
        ]
        owed = [
            {**o, "due": day(_date(o["due_on"])), "link": template_link(o)}
            for o in payload.get("obligations", [])
        ]
        payload = {**payload, "entries": entries, "owed": owed}
    context = {
        **_dated(payload),
        "link": link,
        "unsubscribe": unsubscribe,
        "kind_label": labels()[kind],
        "lang": i18n.current_locale(),
        "site": get_settings().site_url,
    }
    if kind == "period_opened":  # the template needs the API's token; the portal a login
        context["portal"] = portal_link(payload)
    title = subject(kind, payload)
    context["subject"] = title
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Message-ID": f"<{digest}@common-measure>",
        "X-CM-Kind": kind,
    }
    return Mail(
        to=to,
        subject=title,
        text=_env.get_template(f"{kind}.txt").render(context).strip() + "\n",
        html=_env.get_template(f"{kind}.html").render(context).strip() + "\n",
        headers=headers,
    )


def _date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def email_message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    for name, value in mail.headers.items():
        message[name] = value
    if "Message-ID" not in mail.headers:
        message["Message-ID"] = make_msgid()
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx): retrying cannot help."""


class Sender(Protocol):
    def send(self, session: Session, outbox_id: int, mail: Mail) -> None:
        """Deliver ``mail``; raise on failure (:class:`PermanentFailure` when retrying is
        useless). ``session`` is the transaction that marks the message sent."""


@runtime_checkable
class BatchSender(Protocol):
    def batch(self) -> AbstractContextManager[None]:
        """A block whose messages the sender may deliver together (one SMTP connection)."""


class MailboxSender:
    """The local mailbox: the mail is a row written in the very transaction that marks its
    message sent, so here delivery is exactly once."""

    def send(self, session: Session, outbox_id: int, mail: Mail) -> None:
        session.add(
            MailboxMessage(
                outbox_id=outbox_id,
                to_address=mail.to,
                subject=mail.subject,
                text_body=mail.text,
                html_body=mail.html,
                headers=mail.headers,
            )
        )
        session.flush()


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool  # smtps: TLS from the first byte
    require_starttls: bool
    user: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        tls = parts.scheme == "smtps"
        flags = parse_qs(parts.query)
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if tls else 25),
            tls=tls,
            require_starttls=flags.get("starttls", ["0"])[0].lower() in {"1", "true", "yes"},
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpSender:
    """Over SMTP. Inside :meth:`batch` (the worker's claimed batch) the messages share one
    connection, opened at the first and closed at the end; a connection the server dropped
    meanwhile (idle timeout, restart) is opened afresh and the message sent on it. Outside a
    batch each message has a connection of its own. A worker's thread has its own connection."""

    def __init__(self, url: str, sender: str, timeout: float = 30.0) -> None:
        self.server = SmtpServer.from_url(url)
        self.sender = sender
        self.timeout = timeout
        # Made once: loading the system's certificates takes longer than sending a message.
        self.context = ssl.create_default_context()
        self._local = threading.local()  # this thread's batch: {"client": SMTP | None}

    def _connect(self) -> smtplib.SMTP:
        server, context = self.server, self.context
        client: smtplib.SMTP
        if server.tls:
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=self.timeout, context=context
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            client.ehlo()
            if not server.tls:
                if client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                elif server.require_starttls:
                    raise PermanentFailure("the SMTP server does not offer STARTTLS")
            if server.user:
                client.login(server.user, server.password or "")
        except BaseException:
            _close(client)
            raise
        return client

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Send the messages of the block over one connection."""
        self._local.batch = {"client": None}
        try:
            yield
        finally:
            client = self._local.batch["client"]
            self._local.batch = None
            if client is not None:
                _close(client)

    def send(self, session: Session, outbox_id: int, mail: Mail) -> None:
        batch = getattr(self._local, "batch", None)
        if batch is None:
            client = self._connect()
            try:
                self._send(client, mail)
            finally:
                _close(client)
            return
        client = batch["client"]
        if client is not None:
            try:
                self._on(batch, client, mail)
                return
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                pass  # dropped while idle: once more, on a new connection
        batch["client"] = client = self._connect()
        self._on(batch, client, mail)

    def _on(self, batch: dict[str, smtplib.SMTP | None], client: smtplib.SMTP, mail: Mail) -> None:
        """Send on the batch's connection; one in an unknown state afterwards is closed (the
        next message opens another)."""
        try:
            self._send(client, mail)
        except (PermanentFailure, smtplib.SMTPResponseException):
            raise  # the server answered: the connection stands
        except BaseException:
            batch["client"] = None
            _close(client)
            raise

    def _send(self, client: smtplib.SMTP, mail: Mail) -> None:
        try:
            client.send_message(email_message(mail, self.sender))
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def configured_sender() -> Sender:
    """SMTP when ``CM_SMTP_URL`` is set, else the local mailbox."""
    settings = get_settings()
    if settings.smtp_url:
        return SmtpSender(settings.smtp_url, settings.mail_from)
    return MailboxSender()
