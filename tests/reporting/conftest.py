"""The reporting area's world (a test file may define its own ``world`` instead).

``world``: the two-partner world of the factories (2025Q3 open, 2025Q2 closed yesterday) with
a user per role (``users``: backbone, reporter for Eastside, other for Westside, funder,
outsider) and their API headers (``h``).
"""

from __future__ import annotations

import pytest

from .. import factories as f


@pytest.fixture
def world(session, client):
    built = f.two_partner_world(session)
    users = f.two_partner_users(session, built)
    session.commit()
    return {**built, "users": users, "h": f.bearer_headers(client, users)}
