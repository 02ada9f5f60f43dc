"""Maintenance changes: cancel, reschedule, extend — each a public update, a post in
#incidents and a notice to subscribers; a cancelled window never flips a component."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.db.models import Component, Maintenance, OutboxMessage
from bot.errors import FlareError, NotAllowed
from bot.incidents import maintenance
from bot.incidents.maintenance_changes import CANCELLED
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.subscribers.fanout import load_notice
from bot.text.status import ComponentStatus, MaintenanceStatus
from tests.conftest import Clock
from tests.records.test_corrections import run
from tests.support.factories import member
from tests.support.publicdata import client
from tests.support.slackutil import Slack, fake, slack  # noqa: F401


def _schedule(runtime: Runtime, clock: Clock, start: str = "2026-11-26T02:00Z") -> str:
    reply = run(runtime, f"maintenance {start} 2h api DB upgrade")
    assert "Scheduled maintenance MNT-1" in reply
    return "MNT-1"


def _levels(runtime: Runtime) -> dict[str, ComponentStatus]:
    with runtime.sessions.begin() as session:
        return {c.key: c.status for c in session.scalars(select(Component))}


def _notices(runtime: Runtime) -> list[str]:
    with runtime.sessions.begin() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == kinds.FANOUT)
            .order_by(OutboxMessage.id)
        ).all()
        return [n.body for r in rows if (n := load_notice(session, runtime.settings, r.payload))]


def test_maintenance_cancel_leaves_upcoming_and_never_flips(runtime: Runtime, clock: Clock):
    ref = _schedule(runtime, clock)
    reply = run(runtime, f"maintenance cancel {ref} Postponed until after the holidays.")
    assert "Cancelled maintenance MNT-1" in reply
    clock.advance(hours=13)  # well inside the original window
    with runtime.sessions.begin() as session:
        maintenance.advance(session, clock())
    assert _levels(runtime)["api"] == ComponentStatus.OPERATIONAL
    _, http = client(runtime)
    with http:
        upcoming = http.get("/api/v2/scheduled-maintenances/upcoming.json").json()
        everything = http.get("/api/v2/scheduled-maintenances.json").json()
        page = http.get("/").text
    assert upcoming["scheduled_maintenances"] == []
    [window] = everything["scheduled_maintenances"]
    assert window["status"] == "completed"
    latest = window["incident_updates"][0]
    assert latest["status"] == "completed" and latest["body"].startswith("Postponed")
    assert latest["affected_components"] in ([], None)
    assert "Postponed until after the holidays." in page
    assert "Postponed until after the holidays." in _notices(runtime)[-1]
    with pytest.raises(FlareError, match="was cancelled"):
        run(runtime, f"maintenance extend {ref} 1h")


def test_maintenance_cancel_in_progress_releases_components(runtime: Runtime, clock: Clock):
    ref = _schedule(runtime, clock, start="2026-11-25T14:30Z")
    clock.advance(minutes=31)
    with runtime.sessions.begin() as session:
        maintenance.advance(session, clock())
    assert _levels(runtime)["api"] == ComponentStatus.UNDER_MAINTENANCE
    run(runtime, "component api degraded")
    run(runtime, f"maintenance cancel {ref}")
    # The hand-set level still holds: the one level rule, not "back to operational".
    assert _levels(runtime)["api"] == ComponentStatus.DEGRADED_PERFORMANCE
    with runtime.sessions.begin() as session:
        window = session.scalars(select(Maintenance)).one()
        assert window.status == MaintenanceStatus.COMPLETED and window.cancelled_at
        assert window.updates[-1]["body"] == CANCELLED


def test_maintenance_reschedule_and_extend(runtime: Runtime, clock: Clock):
    ref = _schedule(runtime, clock)
    reply = run(runtime, f"maintenance reschedule {ref} 2026-11-27T03:00Z 90m")
    assert "Rescheduled maintenance MNT-1" in reply and "2026-11-27 03:00 UTC" in reply
    reply = run(runtime, "maintenance extend mnt-1 30m")
    assert "2026-11-27 05:00 UTC" in reply
    clock.advance(hours=13)  # inside the old window: nothing happens
    with runtime.sessions.begin() as session:
        maintenance.advance(session, clock())
    assert _levels(runtime)["api"] == ComponentStatus.OPERATIONAL
    bodies = _notices(runtime)
    assert any("rescheduled to 2026-11-27 03:00 UTC" in b for b in bodies)
    assert any("extended until 2026-11-27 05:00 UTC" in b for b in bodies)
    _, http = client(runtime)
    with http:
        [window] = http.get("/api/v2/scheduled-maintenances/upcoming.json").json()[
            "scheduled_maintenances"
        ]
    assert window["scheduled_for"].startswith("2026-11-27T03:00")
    assert window["scheduled_until"].startswith("2026-11-27T05:00")
    assert "extended" in window["incident_updates"][0]["body"]


def test_maintenance_changes_refused_change_nothing(runtime: Runtime, clock: Clock):
    ref = _schedule(runtime, clock)
    with runtime.sessions.begin() as session:
        before = json.dumps(session.scalars(select(Maintenance)).one().updates)
    with pytest.raises(NotAllowed):
        run(runtime, f"maintenance cancel {ref}", actor=member("U0NOBODY"))
    with pytest.raises(FlareError, match="no maintenance MNT-9"):
        run(runtime, "maintenance extend MNT-9 1h")
    with pytest.raises(FlareError, match="in the future"):
        run(runtime, f"maintenance reschedule {ref} 2026-11-25T13:00Z 1h")
    with pytest.raises(FlareError, match="seven days"):
        run(runtime, f"maintenance extend {ref} 8d")
    with pytest.raises(FlareError, match="may not belong on a public page"):
        run(runtime, f"maintenance cancel {ref} We think db-prod-3 at 10.1.2.3 broke")
    with runtime.sessions.begin() as session:
        assert json.dumps(session.scalars(select(Maintenance)).one().updates) == before


def test_maintenance_changes_through_slack(slack: Slack):
    answer = slack.command("maintenance 2026-12-01T02:00Z 2h api DB upgrade")
    assert "MNT-1" in answer["text"]
    slack.flush()
    assert "MNT-1" in slack.board_text()
    slack.reconfigure(responders=("U0RESP001",))
    refused = slack.command("maintenance cancel MNT-1", user="U0NOBODY1")
    assert "Only responders can do that" in refused["text"]
    slack.reconfigure(responders=())
    assert "Extended maintenance MNT-1" in slack.command("maintenance extend MNT-1 1h")["text"]
    assert "Cancelled" in slack.command("maintenance cancel MNT-1")["text"]
    slack.flush()
    posts = [m.text for m in slack.channel()]
    assert any("Maintenance extended: *MNT-1 DB upgrade*" in t for t in posts)
    assert any("Maintenance cancelled: *MNT-1 DB upgrade*" in t for t in posts)
    assert "MNT-1" not in slack.board_text()
