"""Dash's callback endpoint: 400 for a request that is not a callback call, a logged 500 for a
callback that fails.

Dash answers both with the same bare 500 and logs nothing, so a client's mistake looked like a
server fault and a real fault left no trace. Two ASGI layers around Dash's own middleware fix
that: one before Dash reads the body checks its shape, one between Dash's middleware and the
route catches what a callback raises (Dash's middleware would swallow it first).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from dash import Dash
from dash.exceptions import PreventUpdate
from fastapi.responses import JSONResponse
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from api.observability import request_id
from models.core.i18n import gettext

log = logging.getLogger("cm.dashboard")

CALLBACK_ROUTE = "_dash-update-component"


def guard_callbacks(dash_app: Dash) -> None:
    """Install both layers on the Dash app's server (before it serves its first request)."""
    path = dash_app.config.routes_pathname_prefix + CALLBACK_ROUTE
    server = dash_app.server
    server.add_middleware(CallbackRequestCheck, dash_app=dash_app, path=path)
    # Appended, not added: innermost, so inside Dash's middleware, which catches everything.
    server.user_middleware.append(Middleware(CallbackErrorLog, path=path))


class CallbackRequestCheck:
    """Refuse with 400 a POST to the callback endpoint that Dash could not dispatch."""

    def __init__(self, app: ASGIApp, *, dash_app: Dash, path: str) -> None:
        self.app = app
        self.dash_app = dash_app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        problem = self._problem(scope, body)
        if problem is not None:
            field, reason = problem
            answer = JSONResponse(
                error_body(
                    gettext("%(field)s: %(reason)s", field=field, reason=reason),
                    "invalid_callback_request",
                    field,
                ),
                status_code=400,
            )
            await answer(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _problem(self, scope: Scope, body: bytes) -> tuple[str, str] | None:
        """(field, reason) for the first thing wrong with the call, or None."""
        headers = dict(scope.get("headers") or [])
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            return "body", "must be JSON, sent as Content-Type: application/json"
        try:
            call = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return "body", "not valid JSON"
        if not isinstance(call, dict):
            return "body", "must be a JSON object"
        output = call.get("output")
        if not isinstance(output, str) or not output:
            return "output", "required: the id of the callback's output"
        if not isinstance(call.get("outputs"), dict | list):
            return "outputs", "required: the output's id and property, or a list of them"
        if output not in self.dash_app.callback_map:
            return "output", f"no callback has the output {output[:200]!r}"
        for field in ("inputs", "state"):
            if not _dependencies(call.get(field, [])):
                return field, "must be a list of {id, property, value} objects"
        changed = call.get("changedPropIds", [])
        if not isinstance(changed, list) or not all(isinstance(p, str) for p in changed):
            return "changedPropIds", "must be a list of strings"
        return None


class CallbackErrorLog:
    """Log a callback's unexpected error with the request id; answer 500 without a traceback."""

    def __init__(self, app: ASGIApp, *, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except PreventUpdate:
            raise  # Dash's "nothing to update": its middleware answers 204
        except Exception:
            call = (scope.get("state") or {}).get("json_body") or {}
            log.exception(
                "dashboard callback failed",
                extra={"event": "callback_error", "output": call.get("output")},
            )
            if started:
                raise
            answer = JSONResponse(
                error_body(
                    gettext(
                        "the dashboard could not answer; the error is logged under this request id"
                    ),
                    "internal_error",
                    request_id=request_id.get(),
                ),
                status_code=500,
            )
            await answer(scope, receive, send)


def _dependencies(items: Any) -> bool:
    """Dash's shape for inputs and state: objects with id and property, or lists of them
    (pattern-matching dependencies)."""
    if not isinstance(items, list):
        return False
    for item in items:
        group = item if isinstance(item, list) else [item]
        if not all(isinstance(d, dict) and "id" in d and "property" in d for d in group):
            return False
    return True


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body on once, then defers to the client."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
