"""End to end with the real Alertmanager (Debian's prometheus-alertmanager): alerts pushed
through its /api/v2/alerts reach Flare through a `webhook_configs` receiver with
`http_config.authorization`; firing → the triage message in the fake Slack and the board's
Monitoring section; resolved → the message says recovered; an `auto` component's public
level follows and returns. Waiting here is for the other process, never a timing assert."""

# ruff: noqa: F811

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from bot.db.models import Component, Signal
from bot.text.status import ComponentStatus
from tests.monitoring.harness import Monitored, fake, mon, slack  # noqa: F401
from tests.monitoring.support import TOKEN
from web.app import create_app

pytestmark = pytest.mark.slow

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def flare_url(mon: Monitored) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(mon.runtime, mode="web"), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for("Flare to start", lambda: server.started, 10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def alertmanager(flare_url: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        f"""
global:
  resolve_timeout: 5s
route:
  receiver: flare
  group_by: ['alertname', 'component']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: flare
    webhook_configs:
      - url: {flare_url}/hooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {TOKEN}
"""
    )
    log = (tmp_path / "alertmanager.log").open("ab")
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=log,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for("Alertmanager to start", ready, 30)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def push(base: str, *alerts: dict[str, Any]) -> None:
    response = httpx.post(f"{base}/api/v2/alerts", json=list(alerts), timeout=5)
    assert response.status_code == 200, response.text


def am_alert(name: str, resolved: bool = False, **labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} from the real Alertmanager"},
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
        "endsAt": (
            now - timedelta(seconds=1) if resolved else now + timedelta(hours=1)
        ).isoformat(),
        "generatorURL": "http://prometheus.example.org/graph",
    }


def signal_state(mon: Monitored) -> dict[str, bool]:
    with mon.runtime.sessions.begin() as session:
        return {s.name: s.firing for s in session.scalars(select(Signal))}


def level(mon: Monitored, key: str) -> ComponentStatus:
    with mon.runtime.sessions.begin() as session:
        return session.scalars(select(Component).where(Component.key == key)).one().status


def test_real_alertmanager_firing_then_resolved(mon: Monitored, alertmanager: str):
    api = am_alert("ApiErrors", component="api", severity="critical")
    dash = am_alert("DashboardDown", component="dashboard", severity="error")
    push(alertmanager, api, dash)
    wait_for(
        "both alerts to reach Flare",
        lambda: signal_state(mon) == {"ApiErrors": True, "DashboardDown": True},
    )
    mon.tick()  # the worker's tick (every FLARE_TICK) sees them: confirm runs from here
    mon.tick(minutes=3)  # past FLARE_SIGNAL_CONFIRM on the worker's clock
    [message] = mon.triage()
    assert "*API*: monitoring says *Major outage*" in message.text
    board = mon.slack.board_text()
    assert "Monitoring" in board and "ApiErrors" in board and "DashboardDown" in board
    assert level(mon, "dashboard") == ComponentStatus.PARTIAL_OUTAGE  # `auto` follows
    assert level(mon, "api") == ComponentStatus.OPERATIONAL  # `suggest` asks a human

    push(
        alertmanager,
        am_alert("ApiErrors", resolved=True, component="api", severity="critical"),
        am_alert("DashboardDown", resolved=True, component="dashboard", severity="error"),
    )
    wait_for(
        "the resolved notifications",
        lambda: signal_state(mon) == {"ApiErrors": False, "DashboardDown": False},
    )
    mon.tick(minutes=6)  # past FLARE_SIGNAL_RECOVER
    [message] = mon.triage()
    assert "recovered at" in message.text and "nothing was published" in message.text
    assert level(mon, "dashboard") == ComponentStatus.OPERATIONAL  # and returns
