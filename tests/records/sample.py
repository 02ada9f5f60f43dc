"""One incident told from start to finish, for the postmortem tests and the example in
docs/records.md (kept current by tests/records/test_docs.py)."""

from __future__ import annotations

from datetime import timedelta

from bot import context, records
from bot import incidents as svc
from bot.runtime import Runtime
from bot.text.status import ComponentStatus, IncidentStatus, Severity
from tests.conftest import START
from tests.support.factories import responder

ANN = responder("U0ANN0001")
BEN = responder("U0BEN0002")


def at(minutes: int):
    return START + timedelta(minutes=minutes)


def seed_incident(runtime: Runtime) -> int:
    """INC-1, sev2 (20-minute cadence), 14:00 → 15:10; returns its number."""
    settings = runtime.settings
    with runtime.sessions.begin() as session:
        report = context.check_report(
            service="checkout", version="4411", actor="ci", url="https://ci.example.com/4411"
        )
        context.record_change(session, report, now=at(-8), source="hook")
        incident, _ = svc.declare(
            session,
            settings,
            title="Checkout 502s after deploy 4411",
            actor=ANN,
            now=at(0),
            severity=Severity.SEV2,
        )
        svc.assign_role(session, incident, role="owner", user=BEN.id, actor=ANN, now=at(2))
        svc.publish_update(
            session,
            settings,
            incident,
            actor=BEN,
            now=at(6),
            message="We are investigating failed checkouts on the API.",
            components={"api": ComponentStatus.PARTIAL_OUTAGE},
        )
        svc.add_note(
            session,
            incident,
            text="Rolling back deploy 4411 on checkout-prod-3",
            actor=ANN,
            now=at(10),
        )
        svc.publish_update(
            session,
            settings,
            incident,
            actor=BEN,
            now=at(24),
            status=IncidentStatus.IDENTIFIED,
            message="We have identified the cause and are rolling back a change.",
            components={"api": ComponentStatus.DEGRADED_PERFORMANCE},
        )
        svc.publish_update(
            session,
            settings,
            incident,
            actor=BEN,
            now=at(50),
            status=IncidentStatus.MONITORING,
            message="A fix has been implemented and we are monitoring the results.",
        )
        svc.resolve(
            session,
            settings,
            incident,
            actor=BEN,
            now=at(70),
            message="Checkouts are working normally again.",
        )
        records.correct_title(
            session, settings, incident, text="Failed checkouts", actor=BEN, now=at(75)
        )
        return incident.number


def postmortem(runtime: Runtime, number: int, *, link: bool = True) -> records.Postmortem:
    """Built at 15:30; `link=False` leaves out the public page's (random) address."""
    url = runtime.settings.public_url if link else None
    with runtime.sessions.begin() as session:
        incident = svc.get_incident(session, number)
        return records.build(session, incident, at(90), public_url=url)
