"""Two real `flare worker` processes on PostgreSQL run each (check, slot) once: the local
server is hit exactly as many times as there are results, and no slot has two."""

# ruff: noqa: F811

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import load_settings
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import CheckResult
from bot.incidents import sync_components
from tests.conftest import _truncate_pg
from tests.monitoring.checksupport import Target, target  # noqa: F401

pytestmark = pytest.mark.slow

FLARE = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "flare"


def test_two_workers_run_each_check_slot_once(pg_url: str, target: Target, tmp_path: Path):
    _truncate_pg(pg_url)
    config = tmp_path / "flare.toml"
    config.write_text(
        '[page]\ncomponents = [{ key = "api", name = "API" }]\n'
        f'[[checks]]\nname = "API health"\nurl = "{target.url}"\ncomponent = "api"\n'
        'interval = "5s"\ntimeout = "2s"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLARE_", "SLACK_"))}
    env.update(DATABASE_URL=pg_url, FLARE_CONFIG=str(config), FLARE_TICK="1s")
    env.pop("PORT", None)
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:  # as a deploy's release step leaves it
        sync_components(session, load_settings(env), datetime.now(UTC))
    workers = []
    for n in range(2):
        log = (tmp_path / f"worker{n}.log").open("ab")
        workers.append(
            subprocess.Popen([str(FLARE), "worker"], env=env, cwd=tmp_path, stdout=log, stderr=log)
        )
        log.close()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # waiting for the workers' work, not timing it
            with sessions.begin() as session:
                done = session.scalar(
                    select(func.count())
                    .select_from(CheckResult)
                    .where(CheckResult.finished_at.is_not(None))
                )
            if (done or 0) >= 3 or any(p.poll() is not None for p in workers):
                break
            time.sleep(0.2)
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            process.wait(timeout=20)
    with sessions.begin() as session:
        rows = session.execute(select(CheckResult.slot, CheckResult.finished_at)).all()
    engine.dispose()
    logs = "\n".join(p.read_text() for p in tmp_path.glob("worker*.log"))
    assert len([r for r in rows if r.finished_at]) >= 3, logs
    assert len({slot for slot, _ in rows}) == len(rows)
    assert target.hits == len(rows), logs  # one request per claimed slot, never two
