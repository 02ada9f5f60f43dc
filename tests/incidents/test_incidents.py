"""The incident domain, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import incidents as svc
from bot.db.models import (
    Component,
    ComponentStatusChange,
    Incident,
    OutboxMessage,
    Promise,
    TimelineEvent,
)
from bot.db.state import current_version
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.incidents import CLI
from bot.runtime import Runtime
from bot.text.hygiene import HygieneBlocked
from bot.text.status import ComponentStatus, EventKind, IncidentStatus, Severity
from tests.conftest import START, Clock, with_settings
from tests.support.factories import make_incident, responder

PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE


def _snapshot(session: Session) -> dict[str, object]:
    """Everything a refused operation must leave as it was."""
    return {
        "incidents": [
            (
                i.number,
                i.status,
                i.severity,
                i.commander_id,
                i.owner_id,
                i.public_title,
                i.internal_only,
                i.next_update_due,
                i.reminder_due,
            )
            for i in session.scalars(select(Incident).order_by(Incident.number))
        ],
        "events": session.scalar(select(func.count()).select_from(TimelineEvent)),
        "outbox": session.scalar(select(func.count()).select_from(OutboxMessage)),
        "components": [(c.key, c.status) for c in session.scalars(select(Component))],
        "promises": session.scalar(select(func.count()).select_from(Promise)),
        "version": current_version(session),
    }


def _component(session: Session, key: str) -> Component:
    return session.scalars(select(Component).where(Component.key == key)).one()


def test_incidents_declare_numbers_sequentially_with_public_id(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        first = make_incident(session, runtime.settings, clock(), title="One")
        second = make_incident(session, runtime.settings, clock(), title="Two")
    assert (first.ref, second.ref) == ("INC-1", "INC-2")
    assert len(first.public_id) == 12 and first.public_id.isalnum()
    assert first.public_id.islower() and first.public_id != second.public_id
    assert first.commander_id == "U0COMMAND" and first.owner_id is None
    assert first.severity == Severity.SEV2 and first.status == IncidentStatus.INVESTIGATING


def test_incidents_declare_twice_within_a_minute_returns_the_first(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        first, created = svc.declare(
            session, runtime.settings, title="DB down", actor=responder("U1"), now=clock()
        )
    clock.advance(seconds=30)
    with runtime.sessions.begin() as session:
        again, created_again = svc.declare(
            session, runtime.settings, title="DB down", actor=responder("U1"), now=clock()
        )
    clock.advance(seconds=31)
    with runtime.sessions.begin() as session:
        later, created_later = svc.declare(
            session, runtime.settings, title="DB down", actor=responder("U1"), now=clock()
        )
    assert created and not created_again and created_later
    assert again.id == first.id and later.number == 2


def test_incidents_before_first_update_promise_is_declared_plus_cadence(
    runtime: Runtime, clock: Clock
):
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock(), severity=Severity.SEV1)
    assert incident.reminder_due == clock() + timedelta(minutes=15)
    assert incident.next_update_due is None and not incident.is_public


def test_incidents_update_sets_promise_components_and_timeline(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock())
        event = svc.publish_update(
            session,
            runtime.settings,
            incident,
            message="Checkout is failing for some users.",
            actor=responder("U1"),
            now=clock(),
            status=IncidentStatus.IDENTIFIED,
            components={"api": PARTIAL},
        )
    with runtime.sessions.begin() as session:
        incident = svc.get_incident(session, 1)
        assert incident.is_public and incident.status == IncidentStatus.IDENTIFIED
        assert incident.next_update_due == clock() + timedelta(minutes=20)  # sev2
        assert incident.identified_at == clock()
        assert _component(session, "api").status == PARTIAL
        assert event.data["affected_components"][0]["old_status"] == "operational"
        assert event.data["affected_components"][0]["new_status"] == "partial_outage"
        kinds = [e.kind for e in svc.timeline(session, incident)]
        assert kinds == [EventKind.DECLARED, EventKind.PUBLIC_UPDATE]
        promises = session.scalars(select(Promise)).all()
        assert [(p.due_at, p.kept) for p in promises] == [(clock() + timedelta(minutes=20), None)]


def test_incidents_owner_may_promise_sooner_but_not_later(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock())
        svc.publish_update(
            session,
            runtime.settings,
            incident,
            message="Looking into it.",
            actor=responder("U1"),
            now=clock(),
            next_in=timedelta(minutes=10),
        )
        assert incident.next_update_due == clock() + timedelta(minutes=10)
    with runtime.sessions.begin() as session:
        before = _snapshot(session)
        incident = svc.get_incident(session, 1)
        with pytest.raises(InvalidInput, match="at most 20 minutes"):
            svc.publish_update(
                session,
                runtime.settings,
                incident,
                message="Later.",
                actor=responder("U1"),
                now=clock(),
                next_in=timedelta(minutes=45),
            )
        session.rollback()
    with runtime.sessions.begin() as session:
        assert _snapshot(session) == before


def test_incidents_promise_kept_or_broken_is_recorded(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock(), public=True)
    clock.advance(minutes=19)
    with runtime.sessions.begin() as session:
        incident = svc.get_incident(session, 1)
        svc.publish_update(
            session,
            runtime.settings,
            incident,
            message="Still working.",
            actor=responder("U1"),
            now=clock(),
        )
    clock.advance(minutes=25)  # past the 20-minute promise
    with runtime.sessions.begin() as session:
        assert svc.expire_promises(session, clock()) == 1
    clock.advance(minutes=1)
    with runtime.sessions.begin() as session:
        incident = svc.get_incident(session, 1)
        svc.publish_update(
            session,
            runtime.settings,
            incident,
            message="Late but here.",
            actor=responder("U1"),
            now=clock(),
        )
        record = svc.promise_record(session, incident)
    assert (record.kept, record.total) == (1, 2)
    assert str(record) == "1/2 updates on time"


def test_incidents_published_promise_never_moves_later(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        incident = make_incident(
            session, runtime.settings, clock(), severity=Severity.SEV1, public=True
        )
        promised = incident.next_update_due
        svc.set_severity(
            session,
            runtime.settings,
            incident,
            severity=Severity.SEV4,
            actor=responder("U1"),
            now=clock(),
        )
        assert incident.next_update_due == promised  # sev4's 30m would be later
        svc.snooze(
            session, runtime.settings, incident, minutes=10, actor=responder("U1"), now=clock()
        )
        assert incident.next_update_due == promised
        assert incident.snoozed_until == clock() + timedelta(minutes=10)


def test_incidents_severity_change_keeps_the_published_promise_and_sets_the_next(
    runtime: Runtime, clock: Clock
):
    with runtime.sessions.begin() as session:
        incident = make_incident(
            session, runtime.settings, clock(), severity=Severity.SEV3, public=True
        )
        promised = clock() + timedelta(minutes=30)
        assert incident.next_update_due == promised
        clock.advance(minutes=5)
        svc.set_severity(
            session,
            runtime.settings,
            incident,
            severity=Severity.SEV1,
            actor=responder("U1"),
            now=clock(),
        )
        assert incident.next_update_due == promised and incident.reminder_due == promised
        svc.publish_update(
            session, runtime.settings, incident, message="Still on it.", actor=responder("U1"),
            now=clock(),
        )  # fmt: skip
        assert incident.next_update_due == clock() + timedelta(minutes=15)  # sev1's cadence


def test_incidents_raising_severity_while_overdue_never_moves_the_promise_later(
    runtime: Runtime, clock: Clock
):
    """Customers read "next update by 14:30"; at 14:40 it is broken, whatever happens next."""
    with runtime.sessions.begin() as session:
        incident = make_incident(
            session, runtime.settings, clock(), severity=Severity.SEV3, public=True
        )
        promised = incident.next_update_due
        clock.advance(minutes=40)  # overdue since 14:30
        svc.set_severity(
            session,
            runtime.settings,
            incident,
            severity=Severity.SEV1,
            actor=responder("U1"),
            now=clock(),
        )
        assert incident.next_update_due == promised
        clock.advance(minutes=1)
        svc.publish_update(
            session, runtime.settings, incident, message="Update.", actor=responder("U1"),
            now=clock(),
        )  # fmt: skip
        assert str(svc.promise_record(session, incident)) == "0/1 updates on time"


def test_incidents_severity_before_the_first_update_moves_the_internal_target(
    runtime: Runtime, clock: Clock
):
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock(), severity=Severity.SEV3)
        svc.set_severity(
            session,
            runtime.settings,
            incident,
            severity=Severity.SEV1,
            actor=responder("U1"),
            now=clock() + timedelta(minutes=2),
        )
        assert incident.next_update_due is None
        assert incident.reminder_due == clock() + timedelta(minutes=15)


def test_incidents_snooze_is_bounded_by_one_cadence(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        make_incident(session, runtime.settings, clock(), severity=Severity.SEV1)
    with runtime.sessions.begin() as session:
        before = _snapshot(session)
        with pytest.raises(InvalidInput, match="at most 15 minutes"):
            svc.snooze(
                session,
                runtime.settings,
                svc.get_incident(session, 1),
                minutes=16,
                actor=responder("U1"),
                now=clock(),
            )
        session.rollback()
    with runtime.sessions.begin() as session:
        assert _snapshot(session) == before


def test_incidents_resolve_restores_components_unless_another_incident_holds_them(
    runtime: Runtime, clock: Clock
):
    with runtime.sessions.begin() as session:
        first = make_incident(session, runtime.settings, clock(), title="API errors")
        second = make_incident(session, runtime.settings, clock(), title="Dashboard slow")
        svc.publish_update(
            session,
            runtime.settings,
            first,
            message="API partially down.",
            actor=responder("U1"),
            now=clock(),
            components={"api": MAJOR, "webhooks": PARTIAL},
        )
        svc.publish_update(
            session,
            runtime.settings,
            second,
            message="Dashboard slow.",
            actor=responder("U1"),
            now=clock(),
            components={"api": PARTIAL, "dashboard": PARTIAL},
        )
    clock.advance(minutes=3)
    with runtime.sessions.begin() as session:
        event = svc.resolve(
            session,
            runtime.settings,
            svc.get_incident(session, 1),
            actor=responder("U1"),
            now=clock(),
        )
        assert _component(session, "api").status == PARTIAL  # second still gives partial
        assert _component(session, "webhooks").status == ComponentStatus.OPERATIONAL
        assert _component(session, "dashboard").status == PARTIAL
        assert event.body == svc.DEFAULT_RESOLVED and event.status == IncidentStatus.RESOLVED
        incident = svc.get_incident(session, 1)
        assert incident.resolved_at == clock() and incident.next_update_due is None
    with runtime.sessions.begin() as session:
        svc.resolve(
            session,
            runtime.settings,
            svc.get_incident(session, 2),
            actor=responder("U1"),
            now=clock(),
            message="All clear now.",
        )
        assert {c.key: c.status for c in session.scalars(select(Component))} == {
            "api": ComponentStatus.OPERATIONAL,
            "dashboard": ComponentStatus.OPERATIONAL,
            "webhooks": ComponentStatus.OPERATIONAL,
        }
        history = session.scalars(select(ComponentStatusChange.status)).all()
        assert MAJOR in history and history[-1] == ComponentStatus.OPERATIONAL


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        ("unknown_incident", NotFound),
        ("unknown_component", InvalidInput),
        ("update_after_resolve", InvalidInput),
        ("empty_update", InvalidInput),
        ("oversized_update", InvalidInput),
        ("oversized_title", InvalidInput),
        ("oversized_note", InvalidInput),
        ("empty_note", InvalidInput),
        ("hygiene", HygieneBlocked),
        ("same_severity", InvalidInput),
        ("cli_as_owner", InvalidInput),
        ("unknown_status_component", NotFound),
    ],
)
def test_incidents_bad_input_changes_nothing(
    runtime: Runtime, clock: Clock, operation: str, error: type[Exception]
):
    with runtime.sessions.begin() as session:
        make_incident(session, runtime.settings, clock(), public=True)
        resolved = make_incident(session, runtime.settings, clock(), title="Old")
        svc.resolve(session, runtime.settings, resolved, actor=responder("U1"), now=clock())
    settings = runtime.settings
    with runtime.sessions.begin() as session:
        before = _snapshot(session)
    clock.advance(minutes=1)
    now = clock()
    with runtime.sessions() as session:
        open_incident = svc.get_incident(session, 1)
        actions = {
            "unknown_incident": lambda: svc.get_incident(session, 99),
            "unknown_component": lambda: svc.publish_update(
                session,
                settings,
                open_incident,
                message="x y",
                actor=responder("U1"),
                now=now,
                components={"billing": MAJOR},
            ),
            "update_after_resolve": lambda: svc.publish_update(
                session,
                settings,
                svc.get_incident(session, 2),
                message="Back again",
                actor=responder("U1"),
                now=now,
            ),
            "empty_update": lambda: svc.publish_update(
                session, settings, open_incident, message="   ", actor=responder("U1"), now=now
            ),
            "oversized_update": lambda: svc.publish_update(
                session, settings, open_incident, message="a" * 5001, actor=responder("U1"), now=now
            ),
            "oversized_title": lambda: svc.declare(
                session, settings, title="t" * 201, actor=responder("U1"), now=now
            ),
            "oversized_note": lambda: svc.add_note(
                session, open_incident, text="n" * 10_001, actor=responder("U1"), now=now
            ),
            "empty_note": lambda: svc.add_note(
                session, open_incident, text="", actor=responder("U1"), now=now
            ),
            "hygiene": lambda: svc.publish_update(
                session,
                settings,
                open_incident,
                message="db-prod-3 at 10.0.4.17 crashed",
                actor=responder("U1"),
                now=now,
            ),
            "same_severity": lambda: svc.set_severity(
                session,
                settings,
                open_incident,
                severity=Severity.SEV2,
                actor=responder("U1"),
                now=now,
            ),
            "cli_as_owner": lambda: svc.assign_role(
                session, open_incident, role="owner", user="cli", actor=CLI, now=now
            ),
            "unknown_status_component": lambda: svc.set_manual_level(
                session, key="billing", level=MAJOR, actor=responder("U1"), now=now
            ),
        }
        with pytest.raises(error) as raised:
            actions[operation]()
        assert str(raised.value)
        session.rollback()
    with runtime.sessions.begin() as session:
        assert _snapshot(session) == before


def test_incidents_note_is_internal_and_in_timeline(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock())
        note = svc.add_note(
            session, incident, text="Rolled back deploy 4411", actor=responder("U2"), now=clock()
        )
        assert note.kind == EventKind.NOTE and not note.is_public
        assert not incident.is_public  # a note never publishes


def test_incidents_every_event_queues_one_thread_post(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock(), public=True)
        svc.add_note(session, incident, text="Paging DB team", actor=responder("U2"), now=clock())
        svc.assign_role(
            session, incident, role="owner", user="U3", actor=responder("U1"), now=clock()
        )
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    thread_posts = [r for r in rows if r.kind == "slack.event"]
    assert len(thread_posts) == 4  # declared, update, note, role
    assert {r.ordering_key for r in thread_posts} == {f"incident:{incident.id}"}
    dms = [r for r in rows if r.kind == "slack.dm"]
    assert [d.payload["user"] for d in dms] == ["U3"]


def test_incidents_internal_only_stops_public_page_and_reminders(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock(), public=True)
        svc.mark_internal(session, incident, actor=responder("U1"), now=clock())
        assert not incident.is_public and incident.reminder_due is None
        with pytest.raises(InvalidInput, match="internal-only"):
            svc.publish_update(
                session,
                runtime.settings,
                incident,
                message="Hello",
                actor=responder("U1"),
                now=clock(),
            )


def test_incidents_public_title_is_checked_and_stored(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock())
        with pytest.raises(HygieneBlocked):
            svc.set_public_title(
                session,
                runtime.settings,
                incident,
                title="payments-db.internal down",
                actor=responder("U1"),
                now=clock(),
            )
        svc.set_public_title(
            session,
            runtime.settings,
            incident,
            title="Checkout delays",
            actor=responder("U1"),
            now=clock(),
        )
        assert incident.public_title == "Checkout delays" and incident.title == "Checkout errors"


def test_incidents_responders_gate_public_changes(runtime: Runtime):
    gated = with_settings(runtime, responders=("U0RESP", "S0GROUP"))
    svc.actor_for(gated.settings, "U0RESP").require_responder()
    svc.actor_for(gated.settings, "U0MEMBER", group_members=["U0MEMBER"]).require_responder()
    svc.CLI.require_responder()
    with pytest.raises(NotAllowed, match="<@U0RESP>"):
        svc.actor_for(gated.settings, "U0OTHER", group_members=[]).require_responder()
    with pytest.raises(NotAllowed, match="could not reach Slack"):
        svc.actor_for(
            gated.settings, "U0OTHER", why_not="I could not reach Slack."
        ).require_responder()
    svc.actor_for(runtime.settings, "U0ANYONE").require_responder()  # empty list: everyone


def test_incidents_component_outside_incident(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        result = svc.set_manual_level(
            session,
            key="webhooks",
            level=ComponentStatus.DEGRADED_PERFORMANCE,
            actor=responder("U1"),
            now=clock(),
        )
    [change] = result.changes
    assert (change.old, change.new) == ("operational", "degraded_performance")
    with runtime.sessions.begin() as session:
        assert _component(session, "webhooks").status == ComponentStatus.DEGRADED_PERFORMANCE
        assert _component(session, "webhooks").manual_status == ComponentStatus.DEGRADED_PERFORMANCE


def test_incidents_times_are_utc_aware_after_a_round_trip(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        make_incident(session, runtime.settings, clock(), public=True)
    with runtime.sessions.begin() as session:
        incident = svc.get_incident(session, 1)
        assert incident.declared_at.utcoffset() == timedelta(0)
        assert incident.declared_at == clock()


def test_incidents_two_updates_in_the_same_instant_keep_one_promise(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock(), public=True)
        svc.publish_update(
            session,
            runtime.settings,
            incident,
            message="Second update, same second.",
            actor=responder("U1"),
            now=clock(),
        )
        promises = session.scalars(select(Promise)).all()
    assert [(p.due_at, p.kept) for p in promises] == [(clock() + timedelta(minutes=20), None)]


def test_incidents_status_vocabulary_matches_statuspage():
    from bot.text.status import impact, indicator, neutral_title

    assert indicator([ComponentStatus.OPERATIONAL], []) == ("none", "All Systems Operational")
    assert indicator([ComponentStatus.PARTIAL_OUTAGE], ["minor"]) == (
        "major",
        "Partial System Outage",
    )
    assert indicator([MAJOR], []) == ("critical", "Major System Outage")
    assert indicator([], [], maintenance_active=True)[1] == "Service Under Maintenance"
    assert impact(None) == "minor" and impact(PARTIAL) == "major"
    assert neutral_title(["API"], PARTIAL) == "Partial outage: API"
    assert neutral_title(["API", "Dashboard"], ComponentStatus.DEGRADED_PERFORMANCE) == (
        "Degraded performance: API, Dashboard"
    )
    assert neutral_title([], None) == "Service disruption"


def test_incidents_after_resolution_the_public_record_is_history(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock(), public=True)
        svc.resolve(session, runtime.settings, incident, actor=responder("U1"), now=clock())
    with runtime.sessions.begin() as session:
        before = _snapshot(session)
        incident = svc.get_incident(session, 1)
        with pytest.raises(InvalidInput, match="/incident correct INC-1"):
            svc.set_public_title(
                session, runtime.settings, incident, title="New name", actor=responder("U1"),
                now=clock(),
            )  # fmt: skip
        with pytest.raises(InvalidInput, match="visible correction"):
            svc.mark_internal(session, incident, actor=responder("U1"), now=clock())
        session.rollback()
    with runtime.sessions.begin() as session:
        assert _snapshot(session) == before
        assert svc.get_incident(session, 1).is_public


def test_incidents_maintenance_text_gets_the_public_hygiene_check(runtime: Runtime, clock: Clock):
    from bot.incidents import maintenance

    def schedule(title: str, message: str | None = None, *, force: bool = False) -> None:
        with runtime.sessions.begin() as session:
            maintenance.schedule_maintenance(
                session,
                runtime.settings,
                title=title,
                starts_at=clock() + timedelta(hours=1),
                duration=timedelta(hours=1),
                keys=["api"],
                actor=responder("U1"),
                now=clock(),
                message=message,
                force=force,
            )

    with pytest.raises(HygieneBlocked) as blocked:
        schedule("Upgrade of db-prod-3")
    assert [f.text for f in blocked.value.findings] == ["db-prod-3"]
    with pytest.raises(HygieneBlocked):
        schedule("Database upgrade", "We think the vendor broke replication.")
    schedule("Database upgrade", "Writes may be delayed for a few minutes.")
    schedule("Upgrade of db-prod-3", force=True)  # published anyway, as the author chose


def test_incidents_a_kept_promise_stays_kept_when_the_next_update_promises_the_same_time(
    runtime: Runtime, clock: Clock
):
    """14:00 promises 14:30; an on-time update at 14:10 promises 14:30 again (next in 20 m);
    14:30 passes with nothing: one promise kept, one broken (it once read "0/1")."""
    with runtime.sessions.begin() as session:
        incident = make_incident(
            session, runtime.settings, clock(), severity=Severity.SEV3, public=True
        )
        assert incident.next_update_due == START + timedelta(minutes=30)
        svc.publish_update(
            session,
            runtime.settings,
            incident,
            message="Still investigating.",
            actor=responder("U1"),
            now=clock.advance(minutes=10),
            next_in=timedelta(minutes=20),
        )
        assert incident.next_update_due == START + timedelta(minutes=30)
        svc.expire_promises(session, clock.advance(minutes=21))
        assert str(svc.promise_record(session, incident)) == "1/2 updates on time"
