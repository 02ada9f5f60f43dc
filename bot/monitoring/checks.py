"""Built-in HTTP checks (`[[checks]]`), run by the worker with httpx.

Each (check, interval slot) is claimed by inserting its result row (a unique key), so any
number of workers run it once. The request goes out after the claim's transaction has
committed; its outcome is recorded in another. A check turns into a signal after
`failure_threshold` failures in a row and ends after `success_threshold` successes in a row,
so one failure never flaps the component.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import CheckConfig, Settings
from bot.db.models import CheckResult, Signal
from bot.db.upsert import insert_ignore
from bot.monitoring.episodes import evaluate
from bot.monitoring.signals import clean

log = logging.getLogger("flare.checks")
BODY_LIMIT = 1024 * 1024  # read at most this much of a body looking for `contains`
PARALLEL = 8
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Claim:
    result_id: int
    check: CheckConfig


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None
    millis: int


def slot_of(check: CheckConfig, now: datetime) -> datetime:
    """The start of the interval slot `now` falls in (the same in every process)."""
    step = check.interval.total_seconds()
    n = int((now - EPOCH).total_seconds() // step)
    return EPOCH + n * check.interval


def claim_due(session: Session, settings: Settings, now: datetime) -> list[Claim]:
    """Claim this slot of every check no process has claimed yet."""
    claims = []
    for check in settings.checks:
        inserted = insert_ignore(
            session,
            CheckResult,
            {"check_name": check.name, "slot": slot_of(check, now), "at": now},
            conflict=["check_name", "slot"],
            returning=[CheckResult.id],
        )
        claims += [Claim(row[0], check) for row in inserted]
    return claims


def probe(check: CheckConfig, client: httpx.Client) -> Outcome:
    """Run one check (outside any transaction). `timeout` bounds the whole check, not each
    read: a body that trickles in is cut off at the deadline (checked between reads, so a
    probe lasts at most about twice `timeout`). At most BODY_LIMIT bytes are read, searched
    for `contains` as they arrive (linear, whatever the chunk sizes)."""
    started = time.monotonic()
    seconds = check.timeout.total_seconds()
    deadline = started + seconds
    try:
        with client.stream("GET", check.url, timeout=seconds, follow_redirects=True) as response:
            status = response.status_code
            found = check.contains is None or _search(response, check.contains.encode(), deadline)
    except _Deadline:
        millis = int((time.monotonic() - started) * 1000)
        return Outcome(False, None, f"timed out after {seconds:g} s", millis)
    except httpx.HTTPError as error:
        millis = int((time.monotonic() - started) * 1000)
        return Outcome(False, None, f"{type(error).__name__}: {error}"[:300], millis)
    millis = int((time.monotonic() - started) * 1000)
    if not check.accepts(status):
        return Outcome(False, status, f"HTTP {status}", millis)
    if not found:
        return Outcome(False, status, f"body lacks {check.contains!r}"[:300], millis)
    return Outcome(True, status, None, millis)


class _Deadline(Exception):
    pass


def _search(response: httpx.Response, needle: bytes, deadline: float) -> bool:
    """Whether `needle` is in the first BODY_LIMIT bytes; only the last len(needle) - 1
    bytes are kept between chunks (a match may straddle two)."""
    tail = b""
    read = 0
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise _Deadline
        window = tail + chunk[: BODY_LIMIT - read]
        if needle in window:
            return True
        read += len(chunk)
        if read >= BODY_LIMIT:
            return False
        tail = window[-(len(needle) - 1) :] if len(needle) > 1 else b""
    return False


def record(
    session: Session, settings: Settings, claim: Claim, outcome: Outcome, now: datetime
) -> None:
    """Store the outcome and move the check's signal by its thresholds."""
    row = session.get(CheckResult, claim.result_id)
    if row is None:
        return  # pruned meanwhile
    row.finished_at, row.ok = now, outcome.ok
    error = clean(outcome.error, 300) if outcome.error else None  # the target's words too
    row.status_code, row.error, row.millis = outcome.status_code, error, outcome.millis
    session.flush()
    check = claim.check
    recent = list(
        session.scalars(
            select(CheckResult.ok)
            .where(CheckResult.check_name == check.name, CheckResult.finished_at.is_not(None))
            .order_by(CheckResult.slot.desc())
            .limit(max(check.failure_threshold, check.success_threshold))
        )
    )
    failing = len(recent) >= check.failure_threshold and not any(recent[: check.failure_threshold])
    passing = len(recent) >= check.success_threshold and all(recent[: check.success_threshold])
    if _move_signal(session, check, failing=failing, passing=passing, detail=outcome, now=now):
        evaluate(session, settings, now, [check.component])


def _move_signal(
    session: Session,
    check: CheckConfig,
    *,
    failing: bool,
    passing: bool,
    detail: Outcome,
    now: datetime,
) -> bool:
    key = f"check:{check.name}"[:200]
    signal = session.scalars(select(Signal).where(Signal.key == key).with_for_update()).first()
    if failing and (signal is None or not signal.firing):
        if signal is None:
            signal = Signal(key=key, source="check", name=check.name[:200], labels={})
            session.add(signal)
        signal.component_key, signal.level = check.component, check.level
        signal.firing, signal.since, signal.ended_at, signal.updated_at = True, now, None, now
        signal.seen_at = now  # the worker's clock: the tick's own
        signal.summary = clean(detail.error or "failing", 500)
        return True
    if passing and signal is not None and signal.firing:
        signal.firing, signal.ended_at, signal.updated_at = False, now, now
        return True
    return False


def run_due(
    sessions: sessionmaker[Session],
    settings: Settings,
    now_of: Callable[[], datetime],
    client: httpx.Client | None = None,
) -> int:
    """Claim, run and record the due checks; returns how many ran."""
    if not settings.checks:
        return 0
    with sessions.begin() as session:
        claims = claim_due(session, settings, now_of())
    if not claims:
        return 0
    own = client is None
    http = client or httpx.Client(headers={"User-Agent": "Flare-check/1"})
    try:
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(claims))) as pool:
            running = {pool.submit(probe, c.check, http): c for c in claims}
            # Each outcome is recorded as soon as it is known: a slow target never holds
            # back the others' results (nor their signals).
            for done in as_completed(running):
                try:
                    outcome = done.result()
                except Exception as error:  # a bug in one probe is that check's failure
                    log.exception("check %s failed to run", running[done].check.name)
                    outcome = Outcome(False, None, f"{type(error).__name__}"[:300], 0)
                _record_one(sessions, settings, running[done], outcome, now_of())
    finally:
        if own:
            http.close()
    return len(claims)


def _record_one(
    sessions: sessionmaker[Session],
    settings: Settings,
    claim: Claim,
    outcome: Outcome,
    now: datetime,
) -> None:
    try:
        with sessions.begin() as session:
            record(session, settings, claim, outcome, now)
    except Exception:  # one check's bookkeeping never blocks the others
        log.exception("check %s not recorded", claim.check.name)


def prune_results(session: Session, *, before: datetime, limit: int) -> int:
    """Delete check results older than `before` (FLARE_RETENTION), at most `limit`."""
    ids: Sequence[int] = session.scalars(
        select(CheckResult.id).where(CheckResult.at < before).limit(limit)
    ).all()
    if ids:
        session.execute(delete(CheckResult).where(CheckResult.id.in_(ids)))
    return len(ids)
