"""Each maintenance notice says what its own update said: the announcement or the start
delivered after a reschedule or an extension still reads as it did then, and the #incidents
post keeps the window's times of then. An extension during the window names no component
change (the components stay under maintenance)."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import OutboxMessage
from bot.incidents import maintenance
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.subscribers.fanout import load_notice
from tests.conftest import Clock
from tests.records.test_corrections import run
from tests.support.publicdata import client
from tests.support.slackutil import Slack, fake, slack  # noqa: F401


def _notices(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions.begin() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == kinds.FANOUT)
            .order_by(OutboxMessage.id)
        ).all()
        out = []
        for row in rows:
            notice = load_notice(session, runtime.settings, row.payload)
            assert notice is not None
            out.append((notice.status, notice.body))
        return out


def test_the_announcement_delivered_after_a_reschedule_is_the_announcement(
    runtime: Runtime, clock: Clock
):
    run(runtime, "maintenance 2026-11-26T02:00Z 2h api DB upgrade")
    clock.advance(minutes=1)
    run(runtime, "maintenance reschedule MNT-1 2026-11-27T02:00Z 2h")
    notices = _notices(runtime)
    assert notices[0] == ("scheduled", "DB upgrade is scheduled.")
    assert "rescheduled to 2026-11-27 02:00 UTC" in notices[1][1]


def test_the_start_delivered_after_an_extension_is_the_start(runtime: Runtime, clock: Clock):
    run(runtime, "maintenance 2026-11-26T02:00Z 2h api DB upgrade")
    clock.advance(hours=12, minutes=30)  # 02:30, inside the window
    with runtime.sessions.begin() as session:
        assert maintenance.advance(session, clock())
    clock.advance(minutes=5)
    run(runtime, "maintenance extend MNT-1 1h")
    [announced, started, extended] = _notices(runtime)
    assert announced == ("scheduled", "DB upgrade is scheduled.")
    assert started[0] == "in_progress" and "extended" not in started[1]
    assert "extended until" in extended[1]
    _, http = client(runtime)
    with http:
        [window] = http.get("/api/v2/scheduled-maintenances/active.json").json()[
            "scheduled_maintenances"
        ]
    latest, start = window["incident_updates"][0], window["incident_updates"][1]
    assert "extended" in latest["body"] and latest["affected_components"] in ([], None)
    assert [c["new_status"] for c in start["affected_components"]] == ["under_maintenance"]


def test_the_incidents_post_keeps_the_times_it_was_queued_with(slack: Slack):
    slack.command("maintenance 2026-12-01T02:00Z 2h api DB upgrade")
    slack.command("maintenance reschedule MNT-1 2026-12-02T02:00Z 2h")
    slack.flush()
    posts = [m.text for m in slack.channel() if "Maintenance" in m.text]
    scheduled = next(p for p in posts if "Maintenance scheduled" in p)
    rescheduled = next(p for p in posts if "Maintenance rescheduled" in p)
    assert scheduled != rescheduled.replace("rescheduled", "scheduled")
