"""Every public representation, built once per data version: bytes, gzip and brotli bytes,
strong ETags and ready-made ASGI header lists, so serving a request is a dict lookup and two
`send`s.

`/`, the API documents and the feeds are built eagerly; incident and history pages are
rendered on their first request and kept in a small LRU owned by the snapshot, so they too
are rendered once per version, not once per request.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import brotli

from bot.text.render import ENV, TEMPLATES
from web.public import api, feeds
from web.public.pagedata import IncidentView, PageData

CACHE_CONTROL = b"public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"
HTML = b"text/html; charset=utf-8"
JSON = b"application/json; charset=utf-8"
ATOM = b"application/atom+xml; charset=utf-8"
RSS = b"application/rss+xml; charset=utf-8"
# No third-party requests, no scripts at all: the page needs neither.
HTML_POLICY = (
    b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HISTORY_MONTHS_PER_PAGE = 3
PAGE_CACHE_SIZE = 256

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Variant:
    """One encoding of one representation, with its ASGI messages prepared."""

    etag: bytes
    start: dict[str, Any]
    body: dict[str, Any]
    not_modified: dict[str, Any]


EMPTY_BODY: dict[str, Any] = {"type": "http.response.body", "body": b""}


@dataclass(frozen=True, slots=True)
class Representation:
    status: int
    identity: Variant
    gzip: Variant
    br: Variant

    def variant(self, encoding: str) -> Variant:
        """The variant for `negotiate.choose_encoding`'s answer."""
        return self.br if encoding == "br" else self.gzip if encoding == "gzip" else self.identity


def represent(
    body: bytes,
    content_type: bytes,
    *,
    status: int = 200,
    extra: Iterable[tuple[bytes, bytes]] = (),
) -> Representation:
    digest = hashlib.blake2b(body, digest_size=12).hexdigest().encode()
    compressed = gzip.compress(body, compresslevel=9, mtime=0)
    # Quality 9: within a few percent of 11's size at a third of its time (rebuilds count).
    packed = brotli.compress(body, quality=9)
    extra = list(extra)

    def variant(payload: bytes, etag: bytes, encoding: Headers) -> Variant:
        common: Headers = [
            (b"etag", etag),
            (b"cache-control", CACHE_CONTROL),
            (b"vary", b"Accept-Encoding"),
            (b"x-content-type-options", b"nosniff"),
            *extra,
        ]
        headers: Headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(payload)).encode()),
            *encoding,
            *common,
        ]
        return Variant(
            etag=etag,
            start={"type": "http.response.start", "status": status, "headers": headers},
            body={"type": "http.response.body", "body": payload},
            not_modified={"type": "http.response.start", "status": 304, "headers": common},
        )

    return Representation(
        status=status,
        identity=variant(body, b'"' + digest + b'"', []),
        gzip=variant(compressed, b'"' + digest + b'-gz"', [(b"content-encoding", b"gzip")]),
        br=variant(packed, b'"' + digest + b'-br"', [(b"content-encoding", b"br")]),
    )


def _month(value: datetime) -> date:
    return value.astimezone(UTC).date().replace(day=1)


def _previous_month(month: date) -> date:
    return (
        month.replace(year=month.year - 1, month=12)
        if month.month == 1
        else month.replace(month=month.month - 1)
    )


def history_months(data: PageData) -> list[tuple[date, list[IncidentView]]]:
    """Every month from now back to the oldest entry, newest first (empty months included)."""
    by_month: dict[date, list[IncidentView]] = {}
    for item in data.history():
        began = (
            item.scheduled_for if item.is_maintenance and item.scheduled_for else item.created_at
        )
        by_month.setdefault(_month(began), []).append(item)
    month = _month(data.now)
    oldest = min(by_month, default=month)
    months = []
    while month >= oldest:
        months.append((month, by_month.get(month, [])))
        month = _previous_month(month)
    return months


def json_bytes(document: dict[str, Any]) -> bytes:
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    # Inert even if some client pastes it into HTML; every JSON parser reads the same string.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


# --- the snapshot -------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    subscriptions_enabled: bool = True
    mail_enabled: bool = False


class Snapshot:
    """One data version, every representation ready. Safe to share between threads."""

    def __init__(self, data: PageData, options: Options | None = None) -> None:
        self.data = data
        self.version = data.version
        self.options = options or Options()
        self._context: dict[str, Any] = {
            "page": data,
            "now": data.now,
            "subscriptions_enabled": self.options.subscriptions_enabled,
            "mail_enabled": self.options.mail_enabled,
        }
        api_extra = [(b"access-control-allow-origin", b"*")]
        html_extra = [
            (b"content-security-policy", HTML_POLICY),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
        ]
        self.html_extra = html_extra
        self.static: dict[str, Representation] = {
            "/": represent(self.render("index.html"), HTML, extra=html_extra),
            "/history.atom": represent(feeds.atom(data), ATOM),
            "/history.rss": represent(feeds.rss(data), RSS),
        }
        for path, build in api.DOCUMENTS.items():
            body = json_bytes(build(data))
            self.static[path] = represent(body, JSON, extra=api_extra)
        self.not_found = represent(
            self.render("not_found.html"), HTML, status=404, extra=html_extra
        )
        self.history_pages = max(1, -(-len(history_months(data)) // HISTORY_MONTHS_PER_PAGE))
        self._pages: OrderedDict[str, Representation] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, template: str, **context: Any) -> bytes:
        page = ENV.get_template(f"public/{template}")
        return page.render({**self._context, **context}).encode()

    def _cached(self, key: str, build: Callable[[], Representation]) -> Representation:
        with self._lock:
            found = self._pages.get(key)
            if found is not None:
                self._pages.move_to_end(key)
                return found
        made = build()
        with self._lock:
            self._pages[key] = made
            while len(self._pages) > PAGE_CACHE_SIZE:
                self._pages.popitem(last=False)
        return made

    def cached(self, key: str) -> Representation | None:
        """The lazily rendered page if already built (no render: safe on the event loop)."""
        with self._lock:
            return self._pages.get(key)

    def incident(self, public_id: str) -> Representation:
        item = self.data.find(public_id)
        if item is None:
            return self.not_found
        return self._cached(
            f"incident:{public_id}",
            lambda: represent(self.render("incident.html", item=item), HTML, extra=self.html_extra),
        )

    def history(self, number: int) -> Representation:
        if not 1 <= number <= self.history_pages:
            return self.not_found
        return self._cached(f"history:{number}", lambda: self._history(number))

    def _history(self, number: int) -> Representation:
        months = history_months(self.data)
        start = (number - 1) * HISTORY_MONTHS_PER_PAGE
        shown = months[start : start + HISTORY_MONTHS_PER_PAGE]
        body = self.render(
            "history.html",
            months=shown,
            number=number,
            pages=self.history_pages,
            first_month=shown[-1][0],
            last_month=shown[0][0],
        )
        return represent(body, HTML, extra=self.html_extra)


def unavailable() -> Representation:
    """Before the first snapshot could be read (database down at start): an honest 503."""
    body = (TEMPLATES / "public" / "unavailable.html").read_bytes()
    rep = represent(body, HTML, status=503)
    for variant in (rep.identity, rep.gzip, rep.br):
        headers = variant.start["headers"]
        headers[:] = [(k, v) for k, v in headers if k not in (b"cache-control", b"etag")]
        headers.extend([(b"cache-control", b"no-store"), (b"retry-after", b"5")])
    return rep
