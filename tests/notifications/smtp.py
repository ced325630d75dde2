"""A real SMTP server in the test process (aiosmtpd), collecting what it receives."""

from __future__ import annotations

import asyncio
import email
import logging
import socket
import threading
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

# aiosmtpd logs every line it receives at DEBUG, mail bodies with their signed links included.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    """A port nothing listens on (for an SMTP server that is down, then comes up there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """The handler: every message received, parsed, in arrival order; and how many connections
    were made. ``drop_after`` messages on one connection, the server hangs up (as one does after
    an idle timeout or a restart)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.connections = 0
        self.drop_after: int | None = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=default)
        with self._lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        server.received = getattr(server, "received", 0) + 1
        if self.drop_after is not None and server.received >= self.drop_after:
            # After the reply goes out (it is written before the loop runs this callback).
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 Message accepted for delivery"


class _Counting(SMTP):
    def connection_made(self, transport) -> None:
        self.event_handler.connections += 1
        super().connection_made(transport)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Counting(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller = _Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        self.inbox.connections = 0  # start() tries the server once: that one is not counted
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
