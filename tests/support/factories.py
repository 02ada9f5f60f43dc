"""Deterministic factories for tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot import incidents as svc
from bot.config import Settings
from bot.db.models import Incident
from bot.incidents import CLI, Actor
from bot.slack import board
from bot.text.status import Severity


def make_incident(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    title: str = "Checkout errors",
    actor: str | Actor = "U0COMMAND",
    severity: Severity = Severity.SEV2,
    public: bool = False,
    **overrides: Any,
) -> Incident:
    who = actor if isinstance(actor, Actor) else CLI if actor == "cli" else responder(actor)
    incident, _ = svc.declare(session, settings, title=title, actor=who, now=now, severity=severity)
    for name, value in overrides.items():
        setattr(incident, name, value)
    if public:
        svc.publish_update(
            session,
            settings,
            incident,
            message="We are investigating elevated errors.",
            actor=who,
            now=now,
        )
    session.flush()
    return incident


def responder(user: str) -> Actor:
    """A Slack user who may publish, resolve and assign (FLARE_RESPONDERS lists them)."""
    return Actor(user, responder=True)


def member(user: str) -> Actor:
    """A Slack user who is not a responder: may declare, note, list and show."""
    return Actor(user, responder=False, who_may="<@U0RESP001>")


def board_row(
    n: int, *, start: datetime, overdue: bool = False, channel: str = "C0INCIDENTS"
) -> board.BoardIncident:
    """INC-n as the board shows it, with every text at its longest (the Block Kit limit tests)."""
    return board.BoardIncident(
        number=n,
        title="T" * 200,
        severity="sev2",
        status="investigating",
        commander="U0A",
        owner=None,
        internal_only=False,
        latest_wording="x" * 5000,
        last_public_update_at=start,
        next_due=start + timedelta(minutes=20),
        first_due=None,
        overdue=overdue,
        record="1/2 updates on time",
        channel=channel,
        thread_ts="1.000100",
    )
