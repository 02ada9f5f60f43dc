"""Providers: the `[[dependencies]]` we rely on, read from their Statuspage-compatible
`<url>/api/v2/summary.json` by the worker.

One poll per dependency per slot (`poll`, default 60 s) whatever number of workers run: a
worker claims the slot on the provider's row first. The request is made outside any
transaction, with If-None-Match and a 10 s total deadline; failures back off. A provider that
cannot be read for 3 polls in a row is `unknown`, never `operational`. The first state known
is set silently; every later change of state is one new top-level post in #incidents, which
suggests looking at our components the provider can affect and never changes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import DependencyConfig, Settings
from bot.context.summary import (
    BODY_LIMIT,
    DEADLINE,
    ERROR_LIMIT,
    STATE_OF,
    Outcome,
    Reading,
    clean,
    fetch,
    link,
    parse_summary,
)
from bot.db.engine import read_only
from bot.db.models import Provider
from bot.db.upsert import insert_ignore
from bot.outbox import kinds

__all__ = [
    "BODY_LIMIT",
    "DEADLINE",
    "STATE_OF",
    "Outcome",
    "ProviderView",
    "Reading",
    "claim",
    "fetch",
    "not_operational",
    "parse_summary",
    "poll_due",
    "record",
]
log = logging.getLogger("flare.context.providers")

UNREADABLE_POLLS = 3
MAX_BACKOFF = timedelta(minutes=10)
OPERATIONAL, DEGRADED, MAJOR, UNKNOWN = "operational", "degraded", "major", "unknown"
EMOJI = {
    OPERATIONAL: ":white_check_mark:",
    DEGRADED: ":large_yellow_circle:",
    MAJOR: ":red_circle:",
    UNKNOWN: ":grey_question:",
}


@dataclass(frozen=True)
class ProviderView:
    """A provider not operational, for the board."""

    name: str
    state: str
    indicator: str | None
    incident_name: str | None
    url: str | None
    components: tuple[str, ...]


def slot_of(dependency: DependencyConfig, now: datetime) -> int:
    return int(now.timestamp() // max(dependency.poll.total_seconds(), 1))


def due(session: Session, dependency: DependencyConfig, now: datetime) -> bool:
    """Whether this slot's poll may still be claimed (a read: most calls end here)."""
    row = session.get(Provider, dependency.name)
    if row is None:
        return True
    waiting = row.next_poll_at is not None and row.next_poll_at > now
    return row.slot < slot_of(dependency, now) and not waiting


def claim(session: Session, dependency: DependencyConfig, now: datetime) -> tuple[bool, str | None]:
    """Claim this slot's poll: (True, the ETag to send) if this worker polls now; (False,
    None) when another worker has, or the provider is backing off."""
    insert_ignore(
        session,
        Provider,
        {"name": dependency.name, "failures": 0, "slot": -1, "changes": 0},
        conflict=["name"],
    )
    slot = slot_of(dependency, now)
    result = session.execute(
        update(Provider)
        .where(
            Provider.name == dependency.name,
            Provider.slot < slot,
            or_(Provider.next_poll_at.is_(None), Provider.next_poll_at <= now),
        )
        .values(slot=slot)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False, None
    return True, session.scalar(select(Provider.etag).where(Provider.name == dependency.name))


def record(
    session: Session,
    settings: Settings,
    dependency: DependencyConfig,
    outcome: Outcome,
    now: datetime,
    *,
    slot: int | None = None,
) -> str | None:
    """Apply one poll's outcome; the new state when it changed (its post queued), else None.

    With `slot`, the outcome is dropped when the row's slot has moved on since this worker
    claimed it (a slow poll never overwrites a later one)."""
    row = session.get(Provider, dependency.name, with_for_update=True)
    assert row is not None
    if slot is not None and row.slot != slot:
        return None
    row.polled_at = now
    previous = row.state
    error = outcome.error
    if error is None and outcome.reading is None and row.indicator is None:
        # A 304 keeps a reading; with none known (never read, or unknown) it is a failure.
        error = "HTTP 304 with no reading to keep"
    if error is not None:
        row.failures += 1
        row.last_error = clean(error)[:ERROR_LIMIT]
        row.etag = None  # the next poll asks for the whole page again
        backoff = dependency.poll * (2 ** min(row.failures - 1, 10))
        row.next_poll_at = now + min(backoff, max(MAX_BACKOFF, dependency.poll))
        if row.failures < UNREADABLE_POLLS:
            return None
        state = UNKNOWN
        row.indicator = row.incident_name = row.incident_url = None
    else:
        row.failures, row.last_error, row.next_poll_at = 0, None, None
        row.etag = outcome.etag
        if outcome.reading is None:  # 304: as it was
            return None
        reading = outcome.reading
        state = reading.state
        row.indicator = reading.indicator
        row.incident_name = clean(reading.incident_name or "")[:300] or None
        row.incident_url = link(reading.incident_url)
    if state == previous:
        return None
    row.state, row.changed_at = state, now
    if previous is None:  # the first state known is set without a post
        return state
    row.changes += 1
    outbox.enqueue(
        session,
        key=f"provider:{dependency.name}:{row.changes}",
        kind=kinds.SLACK_CHANNEL_TEXT,
        payload={"text": change_post(settings, dependency, row, previous)},
        now=now,
    )
    return state


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def affected_names(settings: Settings, dependency: DependencyConfig) -> list[str]:
    names = {c.key: c.name for c in settings.components}
    return [names.get(key, key) for key in dependency.components]


def change_post(
    settings: Settings, dependency: DependencyConfig, row: Provider, previous: str
) -> str:
    """The #incidents post for one change of a provider's state (mrkdwn)."""
    name = f"*{_escape(dependency.name)}*"
    if row.state == UNKNOWN:
        head = (
            f"{EMOJI[UNKNOWN]} {name} could not be read for {UNREADABLE_POLLS} polls in a row: "
            f"its state is *unknown* (was {previous})."
        )
    elif row.state == OPERATIONAL:
        return f"{EMOJI[OPERATIONAL]} {name} is *operational* again (was {previous})."
    else:
        head = f"{EMOJI[row.state or UNKNOWN]} {name} is now *{row.state}* (was {previous})"
        if row.incident_name:
            label = _escape(row.incident_name).replace("|", "¦")
            head += f": <{row.incident_url}|{label}>" if row.incident_url else f": {label}"
        head += "."
    affected = affected_names(settings, dependency)
    if affected:
        head += (
            f"\nIt may affect our {_escape(', '.join(affected))}: if customers see it, "
            "declare an incident or set the level with `/incident component`. "
            "Nothing was changed on our page."
        )
    return head


def poll_due(
    session_factory: Any,
    settings: Settings,
    now: datetime | Callable[[], datetime],
    client: httpx.Client | None = None,
) -> int:
    """Poll every dependency whose slot this worker claims; the number polled. `now` is a
    clock (read afresh for each provider) or a fixed time. One provider's failure, whatever
    it is, is logged and counted on its row; the others are still polled."""
    clock = now if callable(now) else (lambda: now)
    polled = 0
    for dependency in settings.dependencies:
        try:
            polled += _poll_one(session_factory, settings, dependency, clock, client)
        except Exception:  # noqa: BLE001 - isolation: the next provider is still polled
            log.exception("provider %s: poll failed", dependency.name)
    return polled


def _poll_one(
    session_factory: Any,
    settings: Settings,
    dependency: DependencyConfig,
    clock: Callable[[], datetime],
    client: httpx.Client | None,
) -> int:
    now = clock()
    with read_only(session_factory) as session:
        if not due(session, dependency, now):
            return 0
    with session_factory.begin() as session:
        claimed, etag = claim(session, dependency, now)
    if not claimed:
        return 0
    slot = slot_of(dependency, now)
    outcome = fetch(dependency, etag, client)
    done = clock()
    try:
        with session_factory.begin() as session:
            record(session, settings, dependency, outcome, done, slot=slot)
    except Exception as error:  # noqa: BLE001 - counted as a failed poll, in a fresh transaction
        log.exception("provider %s: poll not recorded", dependency.name)
        failure = Outcome(error=f"not recorded: {type(error).__name__}")
        with session_factory.begin() as session:
            record(session, settings, dependency, failure, done, slot=slot)
    return 1


def not_operational(session: Session, settings: Settings) -> list[ProviderView]:
    """Providers to show on the board: every configured one whose state is not operational."""
    rows = {
        r.name: r
        for r in session.scalars(
            select(Provider).where(Provider.name.in_([d.name for d in settings.dependencies]))
        )
    }
    views = []
    for dependency in settings.dependencies:
        row = rows.get(dependency.name)
        if row is None or row.state in {None, OPERATIONAL}:
            continue
        assert row.state is not None
        views.append(
            ProviderView(
                name=dependency.name,
                state=row.state,
                indicator=row.indicator,
                incident_name=row.incident_name,
                url=row.incident_url or link(dependency.url),
                components=tuple(affected_names(settings, dependency)),
            )
        )
    return views
