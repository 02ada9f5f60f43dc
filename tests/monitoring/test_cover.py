"""Under `auto`, only a human holding a public level silences monitoring: an internal-only
incident, or one listing the component at operational, does not (the page would say
operational while the monitors say major)."""

# ruff: noqa: F811

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Component, Incident, IncidentComponent
from bot.text.status import ComponentStatus
from tests.monitoring.harness import Monitored, fake, mon, slack  # noqa: F401
from tests.monitoring.support import alert, payload


def level(mon: Monitored) -> ComponentStatus:
    with mon.runtime.sessions.begin() as session:
        query = select(Component).where(Component.key == "dashboard")
        return session.scalars(query).one().status


def down(mon: Monitored) -> None:
    mon.send(payload(alert("DashDown", fingerprint="d1", service="dashboard", severity="page")))
    mon.tick(minutes=3)
    assert level(mon) == ComponentStatus.MAJOR_OUTAGE


def test_an_incident_listing_the_component_at_operational_does_not_cover(mon: Monitored):
    down(mon)
    mon.slack.command("declare sev2 Dashboard slow")
    mon.slack.command("update 1 dashboard=operational We are checking the dashboard")
    with mon.runtime.sessions.begin() as session:
        listed = session.scalars(select(IncidentComponent.status)).all()
    assert listed == [ComponentStatus.OPERATIONAL]
    mon.tick(seconds=5)
    assert level(mon) == ComponentStatus.MAJOR_OUTAGE


def test_an_internal_only_incident_does_not_cover(mon: Monitored):
    down(mon)
    mon.slack.command("declare sev2 Dashboard slow")
    mon.slack.command("internal 1")
    mon.slack.command("update 1 dashboard=degraded Internal notes on slowness")
    with mon.runtime.sessions.begin() as session:
        assert session.scalars(select(Incident.internal_only)).one() is True
    mon.tick(seconds=5)
    assert level(mon) == ComponentStatus.MAJOR_OUTAGE


def test_an_incident_holding_a_public_level_covers(mon: Monitored):
    down(mon)
    mon.slack.command("declare sev2 Dashboard slow")
    mon.slack.command("update 1 dashboard=degraded We are looking into slowness")
    assert level(mon) == ComponentStatus.DEGRADED_PERFORMANCE
