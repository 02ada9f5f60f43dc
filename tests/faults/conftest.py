"""Fixtures for the fault suite, and the summary line it prints at the end of the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _truncate_pg
from tests.faults.procs import STATS, Cluster
from tests.support.fakeslack import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def cluster(pg_url: str, fake: FakeSlack, tmp_path: Path) -> Iterator[Cluster]:
    """Processes on the shared PostgreSQL (this run's own database, emptied first)."""
    _truncate_pg(pg_url)
    group = Cluster(pg_url, fake, tmp_path)
    yield group
    group.stop_all()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every fault-suite test runs real processes: `slow` (make test-fast skips them)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not STATS:
        return
    terminalreporter.write_sep("=", "fault suite")
    isolated = ""
    if STATS["isolated_expected"]:
        isolated = (
            f"a queue row that raises or trickles: isolated ({STATS['isolated_raised']} "
            f"raised, {STATS['isolated_trickled']} trickled), the rest delivered once "
            f"({STATS['isolated_delivered']}/{STATS['isolated_expected']}); "
        )
    terminalreporter.write_line(
        f"fault suite: killed {STATS['killed']} processes, injected {STATS['faults']} faults, "
        f"fuzzed {STATS['fuzzed']} requests, sent {STATS['commands']} commands; "
        f"{isolated}"
        f"lost {STATS['lost']}, doubled {STATS['doubled']} "
        f"(repeated because the sender died mid-send: {STATS['repeated']})"
    )
