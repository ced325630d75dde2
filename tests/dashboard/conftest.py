"""The dashboard area's world (most test files define their own ``world`` instead).

``world``: the two-partner world of the factories (2025Q3 open, 2025Q2 closed yesterday) with
a user per role (``users``: backbone, reporter for Eastside, funder, outsider). Tests sign in
with ``dash_calls.log_in``.
"""

from __future__ import annotations

import pytest

from .. import factories as f

ROLES = ("backbone", "reporter", "funder", "outsider")


@pytest.fixture
def world(session, client):
    built = f.two_partner_world(session)
    users = f.two_partner_users(session, built, ROLES)
    session.commit()
    return {**built, "users": users}
