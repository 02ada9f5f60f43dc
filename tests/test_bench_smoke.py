"""bench/ stays runnable: the seed on SQLite at small sizes, the history cloner, the wrk parser
and the report writer. No timing assertions: `make bench` measures, this only exercises."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bench import common, page
from bench.__main__ import markdown, table
from bench.seed import COMPONENTS, bench_settings, clone_past, seed, write_config
from bot.config import load_settings
from bot.db.migrate import upgrade
from bot.db.models import Component, Incident, TimelineEvent
from bot.runtime import Runtime
from bot.text.status import IncidentStatus

WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:8000/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.79ms    2.77ms  19.14ms   76.15%
  Latency Distribution
     50%  635.91us
     75%    6.76ms
     90%   10.08ms
     99%    1.50s
  1019 requests in 1.00s, 2.25MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:   1017.96
"""


def test_bench_seed_builds_the_page_and_clones_history(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'flare.db'}"
    upgrade(url)
    runtime = Runtime.create(bench_settings(url))
    try:
        seed(runtime, past=4, now=datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
        assert clone_past(runtime, 10) == 6
        with runtime.sessions() as session:
            statuses = list(session.scalars(select(Incident.status)))
            assert statuses.count(IncidentStatus.RESOLVED) == 10
            assert len(statuses) == 13
            assert session.scalar(select(func.count()).select_from(Component)) == 20
            with_events = select(func.count(func.distinct(TimelineEvent.incident_id)))
            assert session.scalar(with_events) == 13
    finally:
        runtime.close()


def test_bench_config_matches_the_seeded_components(tmp_path: Path):
    path = write_config(tmp_path / "flare.toml")
    settings = load_settings({"FLARE_CONFIG": str(path)})
    assert settings.components == COMPONENTS


def test_bench_wrk_output_is_parsed():
    load = page.parse_wrk(WRK_OUTPUT)
    assert load.rps == 1017.96
    assert abs(load.p50 - 635.91e-6) < 1e-9
    assert load.p99 == 1.5
    assert (load.errors, load.requests) == (3, 1019)


def test_bench_report_says_met_missed_and_not_run():
    good = common.Result("A")
    good.row("x", "1", target="≤ 2", met=True)
    bad = common.Result("B", profile="ncalls tottime")
    bad.row("y", "3", target="≤ 2", met=False)
    skipped = common.Result("C", error="PostgreSQL is not reachable")
    results = [good, bad, skipped]
    rows = table(results)
    assert [r[-1] for r in rows[1:]] == ["met", "**MISSED**", "not run"]
    text = markdown(results, {"CPU": "test"}, datetime(2026, 11, 25, tzinfo=UTC), 60.0)
    assert "Missed: B — y (3)" in text
    assert "Not run: C" in text
    assert "ncalls tottime" in text
