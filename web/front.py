"""The pure-ASGI front of the app: the snapshot routes without the framework, and the access
log for every request.

`/`, the API documents and the feeds (web/public/site.py HOT_PATHS) answered with GET or HEAD
are served here, straight from the snapshot, with the same function the Starlette routes use
(`site.serve`): the same bytes and headers, minus the router, the request scope copies and
three middleware layers (the X-Forwarded-For rule included: only the access log needs the
client, and it applies the rule off the request path). Everything else — other methods, a
process still without a snapshot, every other path — goes to the Starlette app unchanged.
tests/web/test_front.py holds the two to the same answers.
"""

from __future__ import annotations

from typing import Any

from web.access import AccessLog
from web.public.site import HOT_PATHS, PublicSite, serve

Scope = dict[str, Any]
_HOT = frozenset(HOT_PATHS)
_READ = frozenset(("GET", "HEAD"))


class Front:
    def __init__(self, app: Any, site: PublicSite | None, access: AccessLog | None) -> None:
        self.app = app
        self.site = site
        self.access = access

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        site = self.site
        snapshot = site.snapshot if site is not None else None
        if snapshot is not None and scope["path"] in _HOT and scope["method"] in _READ:
            status = await serve(scope, send, snapshot.static[scope["path"]])
            if self.access is not None:
                self.access.record(scope, status, True)
            return
        if self.access is None:
            await self.app(scope, receive, send)
            return
        sent = [500]  # what uvicorn answers if the app fails before starting a response

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.access.record(scope, sent[0])
