"""Drift between the page and the monitors, nagged once: monitors green for 15 minutes while
the incident still investigates; a resolve while a signal still fires."""

# ruff: noqa: F811

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Component
from bot.monitoring import drift
from bot.text.status import ComponentStatus
from tests.monitoring.harness import Monitored, fake, mon, slack  # noqa: F401
from tests.monitoring.support import alert, payload
from tests.support.slackutil import ALICE


def test_green_for_15_minutes_nags_the_commander_once(mon: Monitored):
    mon.slack.command("declare sev2 API errors")  # ALICE commands
    mon.slack.command("update 1 api=partial We are looking into errors")
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.tick(minutes=3)
    mon.send(payload(alert("HighErrorRate", "resolved", fingerprint="f1", component="api")))
    mon.tick(minutes=14)
    assert not [m for m in mon.slack.dms(ALICE) if "Monitors green" in m.text]
    mon.tick(minutes=2)
    mon.tick(minutes=5)
    [nag] = [m for m in mon.slack.dms(ALICE) if "Monitors green" in m.text]
    assert "INC-1 says investigating: move to monitoring or resolve?" in nag.text
    actions = [
        e["action_id"] for b in nag.blocks or [] if b["type"] == "actions" for e in b["elements"]
    ]
    assert "post_update" in actions


def test_no_nag_once_the_incident_moved_on(mon: Monitored):
    mon.slack.command("declare sev2 API errors")
    mon.slack.command("update 1 monitoring api=partial A fix is in place")
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.send(payload(alert("HighErrorRate", "resolved", fingerprint="f1", component="api")))
    mon.tick(minutes=20)
    assert not [m for m in mon.slack.dms(ALICE) if "Monitors green" in m.text]


def test_resolving_while_a_signal_fires_warns_in_the_thread_once(mon: Monitored):
    mon.slack.command("declare sev2 API errors")
    mon.slack.command("update 1 api=partial We are looking into errors")
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.tick(minutes=1)
    mon.slack.command("resolve 1")
    mon.tick(seconds=5)
    mon.tick(seconds=5)
    [root] = mon.slack.roots()
    warnings = [m for m in mon.slack.thread_of(root) if "resolved while monitoring" in m.text]
    assert len(warnings) == 1
    assert "HighErrorRate" in warnings[0].text


def test_the_resolve_warning_escapes_alert_names(mon: Monitored):
    mon.slack.command("declare sev2 API errors")
    mon.slack.command("update 1 api=partial We are looking into errors")
    mon.send(payload(alert("Ping <!channel> <@U0CEO>", fingerprint="f1", component="api")))
    mon.tick(minutes=1)
    mon.slack.command("resolve 1")
    mon.tick(seconds=5)
    [root] = mon.slack.roots()
    [warning] = [m for m in mon.slack.thread_of(root) if "resolved while monitoring" in m.text]
    everything = warning.text + repr(warning.blocks)
    assert "<!channel>" not in everything and "<@U0CEO>" not in everything
    assert "&lt;!channel&gt;" in warning.text


def test_a_drift_bug_never_stalls_the_episodes(mon: Monitored, monkeypatch):
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("a drift bug")

    monkeypatch.setattr(drift, "nag_due", broken)
    mon.send(payload(alert("DashDown", fingerprint="d1", service="dashboard", severity="page")))
    mon.tick(minutes=3)
    with mon.runtime.sessions.begin() as session:
        query = select(Component.status).where(Component.key == "dashboard")
        assert session.scalars(query).one() == ComponentStatus.MAJOR_OUTAGE
