"""Call Dash callbacks over HTTP the way the browser does, or the way a forger would."""

from __future__ import annotations

import json
from typing import Any

from .factories import PASSWORD

CALLBACK_URL = "/_dash-update-component"


def callback_body(
    client, output_prefix: str, inputs: list[tuple[str, str, Any]], state=(), changed=None
) -> dict:
    """The JSON the renderer posts for the callback whose output id starts with the prefix."""
    deps = client.get("/_dash-dependencies").json()
    [dep] = [d for d in deps if d["output"].startswith(output_prefix)]
    outputs = [
        dict(zip(("id", "property"), part.split("."), strict=True))
        for part in dep["output"].strip(".").split("...")
    ]
    return {
        "output": dep["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": changed or [f"{inputs[0][0]}.{inputs[0][1]}"],
    }


def call(client, output_prefix: str, inputs, state=(), changed=None, headers=None):
    body = callback_body(client, output_prefix, inputs, state, changed)
    return client.post(CALLBACK_URL, json=body, headers=headers or {})


def render_page(client, path: str, search: str = ""):
    """What the page router answers for a URL: the page's layout, for the cookie's user."""
    return call(
        client,
        ".._pages_content.children",
        [("_pages_location", "pathname", path), ("_pages_location", "search", search)],
    )


def response_of(answer) -> dict:
    assert answer.status_code == 200, answer.text
    return answer.json()["response"]


def text_of(answer) -> str:
    """The answer as plain JSON text (Dash escapes "/" and non-ASCII characters)."""
    return json.dumps(answer.json(), ensure_ascii=False)


def call_declared(client, output_prefix: str, values: dict[str, Any], trigger: str, headers=None):
    """Call the callback with every input and state it declares, in its order, each value from
    ``values`` ("id.property" → value; None when not given), as fired by ``trigger``
    ("id.property"): for callbacks with many inputs (forms)."""
    deps = client.get("/_dash-dependencies").json()
    [dep] = [d for d in deps if d["output"].startswith(output_prefix)]

    def given(items):
        return [(i["id"], i["property"], values.get(f"{i['id']}.{i['property']}")) for i in items]

    return call(
        client,
        output_prefix,
        given(dep["inputs"]),
        given(dep["state"]),
        changed=[trigger],
        headers=headers,
    )


def log_in(client, user) -> None:
    """Sign the client in through the login form as ``user`` (a user or an email), or out
    when None: the cookie every page and callback reads."""
    client.cookies.clear()
    if user is None:
        return
    email = user if isinstance(user, str) else user.email
    r = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303 and "error" not in r.headers["location"], r.headers


def find(node, ident: str):
    """The component with id ``ident`` in a callback's JSON answer (or a part of it), or None."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == ident:
            return node
        node = list(node.values())
    if isinstance(node, list):
        for value in node:
            found = find(value, ident)
            if found is not None:
                return found
    return None
