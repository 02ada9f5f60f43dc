"""Update cadence (docs/cadence.md: the promise and reminders): sweeps with an injected clock.

Every test runs on SQLite and PostgreSQL. Time moves with `clock.advance`; nothing sleeps.
The default cadence is sev2 = 20 minutes and the reminder lead 5 minutes; the clock starts
at 14:00 UTC.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot import incidents as svc
from bot import outbox
from bot.commands import PlainStyle, execute
from bot.db.models import Incident, Maintenance, OutboxMessage
from bot.db.state import current_version
from bot.errors import InvalidInput
from bot.incidents import CLI, maintenance, reminders, sweeps
from bot.runtime import Runtime
from bot.slack import board
from bot.text.grammar import parse
from bot.text.status import ComponentStatus, EventKind, IncidentStatus, MaintenanceStatus, Severity
from tests.conftest import START, Clock, with_settings
from tests.support.factories import make_incident, responder

OWNER = "U0OWNER01"
COMMANDER = "U0COMMAND"


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def sweep(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        sweeps.sweep(session, runtime.settings, runtime.now())


def nags(runtime: Runtime) -> list[tuple[str, dict[str, Any]]]:
    """Every reminder and escalation ever queued, oldest first."""
    with runtime.sessions.begin() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind.in_(reminders.KINDS))
            .order_by(OutboxMessage.id)
        ).all()
        return [(row.kind, dict(row.payload)) for row in rows]


def deliver(runtime: Runtime) -> list[tuple[str, dict[str, Any]]]:
    """What the sender does: drop stale nags, send (here: mark sent) the rest.

    Thread posts (`slack.event`) are marked sent too: escalations share the incident's
    ordering key, so they wait behind the thread's earlier posts as in production.
    """
    sent = []
    kinds = (*reminders.KINDS, "slack.event", "slack.dm")
    while True:
        with runtime.sessions.begin() as session:
            batch = outbox.claim(session, now=runtime.now(), kinds=kinds, limit=1000)
            for message in batch:
                if message.kind in reminders.KINDS and not reminders.reminder_is_stale(
                    session, message.payload, runtime.now()
                ):
                    sent.append((message.kind, dict(message.payload)))
                outbox.mark_sent(session, message.id, now=runtime.now(), worker=outbox.WORKER_ID)
        if not batch:
            return sent


def at(clock: Clock, value: timedelta) -> str:
    """An ISO time relative to the start of the test (14:00)."""
    return (START + value).isoformat()


def declare(runtime: Runtime, clock: Clock, **overrides: Any) -> int:
    with runtime.sessions.begin() as session:
        return make_incident(session, runtime.settings, clock(), **overrides).id


def publish(runtime: Runtime, clock: Clock, incident_id: int, **kwargs: Any) -> None:
    with runtime.sessions.begin() as session:
        incident = session.get_one(Incident, incident_id)
        svc.publish_update(
            session,
            runtime.settings,
            incident,
            message=kwargs.pop("message", "We are investigating elevated errors."),
            actor=responder(OWNER),
            now=clock(),
            **kwargs,
        )


# --- the reminder --------------------------------------------------------------------------


def test_reminders_first_public_update_is_nagged_within_one_cadence(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock)  # sev2, never published: due at 14:20
    clock.advance(minutes=14, seconds=59)
    sweep(runtime)
    assert nags(runtime) == []
    clock.advance(seconds=1)
    sweep(runtime)
    assert nags(runtime) == [
        (
            "slack.reminder",
            {
                "incident_id": incident_id,
                "due_at": at(clock, minutes(20)),
                "recipient": COMMANDER,
                "kind": "reminder",
            },
        )
    ]


def test_reminders_go_to_the_owner_when_there_is_one(runtime: Runtime, clock: Clock):
    declare(runtime, clock, owner_id=OWNER, public=True)
    clock.advance(minutes=15)
    sweep(runtime)
    [(kind, payload)] = nags(runtime)
    assert kind == "slack.reminder" and payload["recipient"] == OWNER


def test_reminders_with_nobody_assigned_only_escalate_in_the_thread(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, actor=CLI)  # the CLI never becomes commander
    clock.advance(minutes=15)
    sweep(runtime)
    assert nags(runtime) == []
    clock.advance(minutes=5)
    sweep(runtime)
    assert nags(runtime) == [
        (
            "slack.escalation",
            {
                "incident_id": incident_id,
                "due_at": at(clock, minutes(20)),
                "slot": at(clock, minutes(20)),
                "mentions": [],
            },
        )
    ]


def test_reminders_never_twice_for_the_same_due_time_across_sweeps_and_restarts(
    runtime: Runtime, clock: Clock
):
    declare(runtime, clock, owner_id=OWNER)
    clock.advance(minutes=15)
    for _ in range(3):
        sweep(runtime)
    restarted = Runtime.create(runtime.settings, clock=clock)
    try:
        for _ in range(3):
            sweep(restarted)
            clock.advance(seconds=5)
    finally:
        restarted.close()
    assert [kind for kind, _ in nags(runtime)] == ["slack.reminder"]
    assert len(deliver(runtime)) == 1
    sweep(runtime)
    assert deliver(runtime) == []


def test_reminders_concurrent_sweeps_queue_each_nag_once(runtime: Runtime, clock: Clock):
    for n in range(5):
        declare(runtime, clock, title=f"Incident {n}", owner_id=OWNER)
    clock.advance(minutes=15)
    other = Runtime.create(runtime.settings, clock=clock)
    try:
        with runtime.sessions.begin() as first:
            sweeps.sweep(first, runtime.settings, clock())
            # The second sweep starts while the first holds its transaction open; it waits
            # on the first's write (row lock on PostgreSQL, write lock on SQLite), then
            # finds every key taken.
            thread = threading.Thread(target=sweep, args=(other,))
            thread.start()
            thread.join(timeout=0.2)
            assert thread.is_alive()
        thread.join(timeout=30)
        assert not thread.is_alive()
    finally:
        other.close()
    assert len(nags(runtime)) == 5


def test_reminders_lead_is_half_the_interval_when_the_owner_promises_sooner(
    runtime: Runtime, clock: Clock
):
    incident_id = declare(runtime, clock, owner_id=OWNER)
    publish(runtime, clock, incident_id, next_in=minutes(6))  # due 14:06, lead 3 minutes
    clock.advance(minutes=2, seconds=59)
    sweep(runtime)
    assert nags(runtime) == []
    clock.advance(seconds=1)
    sweep(runtime)
    [(kind, payload)] = nags(runtime)
    assert kind == "slack.reminder" and payload["due_at"] == at(clock, minutes(6))


def test_reminders_follow_the_owners_shorter_interval(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER)
    publish(runtime, clock, incident_id, next_in=minutes(12))  # due 14:12, reminder 14:07
    clock.advance(minutes=7)
    sweep(runtime)
    [(_, payload)] = nags(runtime)
    assert payload["due_at"] == at(clock, minutes(12))


def test_reminders_cadence_comes_from_the_severity(runtime: Runtime, clock: Clock):
    runtime = with_settings(
        runtime,
        cadence={
            "sev1": minutes(10),
            "sev2": minutes(20),
            "sev3": minutes(60),
            "sev4": minutes(60),
        },
    )
    declare(runtime, clock, title="Slow", severity=Severity.SEV3)  # due 15:00
    declare(runtime, clock, title="Down", severity=Severity.SEV1)  # due 14:10, lead 5
    clock.advance(minutes=5)
    sweep(runtime)
    assert [p["due_at"] for _, p in nags(runtime)] == [at(clock, minutes(10))]
    clock.advance(minutes=50)
    sweep(runtime)
    reminders_due = [p["due_at"] for k, p in nags(runtime) if k == "slack.reminder"]
    assert reminders_due == [at(clock, minutes(10)), at(clock, minutes(60))]


# --- escalation -----------------------------------------------------------------------------


def test_reminders_escalate_at_the_promise_then_every_ten_minutes(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER, public=True)  # due 14:20
    clock.advance(minutes=15)
    sweep(runtime)
    clock.advance(minutes=5)
    sweep(runtime)
    clock.advance(minutes=9, seconds=59)
    sweep(runtime)
    clock.advance(seconds=1)
    sweep(runtime)
    clock.advance(minutes=10)
    sweep(runtime)
    escalations = [p for k, p in nags(runtime) if k == "slack.escalation"]
    assert [p["slot"] for p in escalations] == [
        at(clock, minutes(20)),
        at(clock, minutes(30)),
        at(clock, minutes(40)),
    ]
    assert all(p["mentions"] == [OWNER, COMMANDER] for p in escalations)
    assert all(p["incident_id"] == incident_id for p in escalations)


def test_reminders_mention_one_person_once_when_owner_is_commander(runtime: Runtime, clock: Clock):
    declare(runtime, clock, owner_id=COMMANDER)
    clock.advance(minutes=20)
    sweep(runtime)
    [(_, payload)] = nags(runtime)
    assert payload["mentions"] == [COMMANDER]


def test_reminders_after_an_outage_send_only_the_latest_escalation(runtime: Runtime, clock: Clock):
    declare(runtime, clock, owner_id=OWNER)  # reminder 14:15, due 14:20
    clock.advance(minutes=55)  # no sweep ran from 14:00 to 14:55
    sweep(runtime)
    assert [(k, p["slot"]) for k, p in nags(runtime)] == [
        ("slack.escalation", at(clock, minutes(50)))
    ]


def test_reminders_queued_escalations_are_dropped_once_the_next_slot_comes(
    runtime: Runtime, clock: Clock
):
    declare(runtime, clock, owner_id=OWNER)
    clock.advance(minutes=20)
    sweep(runtime)  # 14:20 slot queued, but Slack is down: nothing sent
    clock.advance(minutes=25)
    sweep(runtime)  # 14:40 slot queued
    sent = deliver(runtime)
    assert [p["slot"] for _, p in sent] == [at(clock, minutes(40))]


def test_reminders_late_reminder_is_dropped_once_the_promise_passed(runtime: Runtime, clock: Clock):
    declare(runtime, clock, owner_id=OWNER)
    clock.advance(minutes=15)
    sweep(runtime)  # reminder queued; Slack is down until after the promise
    clock.advance(minutes=6)
    sweep(runtime)
    assert [k for k, _ in deliver(runtime)] == ["slack.escalation"]


# --- nothing for resolved or internal-only incidents --------------------------------------


def test_reminders_none_for_resolved_or_internal_only_incidents(runtime: Runtime, clock: Clock):
    resolved = declare(runtime, clock, title="Gone", owner_id=OWNER, public=True)
    internal = declare(runtime, clock, title="Quiet", owner_id=OWNER)
    clock.advance(minutes=15)
    sweep(runtime)  # both reminders queued
    with runtime.sessions.begin() as session:
        svc.resolve(
            session,
            runtime.settings,
            session.get_one(Incident, resolved),
            actor=responder(OWNER),
            now=clock(),
        )
        svc.mark_internal(
            session, session.get_one(Incident, internal), actor=responder(OWNER), now=clock()
        )
    assert deliver(runtime) == []  # queued before the change: stale, dropped
    for _ in range(4):
        clock.advance(minutes=10)
        sweep(runtime)
    assert len(nags(runtime)) == 2
    assert deliver(runtime) == []


# --- snooze -----------------------------------------------------------------------------


def snooze(runtime: Runtime, clock: Clock, incident_id: int, n: int) -> None:
    with runtime.sessions.begin() as session:
        incident = session.get_one(Incident, incident_id)
        svc.snooze(
            session, runtime.settings, incident, minutes=n, actor=responder(OWNER), now=clock()
        )


def test_reminders_snooze_postpones_the_reminder(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER)  # reminder 14:15, due 14:20
    clock.advance(minutes=10)
    snooze(runtime, clock, incident_id, 7)  # until 14:17
    clock.advance(minutes=5)
    sweep(runtime)
    assert nags(runtime) == []
    clock.advance(minutes=2)
    sweep(runtime)
    assert [k for k, _ in deliver(runtime)] == ["slack.reminder"]


def test_reminders_snooze_past_the_promise_postpones_escalation(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER)
    clock.advance(minutes=15)
    sweep(runtime)
    assert [k for k, _ in deliver(runtime)] == ["slack.reminder"]
    snooze(runtime, clock, incident_id, 12)  # from the DM's button: until 14:27
    clock.advance(minutes=5)
    sweep(runtime)  # 14:20: promise passed, but snoozed
    clock.advance(minutes=6, seconds=59)
    sweep(runtime)
    assert deliver(runtime) == []
    clock.advance(seconds=1)
    sweep(runtime)  # 14:27: escalation, then every ten minutes from there
    clock.advance(minutes=10)
    sweep(runtime)
    slots = [p["slot"] for k, p in nags(runtime) if k == "slack.escalation"]
    assert slots == [at(clock, minutes(27)), at(clock, minutes(37))]


def test_reminders_snooze_drops_a_queued_nag(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER)
    clock.advance(minutes=20)
    sweep(runtime)  # escalation queued
    snooze(runtime, clock, incident_id, 5)
    assert deliver(runtime) == []


def test_reminders_snooze_is_bounded_by_one_cadence(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER)  # sev2: 20 minutes
    with pytest.raises(InvalidInput, match="at most 20 minutes"):
        snooze(runtime, clock, incident_id, 21)
    snooze(runtime, clock, incident_id, 20)
    with runtime.sessions.begin() as session:
        assert session.get_one(Incident, incident_id).snoozed_until == clock() + minutes(20)


# --- what moves the promise ---------------------------------------------------------------


def test_reminders_severity_change_keeps_the_published_promise(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER, severity=Severity.SEV3, public=True)
    clock.advance(minutes=5)  # promised 14:30: raising to sev1 does not move it
    with runtime.sessions.begin() as session:
        svc.set_severity(
            session,
            runtime.settings,
            session.get_one(Incident, incident_id),
            severity=Severity.SEV1,
            actor=responder(OWNER),
            now=clock(),
        )
    clock.advance(minutes=19, seconds=59)  # 14:24:59
    sweep(runtime)
    assert nags(runtime) == []
    clock.advance(seconds=1)  # 14:25, five minutes before the promise customers read
    sweep(runtime)
    [(_, payload)] = deliver(runtime)
    assert payload["due_at"] == at(clock, minutes(30))


def test_reminders_update_makes_a_queued_reminder_stale(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER, public=True)
    clock.advance(minutes=15)
    sweep(runtime)  # reminder for 14:20 queued
    publish(runtime, clock, incident_id, message="We have identified the cause.")
    assert deliver(runtime) == []
    clock.advance(minutes=15)  # the new promise is 14:35
    sweep(runtime)
    [(_, payload)] = deliver(runtime)
    assert payload["due_at"] == at(clock, minutes(35))


def test_reminders_nothing_new_publishes_the_standard_update(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER, public=True)
    clock.advance(minutes=15)
    sweep(runtime)
    with runtime.sessions.begin() as session:
        incident = session.get_one(Incident, incident_id)
        update = svc.nothing_new(
            session, runtime.settings, incident, actor=responder(OWNER), now=clock()
        )
        assert update.kind == EventKind.PUBLIC_UPDATE
        assert update.body == svc.NOTHING_NEW and update.status == IncidentStatus.INVESTIGATING
        assert incident.next_update_due == clock() + minutes(20)
        assert str(svc.promise_record(session, incident)) == "1/1 updates on time"
    assert deliver(runtime) == []


# --- promise tracking ---------------------------------------------------------------------


def test_reminders_promises_kept_are_counted_for_show_and_resolve(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER, public=True)  # promise 14:20
    for step in (10, 15, 25):  # 14:10 kept, 14:25 kept, 14:50 broken (due 14:45)
        clock.advance(minutes=step)
        sweep(runtime)
        publish(runtime, clock, incident_id, message="We are continuing to work on it.")
    clock.advance(minutes=10)  # 15:00, before the 15:10 promise: kept
    with runtime.sessions.begin() as session:
        shown = execute(
            session,
            runtime.settings,
            parse("show INC-1"),
            actor=responder(OWNER),
            now=clock(),
            style=PlainStyle(),
        )
        assert "Promises: 2/3 updates on time" in shown.text
        resolved = execute(
            session,
            runtime.settings,
            parse("resolve INC-1"),
            actor=responder(OWNER),
            now=clock(),
            style=PlainStyle(),
        )
    assert resolved.text.endswith("3/4 updates on time.")


def test_reminders_board_shows_promises_kept(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER, public=True)
    for step in (10, 15, 25, 10):  # kept, kept, broken, kept
        clock.advance(minutes=step)
        sweep(runtime)
        publish(runtime, clock, incident_id, message="We are continuing to work on it.")
    with runtime.sessions.begin() as session:
        _, blocks = board.render_board(board.gather(session, runtime.settings, clock()))
    assert "3/4 updates on time" in json.dumps(blocks)


def test_reminders_a_passed_promise_is_broken_by_the_sweep(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock, owner_id=OWNER, public=True)
    clock.advance(minutes=20)
    sweep(runtime)
    with runtime.sessions.begin() as session:
        version = current_version(session)
        record = svc.promise_record(session, session.get_one(Incident, incident_id))
    assert (record.kept, record.total) == (0, 0)  # due now: not broken yet
    clock.advance(seconds=1)
    sweep(runtime)
    with runtime.sessions.begin() as session:
        record = svc.promise_record(session, session.get_one(Incident, incident_id))
        assert (record.kept, record.total) == (0, 1)
        assert current_version(session) == version + 1  # the board re-renders


# --- scheduled maintenance ------------------------------------------------------------------


def test_reminders_sweeps_move_maintenance_through_its_window(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        window = maintenance.schedule_maintenance(
            session,
            runtime.settings,
            title="DB upgrade",
            starts_at=clock() + minutes(30),
            duration=timedelta(hours=1),
            keys=["api"],
            actor=responder(OWNER),
            now=clock(),
        )

    def state() -> tuple[MaintenanceStatus, ComponentStatus]:
        with runtime.sessions.begin() as session:
            found = session.get_one(Maintenance, window.id)
            return found.status, svc.components_by_key(session)["api"].status

    sweep(runtime)
    assert state() == (MaintenanceStatus.SCHEDULED, ComponentStatus.OPERATIONAL)
    clock.advance(minutes=30)
    sweep(runtime)
    assert state() == (MaintenanceStatus.IN_PROGRESS, ComponentStatus.UNDER_MAINTENANCE)
    clock.advance(minutes=60)
    sweep(runtime)
    sweep(runtime)
    assert state() == (MaintenanceStatus.COMPLETED, ComponentStatus.OPERATIONAL)
    with runtime.sessions.begin() as session:
        keys = session.scalars(
            select(OutboxMessage.key).where(OutboxMessage.kind == "slack.maintenance")
        ).all()
    assert sorted(keys) == sorted(
        f"maintenance:{window.id}:{s}" for s in ("scheduled", "in_progress", "completed")
    )


# --- many incidents at once -----------------------------------------------------------------


def test_reminders_sweep_queues_hundreds_due_together_in_a_few_statements(
    runtime: Runtime, clock: Clock
):
    with runtime.sessions.begin() as session:
        for n in range(600):
            incident = Incident(
                number=n + 1,
                title=f"Incident {n}",
                severity=Severity.SEV2,
                declared_by=COMMANDER,
                commander_id=COMMANDER,
                owner_id=f"U{n:08d}",
                declared_at=clock(),
                impact_started_at=clock(),
                reminder_due=clock() + minutes(20),
                updated_at=clock(),
            )
            session.add(incident)
    clock.advance(minutes=15)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        with runtime.sessions.begin() as session:
            assert reminders.enqueue_due(session, runtime.settings, clock()) == 600
        queued = len(statements)
        statements.clear()
        with runtime.sessions.begin() as session:
            assert reminders.enqueue_due(session, runtime.settings, clock()) == 0
        again = len(statements)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    # candidates + existing keys (2 chunks) + 3 multi-row inserts, plus BEGIN on SQLite
    assert queued <= 8 and again <= 4
    with runtime.sessions.begin() as session:
        recipients = session.scalars(
            select(func.count(func.distinct(OutboxMessage.incident_id))).where(
                OutboxMessage.kind == "slack.reminder"
            )
        ).one()
    assert recipients == 600


def test_reminders_is_stale_for_unknown_or_malformed_payloads(runtime: Runtime, clock: Clock):
    incident_id = declare(runtime, clock)
    stale = reminders.reminder_is_stale
    with runtime.sessions.begin() as session:
        assert stale(session, {"incident_id": 999, "due_at": "x"}, clock())
        assert stale(session, {"incident_id": incident_id, "due_at": "x"}, clock())
        assert stale(session, {"incident_id": incident_id}, clock())
        assert reminders.reminder_is_stale(
            session, {"due_at": "2026-11-25T14:20:00+00:00"}, clock()
        )
        due = session.get_one(Incident, incident_id).reminder_due
        assert due is not None
        assert not reminders.reminder_is_stale(
            session, {"incident_id": incident_id, "due_at": due.isoformat()}, clock()
        )
