"""Subscriber webhooks: URL checks, HMAC signatures, and the POST itself (httpx, timeouts).

Every request carries `X-Flare-Signature: t=<unix time>,v1=<hex>` where `v1` is
HMAC-SHA256 over `"<t>.<raw body>"` with the subscriber's signing secret (sent to the
endpoint in its confirmation request). Receivers recompute it and reject old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

SIGNATURE_HEADER = "X-Flare-Signature"
URL_LIMIT = 2000
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
TOLERANCE_SECONDS = 300

Resolver = Callable[[str, int], list[str]]


class WebhookRefused(Exception):
    """A URL Flare will not call; the message is shown to the person subscribing."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: str, *, allow_private: bool, resolve: Resolver = system_resolver) -> str:
    """The URL, cleaned, if Flare may POST to it; raises WebhookRefused otherwise.

    Only http(s), no credentials in the URL, and unless `allow_private`, every address the
    host resolves to must be public (no loopback, private, link-local or reserved ranges),
    so a subscriber cannot aim Flare at the internal network.
    """
    url = url.strip()
    if len(url) > URL_LIMIT:
        raise WebhookRefused(f"The webhook URL is longer than {URL_LIMIT} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise WebhookRefused("That is not a valid URL.") from error
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise WebhookRefused("A webhook URL must start with http:// or https://.")
    if parts.username or parts.password:
        raise WebhookRefused("A webhook URL must not carry a user name or password.")
    if allow_private:
        return url
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError) as error:
        raise WebhookRefused(f"The host {parts.hostname} does not resolve.") from error
    if not addresses or any(_is_private(a) for a in addresses):
        raise WebhookRefused(
            "Webhooks go only to public addresses, not loopback or private networks."
        )
    return url


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: bytes, body: bytes, header: str, *, now: float, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """What a receiver does: recompute the HMAC and refuse stale timestamps (replays)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


@dataclass(frozen=True)
class WebhookResult:
    ok: bool
    status: int | None = None
    error: str | None = None

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks to be unsubscribed."""
        return self.status == 410


def post(
    client: httpx.Client,
    url: str,
    body: bytes,
    *,
    secret: bytes,
    timestamp: int,
    allow_private: bool,
    resolve: Resolver = system_resolver,
) -> WebhookResult:
    """POST one payload. The address is checked again now (DNS may have changed since
    subscribing) and redirects are not followed, so they cannot lead inside either."""
    try:
        check_url(url, allow_private=allow_private, resolve=resolve)
    except WebhookRefused as error:
        return WebhookResult(ok=False, error=str(error))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Flare-Webhooks/1",
        SIGNATURE_HEADER: signature(secret, body, timestamp),
    }
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return WebhookResult(ok=False, error=f"{type(error).__name__}: {error}"[:500])
    if 200 <= response.status_code < 300:
        return WebhookResult(ok=True, status=response.status_code)
    return WebhookResult(
        ok=False, status=response.status_code, error=f"HTTP {response.status_code}"
    )


def make_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False)
