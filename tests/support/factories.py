"""Deterministic factories for tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import incidents as svc
from bot.config import Settings
from bot.db.models import Incident, Severity


def make_incident(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    title: str = "Checkout errors",
    actor: str = "U0COMMAND",
    severity: Severity = Severity.SEV2,
    public: bool = False,
    **overrides: Any,
) -> Incident:
    incident, _ = svc.declare(
        session, settings, title=title, actor=actor, now=now, severity=severity
    )
    for name, value in overrides.items():
        setattr(incident, name, value)
    if public:
        svc.publish_update(
            session,
            settings,
            incident,
            message="We are investigating elevated errors.",
            actor=actor,
            now=now,
        )
    session.flush()
    return incident
