"""Where the team sees monitoring: the board's Monitoring section, `/incident signals`,
`flare signals`, `flare checks` and /healthz (stale checks)."""

# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.cli.main import main
from bot.config import CheckConfig
from bot.db.models import CheckResult
from tests.conftest import with_settings
from tests.monitoring.harness import Monitored, fake, mon, slack  # noqa: F401
from tests.monitoring.support import alert, payload
from tests.support.mailbox import TestClient
from web.app import create_app

CHECK = CheckConfig(name="API health", url="http://127.0.0.1:9/healthz", component="api")


def test_board_shows_firing_signals_and_unmapped_alerts(mon: Monitored):
    mon.send(
        payload(
            alert("HighErrorRate", fingerprint="f1", component="api", severity="critical"),
            alert("DiskFull", fingerprint="u1", host="db-7"),
        )
    )
    mon.tick(seconds=5)
    board = mon.slack.board_text()
    assert "Monitoring" in board
    assert "*API*: HighErrorRate (Major outage) since" in board
    assert "*unmapped*: DiskFull" in board


def test_board_has_no_monitoring_section_when_calm(mon: Monitored):
    mon.tick(seconds=5)
    assert "Monitoring" not in mon.slack.board_text()


def test_incident_signals_lists_firing_and_recent(mon: Monitored):
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.send(payload(alert("Old", fingerprint="o1", component="api")))
    mon.send(payload(alert("Old", "resolved", fingerprint="o1", component="api")))
    reply = mon.slack.command("signals")["text"]
    assert "Firing (1):" in reply and "api: HighErrorRate (Degraded performance" in reply
    assert "Recent, ended in the last 2 h (1):" in reply and "api: Old" in reply
    assert "Give `signals` alone" in mon.slack.command("signals now")["text"]


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "flare.toml"
    path.write_text(
        '[page]\ncomponents = [{ key = "api", name = "API" }]\n'
        '[[checks]]\nname = "API health"\nurl = "http://127.0.0.1:9/healthz"\n'
        'component = "api"\ninterval = "30s"\n'
    )
    return path


def test_flare_signals_and_checks_print_what_monitoring_knows(
    mon: Monitored, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    monkeypatch.setenv("DATABASE_URL", mon.runtime.settings.database_url)
    monkeypatch.setenv("FLARE_CONFIG", str(_config(tmp_path)))
    assert main(["signals"]) == 0
    assert "api: HighErrorRate" in capsys.readouterr().out
    assert main(["checks"]) == 0
    assert "API health [api] never run" in capsys.readouterr().out
    with mon.runtime.sessions.begin() as session:
        now = mon.runtime.now()
        session.add(
            CheckResult(
                check_name="API health",
                slot=now,
                at=now,
                finished_at=now,
                ok=False,
                status_code=503,
                millis=12,
            )  # fmt: skip
        )
    assert main(["checks"]) == 0
    assert "API health [api] FAILING" in capsys.readouterr().out


def test_healthz_reports_how_many_checks_are_stale_never_their_names(mon: Monitored):
    other = CheckConfig(name="Payments DB 10.0.3.7", url="http://127.0.0.1:9/", component="api")
    runtime = with_settings(mon.runtime, checks=(CHECK, other))
    client = TestClient(create_app(runtime, mode="web"))
    response = client.get("/healthz")
    assert response.json()["checks"] == "stale: 2"
    assert "API health" not in response.text and "10.0.3.7" not in response.text
    with runtime.sessions.begin() as session:
        now = runtime.now()
        for name in ("API health", "Payments DB 10.0.3.7"):
            old = now - timedelta(hours=1)
            session.add(CheckResult(check_name=name, slot=old, at=old, finished_at=old, ok=True))
        session.add(
            CheckResult(check_name="API health", slot=now, at=now, finished_at=now, ok=True)
        )
    assert client.get("/healthz").json()["checks"] == "stale: 1"
    statements: list[str] = []
    engine = runtime.sessions.kw["bind"]

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        client.get("/healthz")
        client.get("/readyz")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    results = [s for s in statements if "check_results" in s]
    # One indexed look-up of the last slot per configured check (no scan, no GROUP BY),
    # and none at all for /readyz.
    assert len(results) == 2
    assert all("GROUP BY" not in s and "LIMIT" in s and "ORDER BY" in s for s in results)
