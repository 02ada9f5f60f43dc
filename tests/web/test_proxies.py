"""Trusted proxies: X-Forwarded-For names the client only when the direct peer is one of
FORWARDED_ALLOW_IPS; from anyone else it is ignored (any client can write that header, and
the subscription rate limit counts the address it names)."""

from __future__ import annotations

from sqlalchemy import select

from bot import subscribers
from bot.db.models import RateLimitHit
from bot.runtime import Runtime
from tests.conftest import with_settings
from tests.support.mailbox import TestClient
from web.app import create_app


def client_from(runtime: Runtime, peer: str, *trusted: str) -> TestClient:
    rt = with_settings(
        runtime,
        smtp_url="smtp://127.0.0.1:1",  # nothing is sent: subscribing only queues the mail
        secret_key="test-secret",
        forwarded_allow_ips=trusted or ("127.0.0.1",),
    )
    return TestClient(create_app(rt, mode="web"), client=(peer, 50123))


def subscribe(client: TestClient, n: int, forwarded_for: str) -> int:
    response = client.post(
        "/subscriptions",
        data={"email": f"user{n}@example.com"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def buckets(runtime: Runtime) -> set[str]:
    with runtime.sessions.begin() as session:
        rows = session.scalars(select(RateLimitHit.bucket)).all()
    return {b for b in rows if b.startswith("ip:")}


def test_proxies_forwarded_for_from_an_untrusted_peer_is_ignored(runtime: Runtime):
    client = client_from(runtime, "203.0.113.7")  # a client on the internet, no proxy
    statuses = [subscribe(client, n, f"198.51.100.{n}") for n in range(subscribers.IP_LIMIT + 1)]
    assert statuses == [200] * subscribers.IP_LIMIT + [429]  # rotating the header won't help
    assert buckets(runtime) == {"ip:203.0.113.7"}


def test_proxies_forwarded_for_from_a_trusted_proxy_names_the_client(runtime: Runtime):
    client = client_from(runtime, "10.0.0.2", "10.0.0.0/8")
    statuses = [subscribe(client, n, f"198.51.100.{n}") for n in range(subscribers.IP_LIMIT + 1)]
    assert statuses == [200] * (subscribers.IP_LIMIT + 1)  # eleven different clients
    # A client's own X-Forwarded-For in front of the proxy's entry is not believed.
    assert subscribe(client, 99, "192.0.2.1, 198.51.100.250") == 200
    assert "ip:198.51.100.250" in buckets(runtime) and "ip:192.0.2.1" not in buckets(runtime)
    assert "ip:10.0.0.2" not in buckets(runtime)


def test_proxies_default_trusts_only_the_loopback_proxy(runtime: Runtime):
    local = client_from(runtime, "127.0.0.1")
    assert subscribe(local, 1, "198.51.100.1") == 200
    remote = client_from(runtime, "198.51.100.2")
    assert subscribe(remote, 2, "127.0.0.1") == 200
    assert buckets(runtime) == {"ip:198.51.100.1", "ip:198.51.100.2"}
