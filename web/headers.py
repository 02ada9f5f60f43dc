"""The headers every response carries, whichever side answered it (web/front.py).

`X-Content-Type-Options: nosniff` on every response, the plain-text 404 included, and
`Strict-Transport-Security` when the public URL (FLARE_PUBLIC_URL) is https: the site is then
served over TLS by whatever terminates it, and browsers should never try plain HTTP again.
No `includeSubDomains`: the status page's host may share a parent domain with sites that are
not ours to pin. The snapshot's precomputed responses already carry nosniff, so the hot path
adds only HSTS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

Header = tuple[bytes, bytes]
Send = Callable[[dict[str, Any]], Awaitable[None]]
NOSNIFF: Header = (b"x-content-type-options", b"nosniff")
HSTS: Header = (b"strict-transport-security", b"max-age=31536000")


def security_headers(public_url: str) -> list[Header]:
    """What every response carries for a site published at `public_url`."""
    https = urlsplit(public_url).scheme.lower() == "https"
    return [NOSNIFF, HSTS] if https else [NOSNIFF]


def with_headers(message: dict[str, Any], extra: list[Header]) -> dict[str, Any]:
    """A response start with each of `extra` added unless the response set it already (a
    new dict: the snapshot's start messages are shared by every request)."""
    headers = list(message.get("headers") or [])
    present = {name.lower() for name, _ in headers}
    missing = [header for header in extra if header[0] not in present]
    if not missing:
        return message
    return {**message, "headers": headers + missing}


def adding(send: Send, extra: list[Header]) -> Send:
    """`send` that adds `extra` to the response start."""

    async def send_with(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = with_headers(message, extra)
        await send(message)

    return send_with
