"""Who is on call: a weekly rotation handed off at a local time, or the members of a Slack
user group as last read (the worker reads it through Slack every 5 minutes and keeps it here,
so no listener waits on Slack and no Slack call happens inside a transaction).

A rotation's first person is on call from the first handoff at or after Monday 1970-01-05
(local time), the next one a week later, and so on: weeks are counted in the calendar of the
rotation's time zone, so a handoff stays at its local time across a DST change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from bot.config import OnCallConfig, Settings
from bot.db.models import KeyValue
from bot.db.state import get_state

EPOCH = date(1970, 1, 5)  # a Monday
WEEK = timedelta(days=7)
GROUP_KEY = "oncall_usergroup"  # value: {"group": "S…", "users": [...]}; at: when read
CLAIM_KEY = "oncall_usergroup_claim"  # at: when a worker last took the read
REFRESH_EVERY = timedelta(minutes=5)
SHOWN_STALE_AFTER = timedelta(minutes=15)  # older lists are shown with their age


@dataclass(frozen=True)
class OnCall:
    people: tuple[str, ...]
    source: str  # "rotation" or "usergroup"
    next_handoff: datetime | None = None
    as_of: datetime | None = None  # a user group's list, when it was read
    stale: bool = False

    @property
    def commander(self) -> str | None:
        """Who a declare without a named commander makes commander."""
        return self.people[0] if self.people else None


def _handoff_on(day: date, config: OnCallConfig, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, config.handoff_time, tzinfo=zone)


def last_handoff(config: OnCallConfig, now: datetime) -> datetime:
    """The most recent handoff at or before `now` (aware, in the rotation's zone)."""
    zone = ZoneInfo(config.time_zone)
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - config.handoff_weekday) % 7)
    handoff = _handoff_on(day, config, zone)
    # Compared as instants: aware datetimes sharing a tzinfo compare by wall time.
    if handoff.timestamp() > now.timestamp():
        handoff = _handoff_on(day - WEEK, config, zone)
    return handoff


def rotation_on_call(config: OnCallConfig, now: datetime) -> tuple[str, datetime]:
    """(who is on call, when the next handoff is)."""
    assert config.rotation
    handoff = last_handoff(config, now)
    first = EPOCH + timedelta(days=config.handoff_weekday)
    weeks = (handoff.date() - first).days // 7
    person = config.rotation[weeks % len(config.rotation)]
    zone = ZoneInfo(config.time_zone)
    return person, _handoff_on(handoff.date() + WEEK, config, zone)


def on_call(session: Session, settings: Settings, now: datetime) -> OnCall | None:
    """Who is on call now, or None when `[oncall]` is not configured or the user group has
    not been read yet."""
    config = settings.oncall
    if config is None:
        return None
    if config.rotation:
        person, until = rotation_on_call(config, now)
        return OnCall((person,), "rotation", next_handoff=until)
    row = session.get(KeyValue, GROUP_KEY)
    if row is None or not row.value or row.at is None:
        return None
    data = json.loads(row.value)
    if data.get("group") != config.usergroup:
        return None
    users = tuple(str(u) for u in data.get("users") or [])
    return OnCall(users, "usergroup", as_of=row.at, stale=now - row.at > SHOWN_STALE_AFTER)


def group_read_due(session: Session, settings: Settings, now: datetime) -> bool:
    """Whether the user group is due to be read (a read, so a worker asks without a write)."""
    config = settings.oncall
    if config is None or not config.usergroup:
        return False
    row = session.get(KeyValue, CLAIM_KEY)
    return row is None or row.at is None or row.at <= now - REFRESH_EVERY


def claim_group_read(session: Session, settings: Settings, now: datetime) -> str | None:
    """The user group to read now, claimed so that one worker reads it every 5 minutes,
    whatever number run; None when it is not due (or not configured)."""
    config = settings.oncall
    if config is None or not config.usergroup:
        return None
    get_state(session, CLAIM_KEY)
    result = session.execute(
        update(KeyValue)
        .where(
            KeyValue.key == CLAIM_KEY,
            or_(KeyValue.at.is_(None), KeyValue.at <= now - REFRESH_EVERY),
        )
        .values(at=now, number=KeyValue.number + 1)
        .execution_options(synchronize_session=False)
    )
    return config.usergroup if result.rowcount == 1 else None  # type: ignore[attr-defined]


def store_group(session: Session, group: str, users: list[str], now: datetime) -> None:
    """Keep what Slack said the user group's members are."""
    row = get_state(session, GROUP_KEY)
    row.value = json.dumps({"group": group, "users": [str(u)[:32] for u in users[:100]]})
    row.at = now
