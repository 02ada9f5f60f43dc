"""A trailing slash added or removed by a relative redirect, never one naming the Host.

Starlette's `redirect_slashes` answers `/api/v2/status.json/` with a 307 to an absolute URL
built from the request's `Host` header: any client (or a cache keyed without Host) gets a
redirect to whatever host it named. The router's own redirect is off (web/app.py); this is
its fallback for unmatched paths: the same rule (redirect when the path with its trailing
slash removed, or added, matches a route), answered with a path-only `Location`. A path
beginning with several slashes or a backslash cannot turn the Location into another host's
URL (`//evil.example` and `/\\evil.example` are read as hosts by browsers).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Match, Router


def relative_slash_redirect(router: Router) -> Any:
    """The router's new `default`: the redirect, else the router's own not-found answer."""
    not_found = router.not_found

    async def fallback(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"]
        if scope["type"] == "http" and path != "/":
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            probe = {**scope, "path": other}
            if other and any(r.matches(probe)[0] is not Match.NONE for r in router.routes):
                await _redirect(scope, send, _location(scope, path.endswith("/")))
                return
        await not_found(scope, receive, send)

    return fallback


def _location(scope: dict[str, Any], strip: bool) -> bytes:
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    raw = raw.rstrip(b"/") if strip else raw + b"/"
    raw = b"/" + raw.lstrip(b"/").replace(b"\\", b"%5C")
    query = scope.get("query_string") or b""
    return raw + b"?" + query if query else raw


async def _redirect(scope: dict[str, Any], send: Any, location: bytes) -> None:
    headers = [(b"location", location), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 307, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
