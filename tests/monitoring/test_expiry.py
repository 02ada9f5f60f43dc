"""Signals nothing else would end are ended by the tick, removed components drop their hold,
and FLARE_SIGNAL_CONFIRM is measured on the worker's clock whatever the web's says. Both
databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import cast

from sqlalchemy import select

from bot import monitoring
from bot.config import CheckConfig
from bot.db.models import Component, Episode, Signal
from bot.incidents import sync_components
from bot.monitoring.signals import ALERT_SILENCE
from bot.runtime import Runtime
from bot.text.status import ComponentStatus
from tests.conftest import Clock, with_settings
from tests.monitoring.checksupport import Target, target  # noqa: F401
from tests.monitoring.support import AUTH, COMPONENTS, alert, monitored, payload
from tests.support.mailbox import TestClient
from web.app import create_app

PATH = "/hooks/alertmanager"


def level(rt: Runtime, key: str = "dashboard") -> ComponentStatus:
    with rt.sessions.begin() as session:
        return session.scalars(select(Component).where(Component.key == key)).one().status


def tick(rt: Runtime, **advance: float) -> None:
    if advance:
        cast(Clock, rt.clock).advance(**advance)
    with rt.sessions.begin() as session:
        monitoring.sweep(session, rt.settings, rt.now())


def firing(rt: Runtime) -> dict[str, str | None]:
    with rt.sessions.begin() as session:
        return {s.key: s.component_key for s in session.scalars(select(Signal)) if s.firing}


def send(rt: Runtime, body: dict[str, object]) -> None:
    response = TestClient(create_app(rt, mode="web")).post(PATH, json=body, headers=AUTH)
    assert response.status_code == 200, response.text


def test_a_removed_check_ends_its_signal_and_releases_the_component(
    runtime: Runtime,
    target: Target,  # noqa: F811
) -> None:
    check = CheckConfig(
        name="Dash",
        url=target.url,
        component="dashboard",
        interval=timedelta(seconds=10),
        timeout=timedelta(seconds=5),
        failure_threshold=1,
    )
    rt = with_settings(monitored(runtime), checks=(check,), signal_confirm=timedelta(0))
    target.status = 500
    monitoring.run_checks(rt.sessions, rt.settings, rt.now)
    assert level(rt) == ComponentStatus.MAJOR_OUTAGE
    removed = with_settings(rt, checks=())
    tick(removed, seconds=5)
    assert firing(rt) == {}
    tick(removed, minutes=10)  # FLARE_SIGNAL_RECOVER later
    assert level(rt) == ComponentStatus.OPERATIONAL


def test_a_check_moved_to_another_component_is_a_new_signal_there(
    runtime: Runtime,
    target: Target,  # noqa: F811
) -> None:
    check = CheckConfig(
        name="Dash",
        url=target.url,
        component="dashboard",
        interval=timedelta(seconds=10),
        timeout=timedelta(seconds=5),
        failure_threshold=1,
    )
    rt = with_settings(monitored(runtime), checks=(check,))
    target.status = 500
    monitoring.run_checks(rt.sessions, rt.settings, rt.now)
    tick(rt, minutes=30)
    moved = with_settings(rt, checks=(replace(check, component="api"),))
    tick(moved, seconds=5)
    assert firing(rt) == {"check:Dash": "api"}
    with rt.sessions.begin() as session:
        signal = session.scalars(select(Signal)).one()
        assert signal.since == rt.now()  # a new signal for `api`: confirm starts again


def test_a_firing_alert_ends_when_its_ends_at_passes(runtime: Runtime) -> None:
    rt = with_settings(monitored(runtime), signal_confirm=timedelta(0))
    body = payload(alert("Lag", fingerprint="l1", component="dashboard"))
    body["alerts"][0]["endsAt"] = (rt.now() + timedelta(minutes=5)).isoformat()
    send(rt, body)
    tick(rt)
    assert level(rt) != ComponentStatus.OPERATIONAL
    tick(rt, minutes=4)
    assert firing(rt) != {}
    tick(rt, minutes=2)
    assert firing(rt) == {}
    tick(rt, minutes=10)
    assert level(rt) == ComponentStatus.OPERATIONAL


def test_a_firing_alert_nobody_repeats_expires_after_the_silence(runtime: Runtime) -> None:
    rt = with_settings(monitored(runtime), signal_confirm=timedelta(0))
    body = payload(alert("Lost", fingerprint="x1", component="dashboard", severity="page"))
    send(rt, body)
    tick(rt)
    assert level(rt) == ComponentStatus.MAJOR_OUTAGE
    # Alertmanager repeats it every 4 h: it keeps firing past the silence.
    for _ in range(4):
        tick(rt, hours=4)
        send(rt, body)
    assert firing(rt) != {}
    # The resolve is lost: nothing repeats it any more.
    tick(rt, hours=11)
    assert firing(rt) != {}
    tick(rt, seconds=ALERT_SILENCE.total_seconds() - 11 * 3600 + 1)
    assert firing(rt) == {}
    tick(rt, minutes=10)
    assert level(rt) == ComponentStatus.OPERATIONAL


def test_a_removed_component_drops_its_hold_and_returns_operational(runtime: Runtime) -> None:
    rt = with_settings(monitored(runtime), signal_confirm=timedelta(0))
    send(rt, payload(alert("Down", fingerprint="d1", component="dashboard", severity="page")))
    tick(rt)
    assert level(rt) == ComponentStatus.MAJOR_OUTAGE
    removed = with_settings(rt, components=tuple(c for c in COMPONENTS if c.key != "dashboard"))
    with rt.sessions.begin() as session:
        sync_components(session, removed.settings, rt.now())
    with rt.sessions.begin() as session:
        assert [(e.ended_at, e.holding) for e in session.scalars(select(Episode))] == [
            (rt.now(), None)
        ]
    send(removed, payload(alert("Down", "resolved", fingerprint="d1", component="dashboard")))
    tick(removed, hours=1)
    cast(Clock, rt.clock).advance(days=30)
    with rt.sessions.begin() as session:
        sync_components(session, rt.settings, rt.now())
    assert level(rt) == ComponentStatus.OPERATIONAL


def test_a_web_clock_behind_cannot_skip_confirm(runtime: Runtime) -> None:
    rt = monitored(runtime)
    assert rt.settings.signal_confirm > timedelta(0)
    web = replace(rt, clock=Clock(rt.now() - timedelta(minutes=5)))  # the web host is slow
    send(web, payload(alert("Blip", fingerprint="b1", component="dashboard", severity="page")))
    tick(rt)  # the worker's first tick right after
    assert level(rt) == ComponentStatus.OPERATIONAL
    tick(rt, seconds=rt.settings.signal_confirm.total_seconds() - 1)
    assert level(rt) == ComponentStatus.OPERATIONAL
    tick(rt, seconds=1)
    assert level(rt) == ComponentStatus.MAJOR_OUTAGE


def test_a_web_clock_ahead_cannot_stretch_confirm(runtime: Runtime) -> None:
    rt = monitored(runtime)
    web = replace(rt, clock=Clock(rt.now() + timedelta(minutes=30)))
    send(web, payload(alert("Blip", fingerprint="b1", component="dashboard", severity="page")))
    tick(rt)
    tick(rt, seconds=rt.settings.signal_confirm.total_seconds())
    assert level(rt) == ComponentStatus.MAJOR_OUTAGE
