"""Which JavaScript bundles a page loads.

Dash puts every registered component library into every page's index. The public summary,
read on phones, uses Dash's renderer, its core and HTML components and the Bootstrap
components; the data grid's bundle (1.3 MB) and Dash's table are for the logged-in pages. A
public page's index therefore names only the bundles of ``LIGHT_LIBRARIES``.

A light page cannot draw a page that needs a library it did not load, so leaving it for another
page is a full page load: a capturing click handler stops a link's click from reaching Dash's
client-side router when the link leads off the light pages, and the browser follows the link
itself. The light pages link to each other, and a page of the full app may open a light page
in place (it has every bundle).

Charts: Dash loads plotly.js on demand, from a fixed address, when a page first draws a graph.
Every chart of this app is cartesian (scatter, bar, heat map), so that address serves plotly.js's
cartesian bundle of the same version (``vendor/``: 1.5 MB, against 4.8 MB for the full one).
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

LIGHT_PAGES = re.compile(r"^/public(/[^/]+)?/?$")
# Component-suite folders (under Dash's prefix) whose bundles the light pages load.
LIGHT_LIBRARIES = (
    "dash/deps/",
    "dash/dash-renderer/",
    "dash/dcc/",
    "dash/html/",
    "dash_bootstrap_components/",
)
# The app's own scripts (assets/) that only the data grid calls.
GRID_ASSETS = ("/dashAgGridComponentFunctions.js",)
SUITES = "_dash-component-suites/"
PLOTLY_VERSION = "4.1.1"
CHARTING_LIBRARY = (
    Path(__file__).resolve().parent / "vendor" / f"plotly-cartesian-{PLOTLY_VERSION}.min.js"
)
PLOTLY_PATH = SUITES + "plotly/package_data/plotly.min.js"

_SCRIPT = re.compile(r'<script src="(?P<src>[^"]+)"')
# Capturing, on window: before React's handlers, so Dash's router never sees the click.
FULL_LOADS_OFF_LIGHT_PAGES = (
    "window.addEventListener('click', function (event) {"
    " var link = event.target.closest && event.target.closest('a[href]');"
    " if (!link || link.target || link.origin !== window.location.origin) { return; }"
    f" if (new RegExp({LIGHT_PAGES.pattern!r}).test(link.pathname)) {{ return; }}"
    " event.stopPropagation(); }, true);"
)


def is_light(path: str) -> bool:
    return LIGHT_PAGES.match(path) is not None


def light_scripts(scripts: str, prefix: str) -> str:
    """Dash's script tags less the bundles a light page does not use; inline scripts stay,
    and the handler that makes leaving the light pages a full page load is added."""
    suites = prefix + SUITES
    allowed = tuple(suites + library for library in LIGHT_LIBRARIES)

    def used(src: str) -> bool:
        if src.startswith(suites):
            return src.startswith(allowed)
        return not src.split("?")[0].endswith(GRID_ASSETS)

    kept = [
        line
        for line in scripts.split("\n")
        if (found := _SCRIPT.search(line)) is None or used(found["src"])
    ]
    kept.append(f"<script>{FULL_LOADS_OFF_LIGHT_PAGES}</script>")
    return "\n".join(kept)


@cache
def _charting_library() -> tuple[bytes, str]:
    body = CHARTING_LIBRARY.read_bytes()
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


async def _serve_charting_library(_request: Request) -> Response:
    body, etag = _charting_library()
    return Response(body, media_type="text/javascript", headers={"ETag": etag})


def charting_library_route(prefix: str) -> Route:
    """The route that answers Dash's plotly.js address with the cartesian bundle."""
    return Route(prefix + PLOTLY_PATH, _serve_charting_library, methods=["GET"])
