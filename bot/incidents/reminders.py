"""Reminders and escalations: which nags are due now, queued exactly once per due time.

The decisions only; sending them is the Slack sender's job (`bot/slack/`). Each sweep finds
the incidents whose promise is near (one indexed query on `reminder_due`), works out the one
nag each should have by now, and queues the missing ones in the sweep's transaction. The
outbox key names the incident, the due time and (for escalations) the slot, so any number of
sweeping processes, or a restart, queue each nag once: the unique key is the claim.

The rules, in words (docs/cadence.md has them for people):

- Reminder: a DM `reminder_lead` before `reminder_due` (the lead is `FLARE_REMINDER_LEAD`, or
  half the interval when that is shorter), to the owner, else the commander. With neither,
  no DM: the escalation in the thread is the only nag (it says nobody is assigned).
- Escalation: at `reminder_due`, a post in the incident's thread mentioning owner and
  commander, repeated every ten minutes while overdue. Only the latest slot that has come is
  queued, so a scheduler that was down for forty minutes posts once, not four times.
- A snooze postpones both: no reminder before `snoozed_until` (none at all if the snooze
  reaches the due time), and escalation slots count from `snoozed_until` when it is later
  than the due time.
- Nothing for resolved or internal-only incidents (`reminder_due` is None for them anyway).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.db.models import Incident, OutboxMessage
from bot.incidents.promises import ESCALATION_REPEAT, reminder_lead
from bot.outbox import kinds
from bot.text.status import IncidentStatus

REMINDER_KIND = kinds.SLACK_REMINDER
ESCALATION_KIND = kinds.SLACK_ESCALATION
KINDS = (REMINDER_KIND, ESCALATION_KIND)
_KEY_CHUNK = 500


@dataclass(frozen=True)
class PromiseState:
    """What the rules need of an incident: a row of the candidate query."""

    incident_id: int
    reminder_due: datetime
    base: datetime  # the last public update, or the declaration before the first one
    snoozed_until: datetime | None
    owner_id: str | None
    commander_id: str | None

    @property
    def interval(self) -> timedelta:
        return max(self.reminder_due - self.base, timedelta(0))

    @property
    def recipient(self) -> str | None:
        """Who gets the reminder DM: the owner, else the commander, else nobody."""
        return self.owner_id or self.commander_id

    @property
    def mentions(self) -> list[str]:
        return list(dict.fromkeys(u for u in (self.owner_id, self.commander_id) if u))


@dataclass(frozen=True)
class Nag:
    """One outbox row to queue."""

    key: str
    kind: str
    incident_id: int
    payload: dict[str, Any]
    ordering_key: str | None = None


def reminder_at(settings: Settings, state: PromiseState) -> datetime | None:
    """When the reminder DM is due, or None if a snooze covers the whole reminder window."""
    at = state.reminder_due - reminder_lead(settings, state.interval)
    if state.snoozed_until is not None and state.snoozed_until > at:
        at = state.snoozed_until
    return at if at < state.reminder_due else None


def escalation_start(state: PromiseState) -> datetime:
    """The first escalation slot: the due time, or the end of a snooze that reaches past it."""
    if state.snoozed_until is not None and state.snoozed_until > state.reminder_due:
        return state.snoozed_until
    return state.reminder_due


def latest_slot(start: datetime, now: datetime) -> datetime | None:
    """The latest escalation slot that has come (one every ten minutes from `start`)."""
    if now < start:
        return None
    return start + ESCALATION_REPEAT * int((now - start) / ESCALATION_REPEAT)


def reminder_key(incident_id: int, due: datetime) -> str:
    return f"reminder:{incident_id}:{due.isoformat()}"


def escalation_key(incident_id: int, due: datetime, slot: datetime) -> str:
    return f"escalation:{incident_id}:{due.isoformat()}:{slot.isoformat()}"


def due_nags(settings: Settings, state: PromiseState, now: datetime) -> list[Nag]:
    """The nag this incident should have had by `now` (at most one). Pure."""
    due = state.reminder_due
    if now >= due:
        slot = latest_slot(escalation_start(state), now)
        if slot is None:
            return []
        return [
            Nag(
                key=escalation_key(state.incident_id, due, slot),
                kind=ESCALATION_KIND,
                incident_id=state.incident_id,
                payload={
                    "incident_id": state.incident_id,
                    "due_at": due.isoformat(),
                    "slot": slot.isoformat(),
                    "mentions": state.mentions,
                },
                # Into the thread after the incident's earlier posts (the root may be pending).
                ordering_key=f"incident:{state.incident_id}",
            )
        ]
    at = reminder_at(settings, state)
    if at is None or now < at or state.recipient is None:
        return []
    return [
        Nag(
            key=reminder_key(state.incident_id, due),
            kind=REMINDER_KIND,
            incident_id=state.incident_id,
            payload={
                "incident_id": state.incident_id,
                "due_at": due.isoformat(),
                "recipient": state.recipient,
                "kind": "reminder",
            },
        )
    ]


def candidates(session: Session, settings: Settings, now: datetime) -> list[PromiseState]:
    """Open, public-facing incidents whose promise is within the longest lead of `now`.

    One query on the `reminder_due` index; the lead is never longer than
    `FLARE_REMINDER_LEAD`, so nothing later can be due yet.
    """
    rows = session.execute(
        select(
            Incident.id,
            Incident.reminder_due,
            Incident.last_public_update_at,
            Incident.declared_at,
            Incident.snoozed_until,
            Incident.owner_id,
            Incident.commander_id,
        )
        .where(
            Incident.reminder_due.is_not(None),
            Incident.reminder_due <= now + settings.reminder_lead,
            Incident.status != IncidentStatus.RESOLVED,
            Incident.internal_only.is_(False),
        )
        .order_by(Incident.reminder_due, Incident.id)
    ).all()
    return [
        PromiseState(
            incident_id=row.id,
            reminder_due=row.reminder_due,
            base=row.last_public_update_at or row.declared_at,
            snoozed_until=row.snoozed_until,
            owner_id=row.owner_id,
            commander_id=row.commander_id,
        )
        for row in rows
    ]


def next_due(
    session: Session, settings: Settings, now: datetime, horizon: timedelta
) -> datetime | None:
    """The first instant after `now`, and no later than `now + horizon`, at which a nag falls
    due (a reminder window opens, a promise passes, an escalation slot comes); None if none
    does. The worker wakes a sweep for it instead of waiting for the next tick."""
    times = []
    for state in candidates(session, settings, now + horizon):
        at = reminder_at(settings, state)
        start = escalation_start(state)
        slot = latest_slot(start, now)
        following = start if slot is None else slot + ESCALATION_REPEAT
        times += [t for t in (at, state.reminder_due, following) if t is not None and t > now]
    first = min(times, default=None)
    return first if first is not None and first <= now + horizon else None


def _existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[start : start + _KEY_CHUNK]
        found.update(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk))))
    return found


def enqueue_due(session: Session, settings: Settings, now: datetime) -> int:
    """Queue every reminder and escalation due by `now`; returns how many were new.

    Keys already in the outbox are skipped by one read, so an overdue incident costs no write
    per tick; the rest go in one multi-row INSERT … ON CONFLICT DO NOTHING, sorted by key so
    concurrent sweeps lock in the same order and a racing twin is silently dropped.
    """
    nags = [
        nag
        for state in candidates(session, settings, now)
        for nag in due_nags(settings, state, now)
    ]
    if not nags:
        return 0
    existing = _existing_keys(session, [nag.key for nag in nags])
    fresh = sorted((nag for nag in nags if nag.key not in existing), key=lambda nag: nag.key)
    return outbox.enqueue_many(session, now=now, messages=[_row(nag) for nag in fresh])


def _row(nag: Nag) -> dict[str, Any]:
    return {
        "key": nag.key,
        "kind": nag.kind,
        "payload": nag.payload,
        "incident_id": nag.incident_id,
        "ordering_key": nag.ordering_key,
    }


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class ReminderTarget:
    """What decides whether a queued reminder is still wanted, and what its DM names: read
    for a whole batch of reminders in one query (`reminder_targets`)."""

    number: int
    title: str
    status: IncidentStatus
    internal_only: bool
    reminder_due: datetime | None
    snoozed_until: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.RESOLVED


def reminder_targets(session: Session, incident_ids: Sequence[int]) -> dict[int, ReminderTarget]:
    """The incidents of a batch of reminders, by id, in one query (gone ones are missing)."""
    if not incident_ids:
        return {}
    rows = session.execute(
        select(
            Incident.id,
            Incident.number,
            Incident.title,
            Incident.status,
            Incident.internal_only,
            Incident.reminder_due,
            Incident.snoozed_until,
        ).where(Incident.id.in_(set(incident_ids)))
    )
    return {row.id: ReminderTarget(*row[1:]) for row in rows}


def target_is_stale(
    incident: Incident | ReminderTarget | None, payload: Mapping[str, Any], now: datetime
) -> bool:
    """`reminder_is_stale` on an incident already read."""
    if incident is None or not incident.is_open or incident.internal_only:
        return True
    due = _parse(payload.get("due_at"))
    if due is None or incident.reminder_due is None or incident.reminder_due != due:
        return True
    if incident.snoozed_until is not None and incident.snoozed_until > now:
        return True
    slot = _parse(payload.get("slot"))
    if slot is not None:
        return now >= slot + ESCALATION_REPEAT
    return now >= due


def reminder_is_stale(session: Session, payload: Mapping[str, Any], now: datetime) -> bool:
    """True if a queued reminder or escalation should be dropped instead of sent.

    Stale when the incident is gone, resolved or internal-only; when its promise moved (an
    update, "Nothing new" or a severity change since: `reminder_due` no longer equals the
    payload's `due_at`); when it is snoozed past `now`; for a reminder, once the promise has
    passed (the escalation speaks instead); for an escalation, once its next slot has come
    (the sweep queues that one, so an outage never releases a burst of old mentions).
    """
    incident_id = payload.get("incident_id")
    incident = session.get(Incident, incident_id) if isinstance(incident_id, int) else None
    return target_is_stale(incident, payload, now)
