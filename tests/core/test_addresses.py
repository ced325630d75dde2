"""A webhook's URL cannot make the server call what only the server can reach: loopback,
private and link-local addresses (a cloud's metadata service) are refused when the URL is saved
and when each delivery is made, and the request goes to the address that was checked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from models.core import addresses
from models.core.addresses import AddressRefused, checked_target, is_public, literal_refused
from models.core.settings import get_settings
from models.notifications.webhooks import WebhookPoster
from tests.notifications.receiver import Receiver


@pytest.fixture
def guarded(monkeypatch) -> Iterator[None]:
    """The production default: private networks not allowed."""
    monkeypatch.setenv("CM_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.9", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # a cloud's metadata service
        ("100.64.0.1", False),  # shared address space (carrier NAT)
        ("0.0.0.0", False),
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),  # loopback written as IPv6
        ("224.0.0.1", False),
    ],
)
def test_only_globally_routable_addresses_are_public(address, public) -> None:
    assert is_public(address) is public


def test_hosts_as_written(guarded) -> None:
    for host in ("localhost", "LOCALHOST.", "api.localhost", "127.0.0.1", "[::1]", "10.0.0.8"):
        assert literal_refused(host), host
    for host in ("hooks.example.org", "93.184.216.34"):
        assert not literal_refused(host), host


def test_allowed_for_development(monkeypatch) -> None:
    monkeypatch.setenv("CM_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
    get_settings.cache_clear()
    try:
        assert not literal_refused("127.0.0.1")
        assert checked_target("localhost", 80).address is None  # the client resolves it
    finally:
        get_settings.cache_clear()


def test_a_name_is_checked_by_every_address_it_resolves_to(guarded) -> None:
    def resolve(answers):
        return lambda host, port: answers

    assert checked_target("hooks.test", 443, resolve(["93.184.216.34"])).address == "93.184.216.34"
    for answers in (["127.0.0.1"], ["93.184.216.34", "10.0.0.5"], ["169.254.169.254"], []):
        with pytest.raises(AddressRefused):
            checked_target("hooks.test", 443, resolve(answers))


def test_a_delivery_to_a_name_that_resolves_inside_is_refused_and_never_made(guarded) -> None:
    receiver = Receiver().start()
    try:
        poster = WebhookPoster(timeout=2, resolve=lambda host, port: ["127.0.0.1"])
        attempt = poster.post(
            url=f"http://receiver.test:{receiver.port}/hook",
            secret="s",
            kind="report_approved",
            event="evt_1",
            content=b"{}",
        )
        poster.close()
    finally:
        receiver.stop()
    assert attempt.outcome == "failed"  # no later attempt would be allowed either
    assert attempt.error is not None and attempt.error.startswith("refused:")
    assert receiver.received == []


def test_the_request_goes_to_the_address_checked(guarded, monkeypatch) -> None:
    """No second resolution: ``receiver.test`` has no DNS at all, so the delivery arrives only
    because the client connected to the address the check resolved, naming the host in
    ``Host``."""
    monkeypatch.setattr(addresses, "is_public", lambda address: address == "127.0.0.1")
    receiver = Receiver().start()
    try:
        poster = WebhookPoster(timeout=5, resolve=lambda host, port: ["127.0.0.1"])
        attempt = poster.post(
            url=f"http://receiver.test:{receiver.port}/hook",
            secret="s",
            kind="report_approved",
            event="evt_1",
            content=b"{}",
        )
        poster.close()
    finally:
        receiver.stop()
    assert attempt.outcome == "delivered", attempt.error
    [got] = receiver.received
    assert got.headers["host"] == f"receiver.test:{receiver.port}"
