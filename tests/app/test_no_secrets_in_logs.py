"""Nothing logged contains a secret: no password, access token or API key.

Every login, failed login, API-key call and token use in the suite goes through the app's
logging. This test scans what its process has logged so far; conftest makes the same check of
everything each process logged when its run ends (under ``pytest -n``, each worker's), wherever
this test happened to run.
"""

from __future__ import annotations

from .. import factories as f
from ..conftest import LOG_CAPTURE, logged_secrets


def test_no_password_token_or_api_key_was_logged(client) -> None:
    # Make sure this test alone also exercises the paths: a failed and a good login.
    client.post("/api/v1/auth/token", data={"username": "nobody@x.org", "password": f.PASSWORD})
    assert LOG_CAPTURE.lines, "the run logged nothing: the capture is not wired up"
    assert logged_secrets() == []
