"""A check's `timeout` bounds the whole check, a slow target never holds back the others'
results, and the body is searched linearly within BODY_LIMIT. Both databases; untimed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bot import monitoring
from bot.config import CheckConfig
from bot.db.models import CheckResult
from bot.monitoring.checks import BODY_LIMIT, probe
from bot.runtime import Runtime
from tests.conftest import with_settings
from tests.monitoring.support import monitored


def config(url: str, **changes: object) -> CheckConfig:
    values: dict[str, object] = dict(
        name="Check",
        url=url,
        component="api",
        interval=timedelta(seconds=10),
        timeout=timedelta(seconds=1),
    )
    values.update(changes)
    return CheckConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def trickle() -> Iterator[str]:
    """Answers 200 and then one byte at a time, never "ok", until the test ends."""
    stop = threading.Event()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            while not stop.wait(0.05):
                try:
                    conn.sendall(b"1\r\nx\r\n")
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    stop.set()
    server.close()


def test_a_trickling_body_is_cut_off_at_the_deadline(trickle: str) -> None:
    with httpx.Client() as client:
        outcome = probe(config(trickle, contains="ok"), client)
    assert not outcome.ok
    assert outcome.error == "timed out after 1 s"


def test_each_result_is_recorded_as_it_completes(runtime: Runtime) -> None:
    seen: list[bool] = []
    fast = config("http://fast.example/", name="Fast", component="dashboard")
    rt = with_settings(monitored(runtime), checks=(fast,))

    def slow(request: httpx.Request) -> httpx.Response:
        # The slow target answers only once the fast check's result is in the database
        # (or gives up after a while): the old code recorded nothing before every probe ended.
        found = threading.Event()
        for _ in range(200):
            with rt.sessions.begin() as session:
                query = select(CheckResult.ok).where(CheckResult.check_name == "Fast")
                if session.scalar(query) is not None:
                    found.set()
                    break
            if found.wait(0.05):
                break
        seen.append(found.is_set())
        return httpx.Response(200, content=b"ok")

    transport = httpx.MockTransport(
        lambda request: (
            slow(request)
            if request.url.host == "slow.example"
            else httpx.Response(200, content=b"fine")
        )
    )
    checks = (config("http://slow.example/", name="Slow"), fast)
    rt = with_settings(rt, checks=checks)
    with httpx.Client(transport=transport) as client:
        assert monitoring.run_checks(rt.sessions, rt.settings, rt.now, client) == 2
    assert seen == [True]
    with rt.sessions.begin() as session:
        results = dict(session.execute(select(CheckResult.check_name, CheckResult.ok)).all())
    assert results == {"Fast": True, "Slow": True}


def chunked(body: bytes, size: int) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=iter([body[i : i + size] for i in range(0, len(body), size)])
        )

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("size", [1, 3, 4096])
def test_contains_is_found_across_chunk_boundaries(size: int) -> None:
    body = b"x" * 20_000 + b"status: healthy" + b"y" * 100
    with httpx.Client(transport=chunked(body, size)) as client:
        assert probe(config("http://t.example/", contains="healthy"), client).ok
        missing = probe(config("http://t.example/", contains="sick"), client)
    assert missing.error == "body lacks 'sick'"


def test_contains_beyond_the_body_limit_is_not_read() -> None:
    body = b"x" * BODY_LIMIT + b"healthy"
    with httpx.Client(transport=chunked(body, 65536)) as client:
        outcome = probe(config("http://t.example/", contains="healthy"), client)
    assert outcome.error == "body lacks 'healthy'"
    edge = b"x" * (BODY_LIMIT - 7) + b"healthy"
    with httpx.Client(transport=chunked(edge, 65536)) as client:
        assert probe(config("http://t.example/", contains="healthy"), client).ok
