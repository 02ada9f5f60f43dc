"""A component's public level is the worst of what holds it now, on every public surface.

Sources: each open public incident's level, active maintenance windows, a level set by hand.
The property test drives random sequences of declares, updates, resolves, hand-set levels,
internal-only marks and maintenance windows, and checks after every step that the page, the
components API and summary.json all show what an independent model says.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import incidents as svc
from bot.db.models import Base, Component, ComponentStatusChange, OutboxMessage
from bot.incidents import maintenance
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.text.status import COMPONENT_RANK, ComponentStatus
from tests.conftest import Clock
from tests.support.factories import responder
from web.public.loading import load
from web.public.snapshot import Snapshot

OPERATIONAL = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE
MAINTENANCE = ComponentStatus.UNDER_MAINTENANCE
KEYS = ("api", "dashboard", "webhooks")
ALICE = responder("U0ALICE01")


def _worst(levels: list[ComponentStatus]) -> ComponentStatus:
    return max(levels, key=COMPONENT_RANK.__getitem__, default=OPERATIONAL)


def _level(session: Session, key: str) -> ComponentStatus:
    return session.scalars(select(Component.status).where(Component.key == key)).one()


def _declare_public(
    session: Session, runtime: Runtime, now: datetime, levels: dict[str, ComponentStatus]
) -> int:
    incident, _ = svc.declare(
        session, runtime.settings, title=f"Incident at {now}", actor=ALICE, now=now
    )
    svc.publish_update(
        session,
        runtime.settings,
        incident,
        message="We are investigating.",
        actor=ALICE,
        now=now,
        components=levels,
    )
    return incident.number


def _window(session: Session, runtime: Runtime, now: datetime, keys: list[str], minutes: int):
    return maintenance.schedule_maintenance(
        session,
        runtime.settings,
        title="Planned work",
        starts_at=now + timedelta(minutes=1),
        duration=timedelta(minutes=minutes),
        keys=keys,
        actor=ALICE,
        now=now,
    )


# --- the defects, one by one --------------------------------------------------------------


def test_levels_a_second_incident_never_lowers_what_the_first_holds(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        _declare_public(session, runtime, clock(), {"api": MAJOR})
        _declare_public(session, runtime, clock.advance(minutes=1), {"api": DEGRADED})
        assert _level(session, "api") == MAJOR
        svc.resolve(
            session, runtime.settings, svc.get_incident(session, 1), actor=ALICE, now=clock()
        )
        assert _level(session, "api") == DEGRADED  # the second incident still holds it
        svc.resolve(
            session, runtime.settings, svc.get_incident(session, 2), actor=ALICE, now=clock()
        )
        assert _level(session, "api") == OPERATIONAL


def test_levels_resolving_an_incident_keeps_a_hand_set_outage(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        svc.set_manual_level(session, key="api", level=MAJOR, actor=ALICE, now=clock())
        _declare_public(session, runtime, clock.advance(minutes=1), {"api": PARTIAL})
        svc.resolve(
            session, runtime.settings, svc.get_incident(session, 1), actor=ALICE, now=clock()
        )
        assert _level(session, "api") == MAJOR
        result = svc.set_manual_level(
            session, key="api", level=OPERATIONAL, actor=ALICE, now=clock()
        )
        assert _level(session, "api") == OPERATIONAL and result.held_by == []


def test_levels_resolving_an_incident_keeps_maintenance_in_progress(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        _window(session, runtime, clock(), ["api"], minutes=60)
        maintenance.advance(session, clock.advance(minutes=2))
        assert _level(session, "api") == MAINTENANCE
        _declare_public(session, runtime, clock(), {"api": DEGRADED})
        assert _level(session, "api") == DEGRADED  # an incident is worse news than maintenance
        svc.resolve(
            session, runtime.settings, svc.get_incident(session, 1), actor=ALICE, now=clock()
        )
        assert _level(session, "api") == MAINTENANCE


def test_levels_one_window_ending_keeps_an_overlapping_one(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        _window(session, runtime, clock(), ["api"], minutes=10)
        _window(session, runtime, clock(), ["api", "dashboard"], minutes=30)
        maintenance.advance(session, clock.advance(minutes=2))
        maintenance.advance(session, clock.advance(minutes=10))  # the first one ended
        assert _level(session, "api") == MAINTENANCE
        maintenance.advance(session, clock.advance(minutes=30))
        assert _level(session, "api") == OPERATIONAL


def test_levels_an_incident_made_internal_lets_go_of_its_components(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        _declare_public(session, runtime, clock(), {"webhooks": MAJOR})
        svc.mark_internal(session, svc.get_incident(session, 1), actor=ALICE, now=clock())
        assert _level(session, "webhooks") == OPERATIONAL


def test_levels_every_change_is_recorded_and_told(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        svc.set_manual_level(session, key="api", level=PARTIAL, actor=ALICE, now=clock())
        _declare_public(session, runtime, clock.advance(minutes=1), {"api": MAJOR})
        held = svc.set_manual_level(
            session, key="api", level=DEGRADED, actor=ALICE, now=clock.advance(minutes=1)
        )
        assert held.changes == [] and [h.label for h in held.held_by] == ["INC-1"]
    with runtime.sessions.begin() as session:
        rows = session.scalars(
            select(ComponentStatusChange).order_by(ComponentStatusChange.id)
        ).all()
        assert [(r.previous, r.status, r.actor, r.cause) for r in rows] == [
            (OPERATIONAL, PARTIAL, "U0ALICE01", "set by hand to Partial outage"),
            (PARTIAL, MAJOR, "U0ALICE01", "INC-1 update"),
            (MAJOR, MAJOR, "U0ALICE01", "set by hand to Degraded performance"),
        ]
        told = session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.kind == kinds.SLACK_COMPONENT)
        ).all()
        # By hand: a post in #incidents each time; the incident's change is in its thread.
        assert [p["change_id"] for p in told] == [rows[0].id, rows[2].id]


# --- the property -------------------------------------------------------------------------


@dataclass
class Model:
    """What the page must show, computed without Flare's code."""

    incidents: dict[int, dict[str, ComponentStatus]] = field(default_factory=dict)
    manual: dict[str, ComponentStatus] = field(default_factory=dict)
    windows: list[tuple[datetime, datetime, tuple[str, ...]]] = field(default_factory=list)
    active: set[int] = field(default_factory=set)

    def expected(self, key: str) -> ComponentStatus:
        held = [levels[key] for levels in self.incidents.values() if key in levels]
        held += [MAINTENANCE for n in self.active if key in self.windows[n][2]]
        held += [self.manual[key]] if key in self.manual else []
        return _worst([h for h in held if h != OPERATIONAL])


level = st.sampled_from([OPERATIONAL, DEGRADED, PARTIAL, MAJOR])
steps = st.lists(
    st.one_of(
        st.tuples(st.just("declare"), st.dictionaries(st.sampled_from(KEYS), level, max_size=2)),
        st.tuples(st.just("update"), st.integers(0, 5), st.sampled_from(KEYS), level),
        st.tuples(st.just("resolve"), st.integers(0, 5)),
        st.tuples(st.just("internal"), st.integers(0, 5)),
        st.tuples(st.just("manual"), st.sampled_from(KEYS), level),
        st.tuples(
            st.just("window"), st.lists(st.sampled_from(KEYS), min_size=1, max_size=2, unique=True)
        ),
        st.tuples(st.just("time"), st.integers(1, 20)),
    ),
    min_size=1,
    max_size=14,
)


def _reset(runtime: Runtime, clock: Clock) -> None:
    with runtime.sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
        svc.sync_components(session, runtime.settings, clock())


def _apply(runtime: Runtime, clock: Clock, model: Model, step: tuple) -> None:
    now = clock.advance(seconds=30)
    open_numbers = sorted(model.incidents)
    with runtime.sessions.begin() as session:
        match step:
            case ("declare", levels):
                number = _declare_public(session, runtime, now, dict(levels))
                model.incidents[number] = dict(levels)
            case ("update", pick, key, value) if open_numbers:
                number = open_numbers[pick % len(open_numbers)]
                svc.publish_update(
                    session,
                    runtime.settings,
                    svc.get_incident(session, number),
                    message="Update.",
                    actor=ALICE,
                    now=now,
                    components={key: value},
                )
                model.incidents[number][key] = value
            case ("resolve", pick) if open_numbers:
                number = open_numbers[pick % len(open_numbers)]
                svc.resolve(
                    session, runtime.settings, svc.get_incident(session, number), actor=ALICE,
                    now=now,
                )  # fmt: skip
                del model.incidents[number]
            case ("internal", pick) if open_numbers:
                number = open_numbers[pick % len(open_numbers)]
                svc.mark_internal(session, svc.get_incident(session, number), actor=ALICE, now=now)
                del model.incidents[number]
            case ("manual", key, value):
                current = model.manual.get(key, OPERATIONAL)
                if value != current:
                    svc.set_manual_level(session, key=key, level=value, actor=ALICE, now=now)
                    model.manual.pop(key, None)
                    if value != OPERATIONAL:
                        model.manual[key] = value
            case ("window", keys):
                window = _window(session, runtime, now, list(keys), minutes=5)
                model.windows.append((window.starts_at, window.ends_at, tuple(keys)))
            case ("time", minutes):
                now = clock.advance(minutes=minutes)
                maintenance.advance(session, now)
                model.active = {
                    n for n, (start, end, _) in enumerate(model.windows) if start <= now < end
                }


def _surfaces(runtime: Runtime, clock: Clock) -> dict[str, dict[str, str]]:
    """Each public surface's status per component key."""
    with runtime.sessions.begin() as session:
        ids = dict(session.execute(select(Component.id, Component.key)).all())
        snapshot = Snapshot(load(session, runtime.settings, clock()))
    api = json.loads(snapshot.static["/api/v2/components.json"].identity.body["body"])
    summary = json.loads(snapshot.static["/api/v2/summary.json"].identity.body["body"])
    html = snapshot.static["/"].identity.body["body"].decode()
    page = {
        ids[cid]: state
        for cid, state in re.findall(
            r'id="c-([a-z2-7]+)">\s*<div class="comp"><span class="name">[^<]*</span> '
            r'<span class="state lv-([a-z_]+)"',
            html,
        )
    }
    return {
        "components.json": {ids[c["id"]]: c["status"] for c in api["components"] if c["id"] in ids},
        "summary.json": {
            ids[c["id"]]: c["status"] for c in summary["components"] if c["id"] in ids
        },
        "page": page,
    }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(sequence=steps)
def test_levels_every_surface_shows_the_worst_holding_level_at_every_step(
    runtime: Runtime,
    clock: Clock,
    sequence: list[tuple],
):
    _reset(runtime, clock)
    model = Model()
    for step in sequence:
        _apply(runtime, clock, model, step)
        expected = {key: model.expected(key).value for key in KEYS}
        for surface, shown in _surfaces(runtime, clock).items():
            assert shown == expected, (surface, step)


def test_levels_two_transactions_changing_holders_at_once_agree_with_the_rule(
    runtime: Runtime, clock: Clock
):
    """One transaction resolves an incident while another sets the level by hand: whichever
    commits second recomputes with the first's holders (the component row is locked)."""
    import threading

    def resolve(start: threading.Barrier, errors: list[BaseException]) -> None:
        try:
            start.wait()
            with runtime.sessions.begin() as session:
                incident = svc.get_incident(session, 1, for_update=True)
                svc.resolve(session, runtime.settings, incident, actor=ALICE, now=clock())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def by_hand(start: threading.Barrier, errors: list[BaseException]) -> None:
        try:
            start.wait()
            with runtime.sessions.begin() as session:
                svc.set_manual_level(session, key="api", level=MAJOR, actor=ALICE, now=clock())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    for round_ in range(8):
        _reset(runtime, clock)
        with runtime.sessions.begin() as session:
            _declare_public(session, runtime, clock(), {"api": PARTIAL})
        start = threading.Barrier(2)
        errors: list[BaseException] = []
        threads = [threading.Thread(target=run, args=(start, errors)) for run in (resolve, by_hand)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == [], round_
        with runtime.sessions.begin() as session:
            assert _level(session, "api") == MAJOR, round_  # the hand-set level still holds
