"""The webhooks page over HTTP: the backbone team adds an endpoint (a refusal under the field
it names), reads its secret once and never again (not in the layout, the list or any later
answer), rotates it, disables and deletes the endpoint and reads its delivery log; a partner,
a funder and another initiative's backbone get the page's "not allowed" and, forging the
callbacks, no data and no change. The world is the dashboard area's (conftest)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from models.tables.webhooks import WebhookEndpoint

from .. import factories as f
from ..dash_calls import call, log_in, render_page, response_of, text_of
from .test_setup_pages import _ids

SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{20,}")
URL = "https://hooks.example.org/common-measure"


def _as(client, world, role: str | None) -> None:
    log_in(client, role and world["users"][role])


def _save(client, selected=None, **values):
    given = {
        "webhooks-initiative.value": "c2c",
        "webhooks-selected.data": selected,
        "webhooks-url.value": URL,
        "webhooks-description.value": "Our data warehouse",
        "webhooks-events.value": ["report_approved", "period_published"],
        "webhooks-enabled.value": True,
        "webhooks-refresh.data": 0,
        "webhooks-save.n_clicks": 1,
    }
    given |= {f"webhooks-{name}.value": v for name, v in values.items()}
    return _fire(client, "webhooks-save", given, "webhooks-save.n_clicks")


def _act(client, button: str, selected, rows=None):
    given = {
        "webhooks-initiative.value": "c2c",
        "webhooks-selected.data": selected,
        "webhooks-enabled.value": True,
        "webhooks-grid.rowData": rows,
        "webhooks-refresh.data": 0,
        f"webhooks-{button}.n_clicks": 1,
    }
    return _fire(client, "webhooks-rotate", given, f"webhooks-{button}.n_clicks")


def _delete(client, selected):
    given = {
        "webhooks-initiative.value": "c2c",
        "webhooks-selected.data": selected,
        "webhooks-refresh.data": 0,
        "webhooks-delete.submit_n_clicks": 1,
    }
    return _fire(client, "webhooks-delete", given, "webhooks-delete.submit_n_clicks")


def _fire(client, button: str, values: dict, trigger: str):
    """Call the callback ``button`` fires (the changing callbacks share their first output)
    with every input and state it declares, each from ``values`` (None when not given)."""
    deps = client.get("/_dash-dependencies").json()
    [dep] = [d for d in deps if any(i["id"] == button for i in d["inputs"])]

    def given(items):
        return [(i["id"], i["property"], values.get(f"{i['id']}.{i['property']}")) for i in items]

    body = {
        "output": dep["output"],
        "outputs": [
            dict(zip(("id", "property"), part.split("."), strict=True))
            for part in dep["output"].strip(".").split("...")
        ],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in given(dep["inputs"])],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in given(dep["state"])],
        "changedPropIds": [trigger],
    }
    return client.post("/_dash-update-component", json=body)


def _list(client):
    return call(
        client,
        "..webhooks-grid.rowData",
        [("webhooks-initiative", "value", "c2c"), ("webhooks-refresh", "data", 0)],
    )


def _log(client, selected):
    return call(
        client,
        "..webhooks-deliveries.rowData",
        [("webhooks-selected", "data", selected), ("webhooks-refresh", "data", 0)],
        [("webhooks-initiative", "value", "c2c")],
    )


def _endpoint(session) -> WebhookEndpoint | None:
    session.expire_all()
    return session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.url == URL))


def test_add_see_the_secret_once_rotate_disable_delete(client, world, session) -> None:
    _as(client, world, "backbone")
    page = text_of(render_page(client, "/webhooks"))
    assert "webhooks-url" in page and "webhooks-deliveries" in page
    assert "webhooks-not-allowed" not in page
    ids = Counter(_ids(response_of(render_page(client, "/webhooks"))))
    assert [ident for ident, n in ids.items() if n > 1] == []
    assert "/webhooks" in text_of(render_page(client, "/setup")), "linked from setup"

    bad = response_of(_save(client, url="ftp://hooks.example.org/x"))
    assert bad["webhooks-url"]["invalid"] is True
    assert "https://" in bad["webhooks-url-error"]["children"]
    assert bad["webhooks-secret"]["children"] is None
    none = response_of(_save(client, events=[]))
    assert none["webhooks-url"]["invalid"] is False
    assert "report_approved" in none["webhooks-events-error"]["children"]
    assert _endpoint(session) is None

    made = _save(client)
    shown = SECRET.findall(text_of(made))
    endpoint = _endpoint(session)
    assert endpoint is not None and shown == [endpoint.secret]
    assert "You will not see it again" in text_of(made)
    assert endpoint.events == ["report_approved", "period_published"]
    answer = response_of(made)
    assert answer["webhooks-selected"]["data"] == endpoint.id
    assert answer["webhooks-url"]["invalid"] is False

    # Reloaded: neither the layout nor any answer holds the secret.
    reloaded = [render_page(client, "/webhooks"), _list(client), _log(client, endpoint.id)]
    for answer in reloaded:
        assert answer.status_code == 200
        assert endpoint.secret not in answer.text and not SECRET.search(answer.text)
    [row] = response_of(_list(client))["webhooks-grid"]["rowData"]
    assert row["url"] == URL and row["state"] == "enabled" and row["last"] == "none yet"
    assert row["description"] == "Our data warehouse" and row["secret_set_at"]

    picked = call(
        client,
        "..webhooks-selected.data...",
        [
            ("webhooks-grid", "selectedRows", [row]),
            ("webhooks-new", "n_clicks", None),
            ("webhooks-initiative", "value", "c2c"),
        ],
    )
    filled = response_of(picked)
    assert (
        filled["webhooks-url"]["value"] == URL and filled["webhooks-selected"]["data"] == row["id"]
    )
    assert filled["webhooks-secret"]["children"] is None, "a secret on show goes"
    assert not SECRET.search(picked.text)

    rotated = _act(client, "rotate", endpoint.id, [row])
    old = endpoint.secret
    endpoint = _endpoint(session)
    assert endpoint.secret != old
    assert SECRET.findall(text_of(rotated)) == [endpoint.secret]
    assert old not in rotated.text
    assert not SECRET.search(_list(client).text)

    edited = response_of(_save(client, endpoint.id, url=URL + "/v2"))
    assert "Saved" in str(edited["webhooks-feedback"]["children"])
    assert edited["webhooks-secret"]["children"] is None
    session.expire_all()
    assert session.get(WebhookEndpoint, endpoint.id).url == URL + "/v2"
    refused = response_of(_save(client, endpoint.id, url="https://127.0.0.1:notaport/"))
    assert refused["webhooks-url"]["invalid"] is True

    disabled = _act(client, "toggle", endpoint.id, [row])
    assert "disabled" in text_of(disabled) and not SECRET.search(disabled.text)
    session.expire_all()
    assert session.get(WebhookEndpoint, endpoint.id).enabled is False
    [row] = response_of(_list(client))["webhooks-grid"]["rowData"]
    assert row["state"] == "disabled"

    f.webhook_delivery(
        session,
        endpoint.id,
        "retrying",
        status_code=None,
        error="ConnectError: refused",
        duration_ms=42,
    )
    session.commit()
    [entry] = response_of(_log(client, endpoint.id))["webhooks-deliveries"]["rowData"]
    assert entry["result"] == "ConnectError: refused" and entry["outcome"] == "retrying"
    assert entry["duration_ms"] == 42 and entry["at"].startswith("5 Jan 2026")
    [row] = response_of(_list(client))["webhooks-grid"]["rowData"]
    assert row["last"].startswith("retrying")

    ident = endpoint.id
    gone = _delete(client, ident)
    assert "Deleted" in text_of(gone)
    session.expire_all()
    assert session.get(WebhookEndpoint, ident) is None
    assert response_of(_list(client))["webhooks-grid"]["rowData"] == []


@pytest.mark.parametrize("role", ["reporter", "funder", "outsider", None])
def test_others_are_refused_and_get_no_data(client, world, session, role) -> None:
    _as(client, world, "backbone")
    _save(client)
    endpoint = _endpoint(session)
    assert endpoint is not None
    row = {"id": endpoint.id, "url": URL, "enabled": True}

    _as(client, world, role)
    page = text_of(render_page(client, "/webhooks"))
    if role is None:
        assert "cm-please-log-in" in page
    elif role == "outsider":  # the page of its own initiative, which has no endpoint
        assert "webhooks-not-allowed" not in page and URL not in page
    else:
        assert "webhooks-not-allowed" in page
    listed = _list(client)
    assert response_of(listed)["webhooks-grid"]["rowData"] == []
    assert URL not in listed.text
    log = _log(client, endpoint.id)
    assert response_of(log)["webhooks-deliveries"]["rowData"] == []
    for forged in (
        _save(client, url="https://evil.example.org/"),
        _save(client, endpoint.id, url="https://evil.example.org/"),
        _act(client, "rotate", endpoint.id, [row]),
        _act(client, "toggle", endpoint.id, [row]),
        _delete(client, endpoint.id),
    ):
        assert forged.status_code == 200
        assert "cm-error" in text_of(forged)
        assert not SECRET.search(forged.text)
    session.expire_all()
    kept = session.get(WebhookEndpoint, endpoint.id)
    assert kept is not None and kept.url == URL and kept.enabled is True
    assert kept.secret == endpoint.secret
    assert session.scalars(select(WebhookEndpoint)).all() == [kept]
