"""The access area's small world: Alice, backbone of initiative alpha, who logs in.

The two-tenant world of the access matrix (and of the Schemathesis runs) is ``tenants.py``.
"""

from __future__ import annotations

import pytest

from .. import factories as f


@pytest.fixture
def alice(session):
    """Alice (alice@example.org, password ``factories.PASSWORD``), backbone of ``alpha``."""
    init = f.initiative(session, slug="alpha")
    user = f.user(session, "backbone", init=init, email="alice@example.org")
    session.commit()
    return user
