"""The next-update promise: pure rules, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Incident, Promise
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


def promise_record(session: Session, incident: Incident) -> PromiseRecord:
    rows = session.execute(
        select(Promise.kept, func.count())
        .where(Promise.incident_id == incident.id, Promise.kept.is_not(None))
        .group_by(Promise.kept)
    ).all()
    counts = {bool(kept): int(count) for kept, count in rows}
    return PromiseRecord(kept=counts.get(True, 0), total=sum(counts.values()))


def promise_records(session: Session, incident_ids: list[int]) -> dict[int, PromiseRecord]:
    """`promise_record` of many incidents in one query (the board reads every open one)."""
    counts: dict[int, dict[bool, int]] = {i: {} for i in incident_ids}
    if incident_ids:
        for incident_id, kept, count in session.execute(
            select(Promise.incident_id, Promise.kept, func.count())
            .where(Promise.incident_id.in_(incident_ids), Promise.kept.is_not(None))
            .group_by(Promise.incident_id, Promise.kept)
        ):
            counts[incident_id][bool(kept)] = int(count)
    return {i: PromiseRecord(kept=c.get(True, 0), total=sum(c.values())) for i, c in counts.items()}


def close_promise(session: Session, incident: Incident, now: datetime) -> None:
    """An update was published: the open promise is kept if it came by its due time."""
    for promise in session.scalars(
        select(Promise).where(Promise.incident_id == incident.id, Promise.kept.is_(None))
    ):
        promise.fulfilled_at = now
        promise.kept = now <= promise.due_at


def record_promise(session: Session, incident: Incident, due: datetime, now: datetime) -> None:
    """Record the promise just published. A new update makes a new promise, even to the same
    time as one already kept (each is counted); two updates in the same instant leave one
    promise, the later one's."""
    existing = session.scalars(
        select(Promise).where(Promise.incident_id == incident.id, Promise.made_at == now)
    ).one_or_none()
    if existing is None:
        session.add(Promise(incident_id=incident.id, made_at=now, due_at=due))
    else:
        existing.due_at, existing.fulfilled_at, existing.kept = due, None, None


def expire_promises(session: Session, now: datetime) -> int:
    """Promises whose time passed with no update are recorded as broken."""
    result = session.execute(
        update(Promise)
        .where(Promise.kept.is_(None), Promise.due_at < now)
        .values(kept=False)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
