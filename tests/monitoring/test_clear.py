"""`signals clear <id>`: a responder ends a signal its monitor will never resolve, in Slack
or with `flare signals clear`; anybody else is refused and nothing changes."""

# ruff: noqa: F811

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.db.models import Component, Signal
from bot.text.status import ComponentStatus
from tests.monitoring.harness import Monitored, fake, mon, slack  # noqa: F401
from tests.monitoring.support import alert, payload
from tests.support.slackutil import ALICE, BOB


def stuck(mon: Monitored) -> int:
    mon.send(payload(alert("Stuck", fingerprint="s1", service="dashboard", severity="page")))
    mon.tick(minutes=3)
    assert level(mon) == ComponentStatus.MAJOR_OUTAGE
    with mon.runtime.sessions.begin() as session:
        return session.scalars(select(Signal.id)).one()


def level(mon: Monitored) -> ComponentStatus:
    with mon.runtime.sessions.begin() as session:
        query = select(Component.status).where(Component.key == "dashboard")
        return session.scalars(query).one()


def firing(mon: Monitored) -> list[bool]:
    with mon.runtime.sessions.begin() as session:
        return list(session.scalars(select(Signal.firing)))


def test_a_responder_clears_a_stuck_signal_and_the_component_recovers(mon: Monitored):
    signal_id = stuck(mon)
    listing = mon.slack.command("signals")
    assert f"#{signal_id} dashboard: Stuck" in listing["text"]
    answer = mon.slack.command(f"signals clear #{signal_id}", user=ALICE)
    assert f"Cleared signal #{signal_id} (Stuck)" in answer["text"]
    assert firing(mon) == [False]
    mon.tick(minutes=10)
    assert level(mon) == ComponentStatus.OPERATIONAL


def test_only_responders_may_clear(mon: Monitored):
    signal_id = stuck(mon)
    mon.slack.reconfigure(responders=(ALICE,))
    answer = mon.slack.command(f"signals clear {signal_id}", user=BOB)
    assert "Only responders can do that" in answer["text"]
    assert firing(mon) == [True]


def test_clearing_what_is_not_there_says_so(mon: Monitored):
    signal_id = stuck(mon)
    assert "No signal #99" in mon.slack.command("signals clear 99")["text"]
    assert "Usage: /incident signals [clear <id>]" in mon.slack.command("signals clear")["text"]
    mon.slack.command(f"signals clear {signal_id}")
    assert "is not firing" in mon.slack.command(f"signals clear {signal_id}")["text"]


def test_flare_signals_clear(
    mon: Monitored, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    signal_id = stuck(mon)
    config = tmp_path / "flare.toml"
    config.write_text('[page]\ncomponents = [{ key = "dashboard", name = "Dashboard" }]\n')
    monkeypatch.setenv("DATABASE_URL", mon.runtime.settings.database_url)
    monkeypatch.setenv("FLARE_CONFIG", str(config))
    assert main(["signals", "clear", str(signal_id)]) == 0
    assert f"Cleared signal #{signal_id}" in capsys.readouterr().out
    assert firing(mon) == [False]
    assert main(["signals", "clear", str(signal_id)]) == 1
    assert "is not firing" in capsys.readouterr().err
