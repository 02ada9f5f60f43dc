"""The access log is bounded, survives a failing stream, cannot be forged, leaks no token, and
logs every request once with the status the client got (499 if it left first)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

from bot.runtime import Runtime
from tests.conftest import Clock
from tests.support.publicdata import seed
from web import access as access_module
from web.access import CACHE_TARGET, MAX_TARGET, AccessLog
from web.app import create_app
from web.front import Front


def scope(
    path: bytes = b"/",
    query: bytes = b"",
    client: Any = ("198.51.100.7", 40000),
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str = "GET",
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path.decode("latin-1"),
        "raw_path": path,
        "query_string": query,
        "http_version": "1.1",
        "client": client,
        "headers": headers or [],
    }


def lines(log: AccessLog, stream: io.StringIO) -> list[str]:
    log.flush()
    return [line.split(": ", 1)[1] for line in stream.getvalue().splitlines()]


class Flaky(io.StringIO):
    """A stream whose first write fails (a closed pipe, a full disk)."""

    fails = 1

    def write(self, text: str) -> int:
        if self.fails:
            self.fails -= 1
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_access_a_failed_write_is_reported_and_the_writer_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reported: list[logging.LogRecord] = []
    monkeypatch.setattr(logging.lastResort, "handleError", reported.append)
    monkeypatch.setattr(access_module, "log_handler", lambda: None)
    stream = Flaky()
    log = AccessLog(stream=stream)
    log.record(scope(b"/first"), 200)
    log._flush_safely()  # what the writer thread does every interval
    assert [r.getMessage() for r in reported] == ["access log not written"]
    log.record(scope(b"/second"), 200)
    log._flush_safely()
    written = stream.getvalue().splitlines()
    assert "WARNING flare.access: 1 access log lines lost" in written[0]
    assert written[1].endswith('"GET /second HTTP/1.1" 200')


def test_access_the_queue_is_capped_and_dropped_lines_are_counted() -> None:
    stream = io.StringIO()
    log = AccessLog(stream=stream, limit=10)
    for n in range(25):  # the writer is stalled: nothing is written meanwhile
        log.record(scope(b"/", b"n=%d" % n), 200)
    assert len(log._pending) == 10 and log.dropped == 15
    assert log.flush() == 10
    written = stream.getvalue().splitlines()
    assert "15 access log lines lost (queue full or write failed)" in written[0]
    assert log.flush() == 0  # reported once


def test_access_an_entry_keeps_only_what_its_line_needs() -> None:
    log = AccessLog(stream=io.StringIO())
    request = scope(headers=[(b"user-agent", b"x" * 100_000), (b"cookie", b"y" * 100_000)])
    log.record(request, 200)
    [entry] = log._pending
    assert not any(isinstance(part, dict | list) for part in entry)
    assert sum(len(part) for part in entry if isinstance(part, bytes | str)) < 100


def test_access_long_targets_are_cut_and_never_cached() -> None:
    stream = io.StringIO()
    log = AccessLog(stream=stream)
    for n in range(50):
        log.record(scope(b"/", b"%d=" % n + b"a" * 64_000), 200)
    log.record(scope(b"/short", b"a=1"), 200)
    written = lines(log, stream)
    assert len(log._requests) == 1  # only the short target
    assert all(len(line) < MAX_TARGET + 200 for line in written)
    assert written[0].endswith(f'...[+{64_004 - MAX_TARGET}B] HTTP/1.1" 200')
    assert len(b"/short?a=1") <= CACHE_TARGET


def test_access_a_forged_client_cannot_rewrite_any_line() -> None:
    stream = io.StringIO()
    log = AccessLog(stream=stream)
    log.record(
        scope(b"/history", client=('x - "DELETE /subscriptions/all HTTP/1.1" 200 #', 0)), 404
    )
    log.record(scope(b"/history"), 200)  # an innocent later request to the same URL
    log.record(scope(b'/a"b\\c\n2026-01-01T00:00:00.000Z INFO flare.access: x', b"q=\r"), 404)
    first, second, third = lines(log, stream)
    assert first.endswith(' - "GET /history HTTP/1.1" 404')
    assert first.startswith('"x\\x20-\\x20\\x22DELETE')  # quoted, nothing unescaped
    assert first.count('"') == 4
    assert second == '198.51.100.7:40000 - "GET /history HTTP/1.1" 200'
    assert third == (
        '198.51.100.7:40000 - "GET /a\\x22b\\x5cc\\x0a2026-01-01T00:00:00.000Z\\x20INFO\\x20'
        'flare.access:\\x20x?q=\\x0d HTTP/1.1" 404'
    )
    assert len(stream.getvalue().splitlines()) == 3


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_access_subscription_tokens_are_redacted(fmt: str) -> None:
    stream = io.StringIO()
    log = AccessLog(fmt, stream=stream)
    log.record(scope(b"/subscriptions/unsubscribe/SeCrEt1.abc"), 200)
    log.record(scope(b"/subscriptions/confirm/SeCrEt2.abc", b"components=api"), 200)
    log.record(scope(b"/subscriptions", b"token=SeCrEt3&x=1&Secret=SeCrEt4"), 200)
    log.flush()
    text = stream.getvalue()
    assert "SeCrEt" not in text
    if fmt == "json":
        paths = [json.loads(line)["path"] for line in text.splitlines()]
        assert paths == [
            "/subscriptions/unsubscribe/[redacted]",
            "/subscriptions/confirm/[redacted]?components=api",
            "/subscriptions?token=[redacted]&x=1&Secret=[redacted]",
        ]


# --- one line per request, with the status the client got --------------------------------------


async def _call(app: Any, request: dict[str, Any], receive: Any, send: Any) -> None:
    request = {**request, "scheme": "http", "root_path": "", "server": ("testserver", 80)}
    request["headers"] = [(b"host", b"testserver"), *request["headers"]]
    with contextlib.suppress(Exception):  # what uvicorn does with it is not under test
        await app(request, receive, send)


def _front(app: Any) -> Front:
    front = app.middleware_stack
    assert isinstance(front, Front)
    return front


def test_access_a_client_gone_before_the_response_is_logged_once_as_499(
    runtime: Runtime, clock: Clock
) -> None:
    seed(runtime, clock)
    stream = io.StringIO()
    log = AccessLog(stream=stream, interval=3600)
    app = create_app(runtime, access_log=log)
    with TestClient(app) as http:
        http.get("/")  # the snapshot and the middleware stack exist
        front = _front(app)
        log.flush()
        stream.truncate(0)
        stream.seek(0)

        async def gone() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def sink(message: dict[str, Any]) -> None:
            return None

        async def broken(message: dict[str, Any]) -> None:
            raise OSError("connection reset")

        body = scope(b"/subscriptions", method="POST", headers=[(b"content-length", b"10")])
        anyio.run(_call, front, body, gone, sink)  # Starlette path: left while we read
        anyio.run(_call, front, scope(b"/"), gone, broken)  # the front path: send fails
        anyio.run(_call, front, scope(b"/history"), gone, broken)
        anyio.run(_call, front, scope(b"/api/v2/status.json"), gone, sink)
    written = lines(log, stream)
    assert [line.rsplit(" ", 1)[1] for line in written] == ["499", "499", "499", "200"]
    assert [line.split('"')[1].split()[1] for line in written] == [
        "/subscriptions",
        "/",
        "/history",
        "/api/v2/status.json",
    ]


def test_access_a_huge_forwarded_for_is_cut_to_its_right_end(
    runtime: Runtime, clock: Clock
) -> None:
    seed(runtime, clock)
    stream = io.StringIO()
    log = AccessLog(stream=stream, interval=3600)
    huge = "10.0.0.1, " * 500_000 + "203.0.113.9"  # 5 MB through a trusted proxy
    app = create_app(runtime, access_log=log)
    with TestClient(app, client=("127.0.0.1", 4000)) as http:
        for path in ("/healthz", "/api/v2/status.json"):  # Starlette, then the front
            assert http.get(path, headers={"x-forwarded-for": huge}).status_code == 200
            repeated = [("x-forwarded-for", "198.51.100.1"), ("x-forwarded-for", "203.0.113.7")]
            assert http.get(path, headers=repeated).status_code == 200
    clients = [line.split(" - ", 1)[0] for line in lines(log, stream)]
    assert [c.rsplit(":", 1)[0] for c in clients] == ["203.0.113.9", "203.0.113.7"] * 2
