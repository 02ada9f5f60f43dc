"""Two worker processes on PostgreSQL poll each provider once per slot, whatever their race."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import DependencyConfig, Settings
from tests.conftest import _truncate_pg
from tests.context.statuspage import StatusPage

pytestmark = pytest.mark.slow  # real processes
START = datetime(2026, 11, 25, 14, 0, 5, tzinfo=UTC)
SLOTS = 6
TRIES = 3  # each worker tries every slot this many times


def _worker(url: str, pages: list[str], barrier: Any, results: Any) -> None:
    from bot.context import poll_due
    from bot.runtime import Runtime

    deps = tuple(DependencyConfig(name=f"P{i}", url=u) for i, u in enumerate(pages))
    now = {"t": START}
    runtime = Runtime.create(Settings(database_url=url, dependencies=deps), clock=lambda: now["t"])
    polled = 0
    try:
        for slot in range(SLOTS):
            for attempt in range(TRIES):
                now["t"] = START + timedelta(seconds=60 * slot + attempt)
                barrier.wait(timeout=30)
                polled += poll_due(runtime.sessions, runtime.settings, now["t"])
    finally:
        runtime.close()
    results.put(polled)


def test_two_workers_poll_each_provider_once_per_slot(pg_url: str):
    _truncate_pg(pg_url)
    with StatusPage() as one, StatusPage() as two:
        ctx = multiprocessing.get_context("spawn")
        barrier, results = ctx.Barrier(2), ctx.Queue()
        workers = [
            ctx.Process(target=_worker, args=(pg_url, [one.url, two.url], barrier, results))
            for _ in range(2)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
            assert w.exitcode == 0
        polled = [results.get(timeout=5) for _ in workers]
        assert sum(polled) == 2 * SLOTS
        for page in (one, two):
            assert len(page.requests) == SLOTS, "one poll per slot across both workers"
            assert Counter(r["path"] for r in page.requests) == {"/api/v2/summary.json": SLOTS}
