"""Subscriber webhooks: URL checks, HMAC signatures, and the POST itself (httpx, deadlines).

Every request carries `X-Flare-Signature: t=<unix time>,v1=<hex>` where `v1` is
HMAC-SHA256 over `"<t>.<raw body>"` with the subscriber's signing secret (sent to the
endpoint in its confirmation request). Receivers recompute it and reject old timestamps.

A URL is parsed by httpx, exactly as the sender will parse it, whenever it is checked. Before
each send the host is resolved once, every address is checked, and the request connects to a
checked address (the URL carries the IP; the Host header and the TLS server name and
certificate check keep the hostname), so a DNS answer that changes after the check (DNS
rebinding) cannot point the request elsewhere. Each request has a total deadline and reads at
most BODY_CAP bytes of the answer.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bot.subscribers import transport

SIGNATURE_HEADER = "X-Flare-Signature"
URL_LIMIT = 2000
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
DEADLINE = 10.0  # seconds for one webhook, DNS to the last byte read
RESOLVE_TIMEOUT = 5.0
BODY_CAP = 65_536  # bytes of a receiver's answer read at most (the status is what counts)
TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")

Resolver = Callable[[str, int], list[str]]


class WebhookRefused(Exception):
    """A URL Flare will not call; the message is shown to the person subscribing."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _is_private(address: str) -> bool:
    """Not a public address, looking inside the IPv6 forms that carry an IPv4 address
    (mapped, 6to4, NAT64, IPv4-compatible) and at deprecated site-local addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _SITE_LOCAL:
            return True
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and (ip in _NAT64 or ip in _IPV4_COMPATIBLE):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
    return not ip.is_global or ip.is_multicast


def parse_url(url: str) -> httpx.URL:
    """The URL as httpx parses it, if its shape is one Flare may POST to (no DNS here).

    Only http(s), a host, a valid port and no credentials in the URL; WebhookRefused
    otherwise. A URL that passes never makes the sender's httpx raise `InvalidURL`.
    """
    url = url.strip()
    if len(url) > URL_LIMIT:
        raise WebhookRefused(f"The webhook URL is longer than {URL_LIMIT} characters.")
    try:  # every part the sender reads, read now (httpx decodes some of them lazily)
        parsed = httpx.URL(url)
        scheme, host, port, text = parsed.scheme, parsed.host, parsed.port, str(parsed)
        parsed.raw_host.decode("ascii")
        parsed.netloc.decode("ascii")
    except (httpx.InvalidURL, ValueError) as error:  # IDNA errors are ValueErrors too
        raise WebhookRefused("That is not a valid URL.") from error
    if scheme not in {"http", "https"} or not host:
        raise WebhookRefused("A webhook URL must start with http:// or https://.")
    if parsed.userinfo:
        raise WebhookRefused("A webhook URL must not carry a user name or password.")
    if (port is not None and not 0 < port < 65536) or len(text) > URL_LIMIT:
        raise WebhookRefused("That is not a valid URL.")
    return parsed


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        return None


def _resolve_within(resolve: Resolver, host: str, port: int, seconds: float) -> list[str]:
    """`resolve` in a helper thread, given up after `seconds` (the resolver may hang)."""
    answer: list[list[str] | BaseException] = []

    def run() -> None:
        try:
            answer.append(resolve(host, port))
        except BaseException as error:  # noqa: BLE001 - handed to the caller below
            answer.append(error)

    worker = threading.Thread(target=run, name="flare-resolve", daemon=True)
    worker.start()
    worker.join(max(seconds, 0.0))
    if not answer:
        raise TimeoutError(f"no DNS answer within {seconds:.0f} s")
    result = answer[0]
    if isinstance(result, BaseException):
        raise result
    return result


@dataclass(frozen=True)
class Target:
    """A URL and the addresses its host resolved to, every one of them checked."""

    url: httpx.URL
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")

    @property
    def server_name(self) -> str:
        return self.url.raw_host.decode("ascii")

    def url_for(self, address: str) -> httpx.URL:
        return self.url.copy_with(host=address)


def resolve_target(
    url: str,
    *,
    allow_private: bool,
    resolve: Resolver = system_resolver,
    timeout: float = RESOLVE_TIMEOUT,
) -> Target:
    """Parse, resolve once and check every address; WebhookRefused if any may not be called.

    Unless `allow_private`, every address must be public (no loopback, private, link-local
    or reserved ranges), so a subscriber cannot aim Flare at the internal network.
    """
    parsed = parse_url(url)
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = _resolve_within(resolve, host, port, timeout)
        except (OSError, UnicodeError) as error:
            raise WebhookRefused(f"The host {parsed.host} does not resolve.") from error
        addresses = [a for a in (_literal(str(a)) for a in addresses) if a is not None]
    if not addresses:
        raise WebhookRefused(f"The host {parsed.host} does not resolve.")
    if not allow_private and any(_is_private(a) for a in addresses):
        raise WebhookRefused(
            "Webhooks go only to public addresses, not loopback or private networks."
        )
    return Target(parsed, tuple(addresses))


def check_url(url: str, *, allow_private: bool, resolve: Resolver = system_resolver) -> str:
    """The URL, normalized as httpx writes it, if Flare may POST to it; WebhookRefused
    otherwise. Resolves the host (unless `allow_private`): call it outside any transaction."""
    if allow_private:
        return str(parse_url(url))
    return str(resolve_target(url, allow_private=False, resolve=resolve).url)


def check_shape(url: str, *, allow_private: bool) -> str:
    """What can be checked without DNS: the shape, and an IP-literal host's range."""
    parsed = parse_url(url)
    literal = _literal(parsed.raw_host.decode("ascii"))
    if literal is not None and not allow_private and _is_private(literal):
        raise WebhookRefused(
            "Webhooks go only to public addresses, not loopback or private networks."
        )
    return str(parsed)


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: bytes, body: bytes, header: str, *, now: float, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """What a receiver does: recompute the HMAC and refuse stale timestamps (replays)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp = fields.get("t", "")
    if not _TIMESTAMP.fullmatch(stamp):  # ASCII digits only: int() would take "١٢" or " 12"
        return False
    timestamp = int(stamp)
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
    deadline: float = DEADLINE,
) -> WebhookResult:
    """POST one payload within `deadline` seconds, DNS included.

    The host is resolved once and every address checked now (DNS may have changed since
    subscribing); the request then goes to a checked address, never to a later answer.
    Redirects are not followed, so they cannot lead inside either.
    """
    with transport.deadline(deadline):
        try:
            target = resolve_target(
                url,
                allow_private=allow_private,
                resolve=resolve,
                timeout=min(RESOLVE_TIMEOUT, deadline),
            )
        except WebhookRefused as error:
            return WebhookResult(ok=False, error=str(error))
        headers = {
            "Host": target.host_header,
            "Content-Type": "application/json",
            "User-Agent": "Flare-Webhooks/1",
            SIGNATURE_HEADER: signature(secret, body, timestamp),
        }
        extensions = {"sni_hostname": target.server_name}
        failure = WebhookResult(ok=False, error="no address answered")
        for address in target.addresses:
            try:
                with client.stream(
                    "POST",
                    target.url_for(address),
                    content=body,
                    headers=headers,
                    extensions=extensions,
                ) as response:
                    _read_capped(response)
                    status = response.status_code
            except httpx.ConnectError as error:  # try the next checked address
                failure = WebhookResult(ok=False, error=_describe(error, deadline))
                continue
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                return WebhookResult(ok=False, error=_describe(error, deadline))
            if 200 <= status < 300:
                return WebhookResult(ok=True, status=status)
            return WebhookResult(ok=False, status=status, error=f"HTTP {status}")
        return failure


def _read_capped(response: httpx.Response) -> int:
    """Read at most BODY_CAP bytes of the answer (within the deadline); the rest is dropped
    with the connection."""
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read >= BODY_CAP:
            break
    return read


def _describe(error: Exception, deadline: float) -> str:
    if isinstance(error, httpx.TimeoutException) and (transport.time_left() or 0) <= 0:
        return f"no complete answer within the {deadline:g} s deadline"
    return f"{type(error).__name__}: {error}"[:500]


def make_client(*, verify: ssl.SSLContext | bool = True) -> httpx.Client:
    return httpx.Client(
        timeout=TIMEOUT,
        follow_redirects=False,
        trust_env=False,
        transport=transport.DeadlineTransport(verify=verify),
    )
