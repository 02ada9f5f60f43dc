"""Built-in checks against a local server that fails and recovers: thresholds (no flapping
on one failure), one run per slot, the signal they raise, contains, pruning."""

# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot import monitoring
from bot.config import CheckConfig
from bot.db.models import CheckResult, Component, Signal
from bot.runtime import Runtime
from bot.text.status import ComponentStatus
from tests.conftest import with_settings
from tests.monitoring.checksupport import Target, target  # noqa: F401
from tests.monitoring.support import monitored


def setup(runtime: Runtime, target: Target, **check: object) -> Runtime:
    config = CheckConfig(
        name="Dashboard health",
        url=target.url,
        component="dashboard",  # automation = "auto" in the monitoring components
        interval=timedelta(seconds=10),
        timeout=timedelta(seconds=5),
        **check,  # type: ignore[arg-type]
    )
    return with_settings(monitored(runtime), checks=(config,), signal_confirm=timedelta(0))


def run(runtime: Runtime) -> int:
    return monitoring.run_checks(runtime.sessions, runtime.settings, runtime.now)


def step(runtime: Runtime, status: int, target: Target) -> None:
    target.status = status
    runtime.clock.advance(seconds=10)  # type: ignore[attr-defined]
    assert run(runtime) == 1


def firing(runtime: Runtime) -> bool | None:
    with runtime.sessions.begin() as session:
        signal = session.scalars(select(Signal)).first()
        return None if signal is None else signal.firing


def level(runtime: Runtime) -> ComponentStatus:
    with runtime.sessions.begin() as session:
        return session.scalars(select(Component).where(Component.key == "dashboard")).one().status


def test_one_failure_does_not_flap(runtime, target):
    rt = setup(runtime, target)
    for status in (200, 500, 200, 500, 500, 200):
        step(rt, status, target)
    assert firing(rt) is None
    assert level(rt) == ComponentStatus.OPERATIONAL


def test_failing_for_the_threshold_fires_and_successes_recover(runtime, target):
    rt = setup(runtime, target)
    for status in (500, 500):
        step(rt, status, target)
    assert firing(rt) is None
    step(rt, 503, target)
    assert firing(rt) is True
    assert level(rt) == ComponentStatus.MAJOR_OUTAGE  # `auto`, level major by default
    step(rt, 200, target)
    assert firing(rt) is True  # one success is not yet recovery
    step(rt, 200, target)
    assert firing(rt) is False
    rt.clock.advance(minutes=6)  # type: ignore[attr-defined]
    with rt.sessions.begin() as session:
        monitoring.sweep(session, rt.settings, rt.now())
    assert level(rt) == ComponentStatus.OPERATIONAL


def test_each_slot_runs_once(runtime, target):
    rt = setup(runtime, target)
    assert run(rt) == 1
    assert run(rt) == 0  # same slot: already claimed
    rt.clock.advance(seconds=3)  # type: ignore[attr-defined]
    assert run(rt) in (0, 1)  # maybe the next slot, never the same one twice
    with rt.sessions.begin() as session:
        slots = session.execute(
            select(CheckResult.slot, func.count()).group_by(CheckResult.slot)
        ).all()
    assert {count for _, count in slots} == {1}
    assert target.hits == len(slots)


def test_contains_and_expect_status(runtime, target):
    rt = setup(runtime, target, contains="all good", expect_status=((200, 200),),
               failure_threshold=1)  # fmt: skip
    target.body = b"maintenance page"
    step(rt, 200, target)
    with rt.sessions.begin() as session:
        result = session.scalars(select(CheckResult)).one()
        assert (result.ok, result.error) == (False, "body lacks 'all good'")
    assert firing(rt) is True


def test_unreachable_is_a_failure_with_the_error(runtime, target):
    rt = setup(runtime, target, failure_threshold=1)
    target.server.shutdown()
    target.server.server_close()
    step(rt, 200, target)
    with rt.sessions.begin() as session:
        result = session.scalars(select(CheckResult)).one()
        assert (
            result.ok is False
            and result.status_code is None
            and "ConnectError" in (result.error or "")
        )


def test_results_are_pruned_after_retention(runtime, target):
    rt = setup(runtime, target)
    for _ in range(3):
        step(rt, 200, target)
    with rt.sessions.begin() as session:
        before = rt.now() - timedelta(seconds=5)
        assert monitoring.prune_check_results(session, before=before, limit=500) == 2
        assert session.scalar(select(func.count()).select_from(CheckResult)) == 1


def test_ended_signals_are_pruned_after_retention(runtime, target):
    rt = setup(runtime, target, failure_threshold=1, success_threshold=1)
    step(rt, 500, target)
    step(rt, 200, target)
    with rt.sessions.begin() as session:
        assert monitoring.prune_signals(session, before=rt.now(), limit=500) == 0  # just ended
        later = rt.now() + timedelta(seconds=1)
        assert monitoring.prune_signals(session, before=later, limit=500) == 1
