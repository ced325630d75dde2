"""A real webhook receiver for the tests: a threaded ``http.server`` on 127.0.0.1 that checks
each delivery's signature the way README "Webhooks" tells a receiver to (its own code, not the
sender's), and keeps what it received. It can answer slowly, or with any status."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def signature_ok(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """README "Webhooks", verbatim in spirit: HMAC-SHA256 of ``timestamp.body``, recent."""
    timestamp = headers.get("x-cm-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, headers.get("x-cm-signature", ""))


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    valid: bool  # signed with the secret the receiver held when it arrived

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    def __init__(self, port: int | None = None) -> None:
        """``port``: where to come up later (a receiver that is down first); without it the
        server takes a free port itself when it starts."""
        self.port = port or 0
        self.secret = ""
        self.delay = 0.0  # seconds before answering
        self.status = 200
        self.received: list[Received] = []
        self.arrived = threading.Event()  # set when a request comes in
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                content = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.received.append(
                        Received(headers, content, signature_ok(receiver.secret, headers, content))
                    )
                receiver.arrived.set()
                time.sleep(receiver.delay)
                try:
                    self.send_response(receiver.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender gave up waiting (a timeout): nothing to answer
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read ``received``."""

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
