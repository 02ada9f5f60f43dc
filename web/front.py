"""The pure-ASGI front of the app: the snapshot routes without the framework, and the access
log for every request.

`/`, the API documents and the feeds (web/public/site.py HOT_PATHS) answered with GET or HEAD
are served here, straight from the snapshot, with the same function the Starlette routes use
(`site.serve`): the same bytes and headers, minus the router, the request scope copies and
three middleware layers (the X-Forwarded-For rule included: only the access log needs the
client, and it applies the rule off the request path). Everything else — other methods, a
process still without a snapshot, every other path — goes to the Starlette app, with its
X-Forwarded-For bounded (web/access.py MAX_FORWARDED). tests/web/test_front.py holds the two to
the same answers.

Both paths add the headers every response carries (web/headers.py: nosniff, HSTS on an https
site), and both log each request exactly once, in a `finally`, with the status the client got:
499 when it went away before a response was sent (not the 500 an error page would claim).
"""

from __future__ import annotations

import asyncio
from typing import Any

from web.access import MAX_FORWARDED, AccessLog, forwarded_header
from web.headers import NOSNIFF, adding, security_headers
from web.public.site import HOT_PATHS, PublicSite, serve

Scope = dict[str, Any]
_HOT = frozenset(HOT_PATHS)
_READ = frozenset(("GET", "HEAD"))
# The status logged for a request whose client went away before a response was sent (nginx's
# "client closed request"): nothing was answered, and nothing failed on our side.
CLIENT_CLOSED = 499


class Front:
    def __init__(
        self,
        app: Any,
        site: PublicSite | None,
        access: AccessLog | None,
        public_url: str = "http://localhost",
    ) -> None:
        self.app = app
        self.site = site
        self.access = access
        self.headers = security_headers(public_url)  # every response (web/headers.py)
        # The snapshot's responses carry nosniff already: the hot path adds only the rest.
        self.hot_headers = [h for h in self.headers if h != NOSNIFF]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        site = self.site
        snapshot = site.snapshot if site is not None else None
        if snapshot is not None and scope["path"] in _HOT and scope["method"] in _READ:
            await self._hot(scope, send, snapshot.static[scope["path"]])
            return
        sent = [0]
        gone = [False]

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] != "http.response.start":
                await send(message)
                return
            # A client gone before we answered is no 500 of ours, whatever the error page.
            status = CLIENT_CLOSED if gone[0] else message["status"]
            await send(message)  # raises if the connection is gone: logged as such below
            sent[0] = status

        async def listen() -> Any:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone[0] = True
            return message

        _bound_forwarded(scope)
        try:
            await self.app(scope, listen, adding(watch, self.headers))
        except BaseException as error:
            if not sent[0]:
                sent[0] = CLIENT_CLOSED if gone[0] or _client_gone(error) else 500
            raise
        finally:
            if not sent[0]:  # returned without answering: the client left (or a bug)
                sent[0] = CLIENT_CLOSED if gone[0] else 500
            if self.access is not None:
                self.access.record(scope, sent[0])

    async def _hot(self, scope: Scope, send: Any, representation: Any) -> None:
        status = 0
        try:
            out = adding(send, self.hot_headers) if self.hot_headers else send
            status = await serve(scope, out, representation)
        except BaseException as error:
            status = CLIENT_CLOSED if _client_gone(error) else 500
            raise
        finally:
            if self.access is not None:
                self.access.record(scope, status, True)


def _bound_forwarded(scope: Scope) -> None:
    """ProxyHeadersMiddleware parses X-Forwarded-For on the event loop: a megabyte one is cut
    to its right end (the hops nearest us, the only ones it reads), repeats joined."""
    headers = scope["headers"]
    values = [value for name, value in headers if name == b"x-forwarded-for"]
    if len(values) > 1 or (values and len(values[0]) > MAX_FORWARDED):
        kept = forwarded_header(headers) or b""
        others = [(name, value) for name, value in headers if name != b"x-forwarded-for"]
        scope["headers"] = [*others, (b"x-forwarded-for", kept)]


def _client_gone(error: BaseException) -> bool:
    """Sending failed because the connection is gone (uvicorn's ClientDisconnected is an
    OSError), or the server cancelled the request for the same reason."""
    return isinstance(error, OSError | asyncio.CancelledError)
