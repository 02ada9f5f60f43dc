"""The next-update promise: pure rules, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Settings
from bot.errors import InvalidInput

ESCALATION_REPEAT = timedelta(minutes=10)


def next_due(published_at: datetime, cadence: timedelta, requested: timedelta | None) -> datetime:
    """published_at + cadence, or the owner's shorter interval. A longer one is refused."""
    if requested is not None:
        if requested <= timedelta(0):
            raise InvalidInput("The next update must be at least a minute away.")
        if requested > cadence:
            raise InvalidInput(
                f"The next update can be at most {int(cadence.total_seconds() // 60)} minutes "
                "away at this severity."
            )
        return published_at + requested
    return published_at + cadence


def reminder_lead(settings: Settings, interval: timedelta) -> timedelta:
    """Remind `FLARE_REMINDER_LEAD` before the promise, or at half the interval if shorter."""
    return min(settings.reminder_lead, interval / 2)


@dataclass(frozen=True)
class PromiseRecord:
    kept: int
    total: int

    def __str__(self) -> str:
        return f"{self.kept}/{self.total} updates on time" if self.total else "no promises yet"


def escalation_times(due: datetime, now: datetime) -> list[datetime]:
    """Escalation slots from the promise up to now, one every ten minutes while overdue."""
    if now < due:
        return []
    count = int((now - due) / ESCALATION_REPEAT) + 1
    return [due + ESCALATION_REPEAT * i for i in range(count)]
