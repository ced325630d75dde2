"""The dashboard's browser session: the cookie's name, and where a login may send the browser.

Shared by the login routes (api.web_auth), the data seam (which reads the cookie) and the pages
(which send anonymous visitors to the login page and back).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

SESSION_COOKIE = "cm_session"  # an access token (models.access.login.issue_token); HttpOnly
LOGIN_PAGE = "/login"


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects).

    Only a relative path starting with a single "/" passes: "//evil.com", "/\\evil.com",
    "https://evil.com", "javascript:…" and anything with control characters fall back.
    """
    if not target or not isinstance(target, str) or len(target) > 2000:
        return default
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return default
    if not target.startswith("/") or target[1:2] in ("/", "\\"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def login_url(next_path: str | None = None, **params: str) -> str:
    """The login page, with a message code and the (safe) page to return to."""
    target = safe_next(next_path)
    query = {**params, **({"next": target} if target != "/" else {})}
    return LOGIN_PAGE + (f"?{urlencode(query)}" if query else "")
