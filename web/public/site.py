"""The public site's hot path: raw ASGI endpoints serving the in-memory snapshot.

A request never queries the database or renders a template: it picks the representation
by path, the variant by `Accept-Encoding` (br, gzip or identity: web/public/negotiate.py),
answers 304 when `If-None-Match` matches, and sends prepared messages. GET and HEAD of
HOT_PATHS are served by the same `serve` from web/front.py, ahead of the router. A refresher
task checks the data version every second (in the thread pool) and rebuilds the snapshot
off the event loop when it moved, so every process serves a change
within 2 s. If the database is down, the last snapshot keeps being served.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qs

from anyio import to_thread
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from bot.db.engine import read_only
from bot.db.models import KeyValue
from bot.db.state import VERSION_KEY
from bot.incidents import ReplayCache
from bot.runtime import Runtime
from bot.text.durations import parse_count
from web.public import api
from web.public.loading import load
from web.public.negotiate import bounded, choose_encoding, etag_matches
from web.public.snapshot import EMPTY_BODY, Options, Representation, Snapshot, unavailable

log = logging.getLogger("flare.web.public")

CHECK_INTERVAL = 1.0  # seconds between version checks: a change is served within 2 s
# Rebuild at least this often (and whenever the UTC day turns): uptime percentages move with
# the clock. Not more often: a rebuild holds the GIL for ~0.1 s, which shows in the p99 of
# a page under load (docs/benchmarks.md).
MAX_AGE = 300.0
HOT_PATHS = ("/", "/history.atom", "/history.rss", *api.DOCUMENTS)
_PUBLIC_ID = re.compile(r"^[a-z2-7]{1,16}$")
_ALLOW = (b"allow", b"GET, HEAD")


class PublicSite:
    """The snapshot one process serves, and the task that keeps it current."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        interval: float = CHECK_INTERVAL,
        max_age: float = MAX_AGE,
        options: Options | None = None,
    ) -> None:
        self.runtime = runtime
        self.interval = interval
        self.max_age = max_age
        self.options = options or Options(mail_enabled=bool(runtime.settings.smtp_url))
        self.snapshot: Snapshot | None = None
        self.built_at = 0.0
        self.failing = False
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._unavailable = unavailable()
        self._replays = ReplayCache()  # touched only by _build, one at a time

    # --- database side (thread pool) ---------------------------------------------------

    def _version(self) -> int:
        with read_only(self.runtime.sessions) as session:
            number = session.scalar(select(KeyValue.number).where(KeyValue.key == VERSION_KEY))
        return int(number or 0)

    def _build(self) -> Snapshot:
        with read_only(self.runtime.sessions) as session:
            data = load(session, self.runtime.settings, self.runtime.now(), self._replays)
        return Snapshot(data, self.options)

    # --- event loop side ---------------------------------------------------------------

    async def refresh(self, *, force: bool = False) -> bool:
        """Rebuild if the version moved (or `force`, or the snapshot is old). True if rebuilt."""
        async with self._lock:
            try:
                current = self.snapshot
                stale = (
                    time.monotonic() - self.built_at > self.max_age
                    or current is not None
                    and current.data.now.date() != self.runtime.now().date()
                )
                if not force and current is not None and not stale:
                    version = await to_thread.run_sync(self._version)
                    if version == current.version:
                        return False
                snapshot = await to_thread.run_sync(self._build)
            except Exception:
                if not self.failing:
                    log.exception("public snapshot: database unavailable; serving the last one")
                self.failing = True
                return False
            if self.failing:
                log.info("public snapshot: database is back")
            self.failing = False
            self.snapshot = snapshot
            self.built_at = time.monotonic()
            # The snapshot and everything loaded so far live until the next rebuild: move them
            # out of the collector's generations, so a full collection under load walks only
            # what requests allocate (it walked the whole heap: tens of ms of p99).
            gc.freeze()
            return True

    async def current(self) -> Snapshot | None:
        if self.snapshot is None:
            await self.refresh(force=True)
        return self.snapshot

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.refresh()

    async def start(self) -> None:
        await self.refresh(force=True)
        self._task = asyncio.create_task(self.run(), name="flare-public-snapshot")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


# --- HTTP -------------------------------------------------------------------------------


async def serve(scope: dict[str, Any], send: Any, representation: Representation) -> int:
    """Send the negotiated variant (or its 304); returns the status sent."""
    accepts: list[bytes] = []
    matches: list[bytes] = []
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            accepts.append(value)
        elif name == b"if-none-match":
            matches.append(value)
    accept, match = bounded(accepts), bounded(matches)
    variant = representation.variant(choose_encoding(accept))
    if match is not None and representation.status == 200 and etag_matches(match, variant.etag):
        await send(variant.not_modified)
        await send(EMPTY_BODY)
        return 304
    await send(variant.start)
    await send(EMPTY_BODY if scope["method"] == "HEAD" else variant.body)
    return representation.status


async def _refuse(scope: dict[str, Any], send: Any, cors: bool) -> None:
    if scope["method"] == "OPTIONS" and cors:
        headers = [
            (b"access-control-allow-origin", b"*"),
            (b"access-control-allow-methods", b"GET, HEAD"),
            (b"access-control-allow-headers", b"If-None-Match"),
            (b"access-control-max-age", b"86400"),
            _ALLOW,
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
    else:
        headers = [_ALLOW, (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 405, "headers": headers})
    await send(EMPTY_BODY)


class _Endpoint:
    """A raw ASGI endpoint (Starlette routes call it as an app: no Request object)."""

    def __init__(self, site: PublicSite) -> None:
        self.site = site

    async def pick(self, scope: dict[str, Any], snapshot: Snapshot) -> Representation:
        raise NotImplementedError

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await _refuse(scope, send, scope["path"].startswith("/api/"))
            return
        snapshot = self.site.snapshot or await self.site.current()
        if snapshot is None:
            await serve(scope, send, self.site._unavailable)
            return
        await serve(scope, send, await self.pick(scope, snapshot))


class HotEndpoint(_Endpoint):
    """`/`, the eight API documents and the feeds: built with the snapshot."""

    async def pick(self, scope: dict[str, Any], snapshot: Snapshot) -> Representation:
        return snapshot.static.get(scope["path"]) or snapshot.not_found


class IncidentEndpoint(_Endpoint):
    async def pick(self, scope: dict[str, Any], snapshot: Snapshot) -> Representation:
        public_id = scope["path_params"]["public_id"]
        if not _PUBLIC_ID.match(public_id) or snapshot.data.find(public_id) is None:
            return snapshot.not_found  # unknown ids never enter the page cache
        found = snapshot.cached(f"incident:{public_id}")
        if found is not None:
            return found
        return await to_thread.run_sync(snapshot.incident, public_id)


class HistoryEndpoint(_Endpoint):
    async def pick(self, scope: dict[str, Any], snapshot: Snapshot) -> Representation:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        raw = (query.get("page") or ["1"])[0]
        number = parse_count(raw) or 0  # ASCII digits only: "²" passes isdigit(), not int()
        if not 1 <= number <= snapshot.history_pages:
            return snapshot.not_found
        found = snapshot.cached(f"history:{number}")
        if found is not None:
            return found
        return await to_thread.run_sync(snapshot.history, number)


def routes(runtime: Runtime) -> list[BaseRoute]:
    site = PublicSite(runtime)
    hot = HotEndpoint(site)
    return [
        *(Route(path, hot) for path in HOT_PATHS),
        Route("/incidents/{public_id}", IncidentEndpoint(site)),
        Route("/history", HistoryEndpoint(site)),
    ]


def site_of(app: Starlette) -> PublicSite | None:
    """The `PublicSite` behind this app's public routes."""
    for route in app.routes:
        endpoint = getattr(route, "endpoint", None)
        if isinstance(endpoint, _Endpoint):
            return endpoint.site
    return None


async def start(app: Starlette, runtime: Runtime) -> None:
    """Build the first snapshot and start the refresher."""
    site = site_of(app)
    if site is not None:
        await site.start()


async def stop(app: Starlette) -> None:
    """Stop the snapshot refresher."""
    site = site_of(app)
    if site is not None:
        await site.stop()
