"""Runs last (by name): nothing logged during the whole test run contains a secret.

Every login, failed login, API-key call and token use in the suite above went through the
app's logging; none of it may carry a password, an access token or an API key.
"""

from __future__ import annotations

import re

from models.demo.spec import DEMO_PASSWORD

from .. import factories as f
from ..conftest import LOG_CAPTURE

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
API_KEY = re.compile(r"cm_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


def test_no_password_token_or_api_key_was_logged(client) -> None:
    # Make sure this test alone also exercises the paths: a failed and a good login.
    client.post("/api/v1/auth/token", data={"username": "nobody@x.org", "password": f.PASSWORD})
    lines = LOG_CAPTURE.lines
    assert lines, "the run logged nothing: the capture is not wired up"
    for line in lines:
        assert f.PASSWORD not in line, line[:300]
        assert DEMO_PASSWORD not in line, line[:300]
        assert not JWT.search(line), line[:300]
        assert not API_KEY.search(line), line[:300]
