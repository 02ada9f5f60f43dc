"""Refusals before a change: a resolved incident is final, public text must be clean."""

from __future__ import annotations

from bot.config import Settings
from bot.db.models import Incident
from bot.errors import InvalidInput
from bot.text.hygiene import HygieneBlocked, check_public_text
from bot.text.status import IncidentStatus


def require_open(incident: Incident) -> None:
    if not incident.is_open:
        raise InvalidInput(
            f"{incident.ref} is resolved; resolved is final. Declare a new incident for a "
            "recurrence."
        )


def check_hygiene(settings: Settings, text: str, status: IncidentStatus, *, force: bool) -> None:
    if force:
        return
    findings = check_public_text(
        text, status.value, deny=settings.hygiene_deny, own_domains=settings.own_domains
    )
    if findings:
        raise HygieneBlocked(findings, text)
