"""The worker wakes for the next due nag instead of waiting for the next tick: a sweep says
when that is (when it comes before the next tick), and the worker schedules one sweep there.
Injected clock; nothing sleeps."""

from __future__ import annotations

from datetime import timedelta

from bot.incidents import sweeps
from bot.runtime import Runtime
from bot.worker import JOB_NAMES, Waker, drain_while_busy
from tests.conftest import Clock, with_settings
from tests.support.factories import make_incident


def swept(runtime: Runtime) -> sweeps.Swept:
    with runtime.sessions.begin() as session:
        return sweeps.sweep(session, runtime.settings, runtime.now())


def test_wake_names_the_reminder_instant_only_within_the_next_tick(
    runtime: Runtime, clock: Clock
) -> None:
    runtime = with_settings(runtime, tick=timedelta(seconds=5))
    start = clock()
    with runtime.sessions.begin() as session:
        make_incident(session, runtime.settings, start)  # sev2: due 14:20, reminder at 14:15
    assert swept(runtime).wake is None  # 15 minutes away: the ticks will get there first
    clock.advance(minutes=14, seconds=57)
    first = swept(runtime)
    assert first.queued == 0 and first.wake == start + timedelta(minutes=15)
    clock.advance(seconds=3)  # the wake-up sweep, on the second
    at_due = swept(runtime)
    assert at_due.queued == 1
    assert at_due.wake is None  # the promise itself (14:20) is five minutes off
    clock.advance(minutes=4, seconds=58)
    assert swept(runtime).wake == start + timedelta(minutes=20)  # the first escalation
    clock.advance(seconds=2)
    escalated = swept(runtime)
    assert escalated.queued == 1 and escalated.wake is None
    clock.advance(minutes=9, seconds=56)
    assert swept(runtime).wake == start + timedelta(minutes=30)  # the next slot


class FakeScheduler:
    def __init__(self) -> None:
        self.added: list[dict[str, object]] = []
        self.kicked: list[str] = []

    def get_job(self, job_id: str) -> object:
        return object() if job_id == "slack-drain" else None

    def modify_job(self, job_id: str, **changes: object) -> None:
        self.kicked.append(job_id)

    def add_job(self, func: object, trigger: str, **options: object) -> None:
        self.added.append({"trigger": trigger, **options})


def test_wake_the_worker_schedules_one_sweep_at_the_due_instant_and_kicks_the_drain(
    runtime: Runtime, clock: Clock
) -> None:
    with runtime.sessions.begin() as session:
        make_incident(session, runtime.settings, clock())
    scheduler = FakeScheduler()
    waker = Waker(runtime, scheduler)
    clock.advance(minutes=14, seconds=58)
    waker()
    assert [(a["trigger"], a["id"], a["name"]) for a in scheduler.added] == [
        ("date", "wake", JOB_NAMES["wake"])
    ]
    assert scheduler.added[0]["replace_existing"] is True
    assert scheduler.kicked == []
    clock.advance(seconds=2)
    waker()
    assert scheduler.kicked == ["slack-drain"]  # queued a reminder: send it now


def test_wake_drain_goes_again_while_rows_complete() -> None:
    passes = iter([20, 20, 7, 0, 5])
    assert drain_while_busy(lambda: next(passes)) == 47
    assert drain_while_busy(lambda: 0) == 0
