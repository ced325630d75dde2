"""The HTTP status of the public summary's page, ``/public/<initiative>``.

Dash serves the same index for every page address and draws the page in the browser, so an
address naming no initiative would answer 200 with a "Page not found" text: crawlers index it,
and links checkers and scripts cannot tell a typo from a summary. This guard asks the domain
whether the initiative exists (its directory is public: models.initiatives.directory) before
the Dash index goes out, and answers that index with 404 when it does not; the page then says
"Page not found" with the site's navigation, as before. An initiative that has published
nothing yet exists: its page says so, with 200.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.initiatives.directory import initiative_exists

PUBLIC_PAGE = re.compile(r"^/public/(?P<slug>[^/]+)/?$")


class PublicPageStatus:
    """ASGI middleware for the Dash server: 404 for ``/public/<slug>`` naming no initiative."""

    def __init__(self, app: ASGIApp, session_factory: sessionmaker[Session]) -> None:
        self.app = app
        self.session_factory = session_factory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = PUBLIC_PAGE.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope["method"] != "GET":  # Dash serves pages to GET only
            await self.app(scope, receive, send)
            return
        # The lookup is a blocking query: off the event loop, like the API's sync routes.
        if await run_in_threadpool(self._exists, unquote(match["slug"])):
            await self.app(scope, receive, send)
            return

        async def not_found(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message = {**message, "status": 404}
            await send(message)

        await self.app(scope, receive, not_found)

    def _exists(self, slug: str) -> bool:
        with self.session_factory() as session:
            return initiative_exists(session=session, slug=slug)
