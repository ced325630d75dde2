"""Which network addresses the server may call on a user's behalf (webhooks).

A backbone officer types a webhook's URL; the server then posts to it. Left unchecked, that
lets someone with an initiative's backbone rights make the server call what only the server
can reach: its own loopback services (Redis, the database, an admin port), the private network
behind it, or a cloud's metadata address (link-local 169.254.169.254, which hands out
credentials). So by default an address that is not globally routable is refused, when the URL
is saved (a literal address, or ``localhost``) and again when each delivery is made: the host
name is resolved then, every address it resolves to must be public, and the request goes to
the address that was checked (not to a second resolution an attacker's DNS could answer
differently). ``CM_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`` lifts this for development, tests and
deployments whose receivers live on their own private network (README, "Webhooks").
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

from models.core.settings import get_settings

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
Resolver = Callable[[str, int], list[str]]


class AddressRefused(Exception):
    """The host is, or resolves to, an address the server must not call."""


def private_allowed() -> bool:
    return get_settings().webhook_allow_private_networks


def is_public(address: str) -> bool:
    """Globally routable (not loopback, private, link-local, shared, reserved, multicast)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def literal_refused(host: str) -> bool:
    """Whether a host as written (an address or a local name) is refused without resolving."""
    if private_allowed():
        return False
    name = host.strip("[]").lower().rstrip(".")
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False  # a name: checked when it is resolved, at each delivery
    return not is_public(name)


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """Where to connect: ``address`` checked, ``None`` when private networks are allowed (the
    client resolves the name itself)."""

    address: str | None


def checked_target(host: str, port: int, resolve: Resolver = _resolve) -> Target:
    """Resolve ``host`` and check every address it names; raise :class:`AddressRefused` when
    one is not public (a name with one private address among public ones is refused too: the
    client could pick it)."""
    if private_allowed():
        return Target(None)
    if literal_refused(host):
        raise AddressRefused(f"{host} is not a public address")
    try:
        addresses = resolve(host.strip("[]"), port)
    except OSError as exc:
        raise ConnectionError(f"cannot resolve {host}: {exc}") from exc
    refused = [a for a in addresses if not is_public(a)]
    if not addresses or refused:
        raise AddressRefused(f"{host} resolves to a non-public address ({', '.join(refused)})")
    return Target(addresses[0])
