"""OpenAPI links: which values of one operation's answer address the next operation.

A client (or a stateful fuzzer) reads them as "after creating an outcome, its ``code`` names it in
``GET/PATCH/DELETE …/outcomes/{code}``". Routers declare them on a success response:

    responses={201: links("The new outcome.", crud("Outcome", OUTCOME, slug=SLUG, code=...))}

Targets are named by ``operationRef`` (a JSON pointer to ``#/paths/<path>/<method>``), which does
not depend on FastAPI's generated operation ids.
"""

from __future__ import annotations

from typing import Any

API_PREFIX = "/api/v1"

# Runtime expressions used by several routers.
SLUG = "$request.path.slug"
ETAG = "$response.header.ETag"

# Where each kind of object lives, for the links from one answer to the next request.
ORGANISATION = "/organisations/{slug}"
INITIATIVE = "/initiatives/{slug}"
MEMBER = "/initiatives/{slug}/members/{org}"
OUTCOME = "/initiatives/{slug}/outcomes/{code}"
DIMENSION = "/initiatives/{slug}/dimensions/{code}"
INDICATOR = "/initiatives/{slug}/indicators/{code}"
PERIOD = "/initiatives/{slug}/periods/{key}"


def link(method: str, path: str, **parameters: str) -> dict[str, Any]:
    """A link to ``method path`` (``path`` below ``/api/v1``) filling ``parameters``.

    A parameter named ``header.X`` fills header ``X``; others are the target's parameters by name.
    """
    pointer = (API_PREFIX + path).replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method.lower()}", "parameters": parameters}


def crud(
    name: str, path: str, methods: tuple[str, ...] = ("GET", "PATCH", "DELETE"), **parameters: str
) -> dict[str, dict[str, Any]]:
    """Links named ``<Method><name>`` to each of ``methods`` on ``path``, with the same values."""
    return {f"{m.title()}{name}": link(m, path, **parameters) for m in methods}


def links(description: str, *groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A response object (for ``responses=``) with ``description`` and the links of ``groups``."""
    merged: dict[str, dict[str, Any]] = {}
    for group in groups:
        merged.update(group)
    return {"description": description, "links": merged}


def member_links(org: str) -> dict[str, dict]:
    return {
        **crud("Member", MEMBER, slug=SLUG, org=org),
        **crud("Obligations", MEMBER + "/obligations", ("GET", "PUT"), slug=SLUG, org=org),
    }


def indicator_links(code: str) -> dict[str, dict]:
    return {
        **crud("Indicator", INDICATOR, slug=SLUG, code=code),
        **crud("Breaks", INDICATOR + "/breaks", ("GET", "POST"), slug=SLUG, code=code),
    }


def period_links(key: str) -> dict[str, dict]:
    return {
        **crud("Period", PERIOD, slug=SLUG, key=key),
        "LockPeriod": link("POST", PERIOD + "/lock", slug=SLUG, key=key),
        "UnlockPeriod": link("POST", PERIOD + "/unlock", slug=SLUG, key=key),
        "PublishPeriod": link("POST", PERIOD + "/publish", slug=SLUG, key=key),
        "GetPublications": link("GET", PERIOD + "/publications", slug=SLUG, key=key),
    }
