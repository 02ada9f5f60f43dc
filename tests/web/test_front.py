"""The pure-ASGI front (web/front.py) answers the snapshot routes with exactly the status,
headers and body the Starlette routes behind it would, across encodings, 304s, HEAD and CORS;
and the access log records every request, whichever side answered it."""

from __future__ import annotations

import gzip
import io
from typing import Any

import anyio
import brotli
import pytest
from starlette.testclient import TestClient

from bot.runtime import Runtime
from tests.conftest import Clock
from tests.support.publicdata import HOT, seed
from web.access import AccessLog
from web.app import create_app
from web.front import Front
from web.public.negotiate import choose_encoding

ENCODINGS = [
    None,
    b"identity",
    b"gzip",
    b"br",
    b"gzip, deflate, br",
    b"br;q=0.5, gzip;q=0.9",
    b"gzip;q=0, br;q=0",
    b"*",
    b"*;q=0.2, br;q=0",
    b"identity;q=1, gzip;q=0.5",
    b"gzip;q=1.5",
    b"BR;Q=1",
]


async def _ask(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> list:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5555),
        "server": ("testserver", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return [start["status"], sorted(start.get("headers", [])), body]


async def _refuse(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError(f"{scope['method']} {scope['path']} fell through to Starlette")


def _front(app: Any) -> Front:
    stack = app.middleware_stack
    assert stack is not None
    front = stack
    assert isinstance(front, Front) and front.site is not None
    return front


def test_front_answers_exactly_what_the_starlette_routes_answer(
    runtime: Runtime, clock: Clock
) -> None:
    seed(runtime, clock)
    app = create_app(runtime)
    with TestClient(app) as http:
        http.get("/")  # builds the middleware stack and the first snapshot
        front = _front(app)
        behind = front.app  # Starlette's own stack: router, HotEndpoint
        site = front.site  # without it the front passes every request to Starlette
        snapshot = site.snapshot if site else None
        assert snapshot is not None
        compared = 0
        for path in HOT:
            etags = {
                e: snapshot.static[path].variant(e).etag.decode()
                for e in ("identity", "gzip", "br")
            }
            for method in ("GET", "HEAD"):
                for accept in ENCODINGS:
                    for match in (None, "*", etags["br"], f"W/{etags['gzip']}", '"nope"'):
                        headers = []
                        if accept is not None:
                            headers.append((b"accept-encoding", accept))
                        if match is not None:
                            headers.append((b"if-none-match", match.encode()))
                        front.app = _refuse  # the front must answer these alone
                        mine = anyio.run(_ask, front, method, path, headers)
                        front.app, front.site = behind, None  # Starlette answers
                        theirs = anyio.run(_ask, front, method, path, headers)
                        front.site = site
                        assert mine == theirs, (method, path, accept, match)
                        compared += 1
        assert compared == len(HOT) * 2 * len(ENCODINGS) * 5


def test_front_negotiates_brotli_gzip_and_identity_by_q_value(
    runtime: Runtime, clock: Clock
) -> None:
    seed(runtime, clock)
    with TestClient(create_app(runtime)) as http:
        plain = http.get("/api/v2/summary.json", headers={"accept-encoding": "identity"})
        for accept, coding in (
            ("gzip, deflate, br", "br"),
            ("br;q=0.5, gzip;q=0.9", "gzip"),
            ("gzip;q=0, br", "br"),
            ("br;q=0, gzip", "gzip"),
            ("br;q=0, gzip;q=0", None),
            ("identity, gzip;q=0.5", None),
        ):
            response = http.get("/api/v2/summary.json", headers={"accept-encoding": accept})
            assert response.headers.get("content-encoding") == coding, accept
            assert response.headers["vary"] == "Accept-Encoding"
            assert response.headers["access-control-allow-origin"] == "*"
            assert response.content == plain.content  # httpx decodes br and gzip
        rep = _front(http.app).site.snapshot.static["/"]  # type: ignore[union-attr]
        assert brotli.decompress(rep.br.body["body"]) == rep.identity.body["body"]
        assert gzip.decompress(rep.gzip.body["body"]) == rep.identity.body["body"]
        assert len(rep.br.body["body"]) < len(rep.gzip.body["body"])


@pytest.mark.parametrize(
    ("value", "coding"),
    [
        (None, "identity"),
        (b"", "identity"),
        (b"gzip", "gzip"),
        (b"x-gzip", "gzip"),
        (b"GZIP", "gzip"),
        (b"br;q=1.0, gzip;q=0.8, *;q=0.1", "br"),
        (b"gzip;q=0.8, br;q=0.8", "br"),
        (b"*", "br"),
        (b"*;q=0.5, br;q=0", "gzip"),
        (b"gzip;q=0", "identity"),
        (b"gzip;q=0.000", "identity"),
        (b"deflate", "identity"),
        (b"x-gzip-not", "identity"),
        (b"gzip;q=2", "identity"),  # not a quality value: refused
        (b"gzip;q=nan, br;q=1e3", "identity"),
        (b"identity;q=0.9, gzip;q=0.2", "identity"),
        (b"identity;q=0.2, gzip;q=0.2", "gzip"),
        (b" br ; q=0.7 ,gzip;q=0.6", "br"),
    ],
)
def test_front_accept_encoding_parsing(value: bytes | None, coding: str) -> None:
    assert choose_encoding(value) == coding


def test_front_access_log_records_every_request(runtime: Runtime, clock: Clock) -> None:
    seed(runtime, clock)
    stream = io.StringIO()
    access = AccessLog(stream=stream, interval=3600)  # written only by flush/stop here
    requests = [
        ("GET", "/", {}),
        ("HEAD", "/api/v2/summary.json", {}),
        ("GET", "/api/v2/status.json", {"accept-encoding": "br"}),
        ("POST", "/", {}),
        ("OPTIONS", "/api/v2/summary.json", {}),
        ("GET", "/history", {}),
        ("GET", "/nowhere?x=1", {}),
        ("GET", "/healthz", {"x-forwarded-for": "203.0.113.9"}),
        ("GET", "/api/v2/status.json", {"x-forwarded-for": "198.51.100.7"}),
    ]
    with TestClient(create_app(runtime, access_log=access), client=("127.0.0.1", 4000)) as http:
        etag = http.get("/").headers["etag"]
        statuses = [http.get("/", headers={"if-none-match": etag}).status_code]
        for method, path, headers in requests * 25:
            statuses.append(http.request(method, path, headers=headers).status_code)
    # stop() at shutdown wrote what was pending
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 + len(requests) * 25
    assert lines[1].endswith(' - "GET / HTTP/1.1" 304')
    logged = [int(line.rsplit(" ", 1)[1]) for line in lines[1:]]
    assert logged == statuses
    assert sorted(set(statuses)) == [200, 204, 304, 404, 405]
    assert any('"GET /nowhere?x=1 HTTP/1.1" 404' in line for line in lines)
    # The trusted proxy's X-Forwarded-For names the client, as in uvicorn's log.
    assert any("203.0.113.9" in line and "/healthz" in line for line in lines)
    assert any("198.51.100.7" in line and "/status.json" in line for line in lines)  # fast path
    assert all(" INFO flare.access: " in line for line in lines)
