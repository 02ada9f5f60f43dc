"""Reading a provider's Statuspage summary: the GET and the parse, where every byte comes from
outside. Whatever the page answers (wrong JSON types, control characters, an odd ETag, a
compressed body, a 304 we did not ask for), the result is a reading or an error outcome, never
an exception: the poller counts an error as a failed poll (docs/dashboard.md "Providers").
"""

from __future__ import annotations

import json
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bot import subscribers
from bot.config import DependencyConfig

DEADLINE = 10.0
RESOLVE_TIMEOUT = 5.0  # seconds of the deadline DNS may take
BODY_LIMIT = 1024 * 1024  # bytes of the body, after any decompression
ETAG_LIMIT = 200
NAME_LIMIT = 300
ERROR_LIMIT = 300
STATE_OF = {
    "none": "operational",
    "minor": "degraded",
    "maintenance": "degraded",
    "major": "major",
    "critical": "major",
}
_DONE = frozenset({"resolved", "completed"})
# gzip, or zlib-wrapped deflate; decompressed in steps so a small body cannot inflate past
# BODY_LIMIT in memory. Anything else (br, zstd, stacked encodings) is refused.
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


@dataclass(frozen=True)
class Reading:
    indicator: str
    incident_name: str | None = None
    incident_url: str | None = None

    @property
    def state(self) -> str:
        return STATE_OF[self.indicator]


@dataclass(frozen=True)
class Outcome:
    """What one poll found: a reading, "not modified", or an error."""

    reading: Reading | None = None
    not_modified: bool = False
    etag: str | None = None
    error: str | None = None


def clean(text: str) -> str:
    """Upstream text made safe to store and show: control characters (NUL, newlines, …) and
    lone surrogates become spaces, runs of whitespace one space. PostgreSQL refuses NUL in
    text and JSON, and a newline would let a name start a line of its own in a post."""
    kept = "".join(" " if unicodedata.category(c) in {"Cc", "Cs"} else c for c in text)
    return " ".join(kept.split())


def link(value: object) -> str | None:
    """An http(s) link that can sit inside `<…|…>` in mrkdwn, or None."""
    if not isinstance(value, str) or len(value) > 500:
        return None
    if not value.startswith(("https://", "http://")) or any(c in value for c in "<>| "):
        return None
    if not value.isprintable():  # control characters, newlines, NUL
        return None
    return value


def etag_of(value: str | None) -> str | None:
    """An ETag worth sending back: printable ASCII up to ETAG_LIMIT characters (httpx cannot
    send anything else in a header, and a cut ETag would never match)."""
    if not value or len(value) > ETAG_LIMIT or not value.isascii() or not value.isprintable():
        return None
    return value


def parse_summary(body: bytes) -> Reading:
    """A summary.json body as a reading, or ValueError (whatever the JSON's types)."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    status = data.get("status") if isinstance(data, dict) else None
    if not isinstance(status, dict):
        raise ValueError("no status object")
    indicator = status.get("indicator")
    if not isinstance(indicator, str) or indicator not in STATE_OF:
        raise ValueError(f"unknown indicator {clean(str(indicator))[:40]!r}")
    name = url = None
    for key in ("incidents", "scheduled_maintenances"):
        items = data.get(key)
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            state = item.get("status")
            if isinstance(state, str) and state in _DONE:
                continue
            raw = item.get("name")
            name = (clean(raw)[:NAME_LIMIT] or None) if isinstance(raw, str) else None
            url = link(item.get("shortlink"))
            break
        if name:
            break
    return Reading(indicator, name, url)


class Unreadable(Exception):
    """The answer is not one the poller reads; the message says why."""


def read_body(reply: httpx.Response) -> bytes:
    """The body as sent (raw bytes), decompressed in capped steps; Unreadable over
    BODY_LIMIT bytes or in an encoding the poller does not take."""
    encoding = reply.headers.get("content-encoding", "").strip().lower()
    decoder = None
    if encoding not in {"", "identity"}:
        if encoding not in _DECODERS:
            raise Unreadable(f"Content-Encoding {clean(encoding)[:40]!r} not supported")
        decoder = zlib.decompressobj(_DECODERS[encoding])
    body = bytearray()
    try:
        for chunk in reply.iter_raw():
            if decoder is not None:
                chunk = decoder.decompress(chunk, BODY_LIMIT + 1 - len(body))
            body += chunk
            if len(body) > BODY_LIMIT or (decoder is not None and decoder.unconsumed_tail):
                raise Unreadable("body over 1 MiB")
        if decoder is not None:
            body += decoder.flush(BODY_LIMIT + 1 - len(body))
    except zlib.error as error:
        raise Unreadable(f"body not {encoding}: {error}") from None
    if len(body) > BODY_LIMIT:
        raise Unreadable("body over 1 MiB")
    return bytes(body)


def fetch(
    dependency: DependencyConfig,
    etag: str | None,
    client: httpx.Client | None = None,
    *,
    resolve: Callable[[str, int], list[str]] | None = None,
) -> Outcome:
    """GET the summary (outside any transaction), within DEADLINE seconds in total, DNS
    included. Never raises: anything that goes wrong is an error outcome."""
    etag = etag_of(etag)
    try:
        return _fetch(dependency, etag, client, resolve)
    except Exception as error:  # noqa: BLE001 - one provider's answer never stops the poller
        return Outcome(error=clean(f"{type(error).__name__}: {error}")[:ERROR_LIMIT])


def _fetch(
    dependency: DependencyConfig,
    etag: str | None,
    client: httpx.Client | None,
    resolve: Callable[[str, int], list[str]] | None,
) -> Outcome:
    headers = {
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "User-Agent": "Flare status poller",
    }
    if etag:
        headers["If-None-Match"] = etag
    own = client is None
    http = client or httpx.Client(
        transport=subscribers.DeadlineTransport(),
        timeout=DEADLINE,
        follow_redirects=False,
        trust_env=False,
    )
    try:
        with subscribers.deadline(DEADLINE):
            # DNS too within the deadline: resolved once (in a thread given up in time) and the
            # request sent to an address it returned, with the host name kept for Host and TLS.
            try:
                target = subscribers.resolve_target(
                    dependency.url.rstrip("/") + "/api/v2/summary.json",
                    allow_private=True,  # operators configure these pages (on-prem ones too)
                    timeout=min(RESOLVE_TIMEOUT, DEADLINE),
                    **({"resolve": resolve} if resolve else {}),
                )
            except subscribers.WebhookRefused as refused:
                return Outcome(error=clean(str(refused))[:ERROR_LIMIT])
            headers["Host"] = target.host_header
            extensions = {"sni_hostname": target.server_name}
            failure = Outcome(error="no address answered")
            for address in target.addresses:
                try:
                    return _get(http, target.url_for(address), headers, extensions, etag)
                except httpx.ConnectError as error:  # the next address the name resolved to
                    failure = Outcome(error=clean(f"ConnectError: {error}")[:ERROR_LIMIT])
            return failure
    finally:
        if own:
            http.close()


def _get(
    http: httpx.Client,
    url: httpx.URL,
    headers: dict[str, str],
    extensions: dict[str, str],
    etag: str | None,
) -> Outcome:
    with http.stream("GET", url, headers=headers, extensions=extensions) as reply:
        if reply.status_code == 304:
            if etag is None:  # nothing was asked to be "not modified"
                return Outcome(error="HTTP 304 to a request without If-None-Match")
            return Outcome(not_modified=True, etag=etag)
        if reply.status_code != 200:
            return Outcome(error=f"HTTP {reply.status_code}")
        try:
            reading = parse_summary(read_body(reply))
        except (Unreadable, ValueError) as error:
            return Outcome(error=clean(f"{type(error).__name__}: {error}")[:ERROR_LIMIT])
        return Outcome(reading=reading, etag=etag_of(reply.headers.get("etag")))
