"""Stats on a seeded history, against numbers worked out by hand (in the comments)."""

from __future__ import annotations

import json
from datetime import timedelta

from bot import incidents as svc
from bot import records
from bot.runtime import Runtime
from bot.text.status import ComponentStatus, Severity
from tests.conftest import START, Clock
from tests.records.test_corrections import run
from tests.support.factories import responder

ANN = responder("U0ANN0001")


def _at(minutes: int):
    return START + timedelta(minutes=minutes)


def seed_history(runtime: Runtime) -> None:
    """Cadence: sev1 15 min, sev2 20 min, sev3 30 min. Times are minutes after 14:00."""
    settings = runtime.settings
    with runtime.sessions.begin() as session:
        # Outside a 30-day window: not counted.
        old, _ = svc.declare(
            session, settings, title="Old", actor=ANN, now=START - timedelta(days=40)
        )
        svc.publish_update(
            session, settings, old, message="Slow pages.", actor=ANN, now=old.declared_at
        )
        # A (sev2): declared 0, first update 5 (API partial; promise 25), update 20 (kept;
        # promise 40), resolved 50 (promise 40 missed by 10). API partial 5→50 = 45 min.
        a, _ = svc.declare(
            session, settings, title="A", actor=ANN, now=_at(0), severity=Severity.SEV2
        )
        svc.publish_update(
            session,
            settings,
            a,
            message="Errors on the API.",
            actor=ANN,
            now=_at(5),
            components={"api": ComponentStatus.PARTIAL_OUTAGE},
        )
        svc.publish_update(session, settings, a, message="Still on it.", actor=ANN, now=_at(20))
        svc.resolve(session, settings, a, actor=ANN, now=_at(50))
        # B (sev2): declared 60, first update 75 (Dashboard major; promise 95), the sweep
        # finds it broken at 100, update 105 (missed by 10; Dashboard degraded; promise 125),
        # resolved 120 (kept). Dashboard major 75→105 = 30, degraded 105→120 = 15.
        b, _ = svc.declare(
            session, settings, title="B", actor=ANN, now=_at(60), severity=Severity.SEV2
        )
        svc.publish_update(
            session,
            settings,
            b,
            message="Dashboard down.",
            actor=ANN,
            now=_at(75),
            components={"dashboard": ComponentStatus.MAJOR_OUTAGE},
        )
        svc.expire_promises(session, _at(100))
        svc.publish_update(
            session,
            settings,
            b,
            message="Dashboard slow.",
            actor=ANN,
            now=_at(105),
            components={"dashboard": ComponentStatus.DEGRADED_PERFORMANCE},
        )
        svc.resolve(session, settings, b, actor=ANN, now=_at(120))
        # C (sev3, open at 240): declared 180, first update 190 (API degraded; promise 220,
        # missed by 20 at 240). API degraded 190→240 = 50 min.
        c, _ = svc.declare(
            session, settings, title="C", actor=ANN, now=_at(180), severity=Severity.SEV3
        )
        svc.publish_update(
            session,
            settings,
            c,
            message="Slow API.",
            actor=ANN,
            now=_at(190),
            components={"api": ComponentStatus.DEGRADED_PERFORMANCE},
        )
        # D (sev1): declared 200, never public.
        svc.declare(session, settings, title="D", actor=ANN, now=_at(200), severity=Severity.SEV1)


def test_stats_match_hand_computed_numbers(runtime: Runtime, clock: Clock) -> None:
    seed_history(runtime)
    with runtime.sessions.begin() as session:
        stats = records.compute_stats(session, _at(240), timedelta(days=30)).as_json()
    assert stats["incidents"] == 4
    assert stats["by_severity"] == {"sev1": 1, "sev2": 2, "sev3": 1}
    # First public update: 5, 15, 10 → median 10; p90 = 3rd of 3 = 15.
    assert stats["time_to_first_public_update_minutes"] == {"count": 3, "median": 10.0, "p90": 15.0}
    # Resolve: 50, 60 → median 55; p90 = 2nd of 2 = 60.
    assert stats["time_to_resolve_minutes"] == {"count": 2, "median": 55.0, "p90": 60.0}
    sev2 = stats["by_severity_times"]["sev2"]
    assert sev2["time_to_first_public_update_minutes"] == {"count": 2, "median": 10.0, "p90": 15.0}
    # Promises: A kept + missed 10, B missed 10 + kept, C missed 20 → 2 of 5, 40 min overdue.
    assert stats["promises"] == {
        "made": 5,
        "kept": 2,
        "missed": 3,
        "open": 0,
        "minutes_overdue": 40.0,
    }
    assert stats["components"] == {
        "API": {"incidents": 2, "minutes": {"partial_outage": 45.0, "degraded_performance": 50.0}},
        "Dashboard": {
            "incidents": 1,
            "minutes": {"major_outage": 30.0, "degraded_performance": 15.0},
        },
    }


def test_stats_command_and_short_period(runtime: Runtime, clock: Clock) -> None:
    seed_history(runtime)
    clock.value = _at(240)
    text = run(runtime, "stats 30d")
    assert "4 incident(s) — sev1 1, sev2 2, sev3 1" in text
    assert "Time to first public update: median 10 min, p90 15 min (3)" in text
    assert "2 kept of 5 made (3 missed, 40 min overdue in all)" in text
    # The last 45 minutes (from 195) hold only D (declared at 200).
    with runtime.sessions.begin() as session:
        short = records.compute_stats(session, _at(240), timedelta(minutes=45))
    assert short.incidents == 1 and short.by_severity == {"sev1": 1}
    assert json.loads(json.dumps(short.as_json()))["promises"]["made"] == 0
    clock.value = _at(240) + timedelta(days=2)
    assert run(runtime, "stats 1d") == "No incidents in the last day."
