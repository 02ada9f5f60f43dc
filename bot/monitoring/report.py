"""What monitoring shows inside the team: firing and recent signals, unmapped alerts, the
checks and their last results, sources gone quiet. Read by the board, `/incident signals`,
`flare signals`, `flare checks` and /healthz; never by a public surface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, defer

from bot.config import CheckConfig, Settings
from bot.db.models import CheckResult, Signal
from bot.text.status import LEVEL_LABELS, ComponentStatus

RECENT = timedelta(hours=2)
QUIET_INTERVALS = 3
MAX_ROWS = 50


@dataclass(frozen=True)
class SignalRow:
    component: str | None
    name: str
    level: ComponentStatus
    firing: bool
    since: datetime
    ended_at: datetime | None
    source: str
    id: int | None = None  # what `signals clear <id>` takes


@dataclass(frozen=True)
class CheckRow:
    name: str
    component: str
    url: str
    last_at: datetime | None
    ok: bool | None
    detail: str
    stale: bool


@dataclass(frozen=True)
class Report:
    firing: list[SignalRow]
    recent: list[SignalRow]
    checks: list[CheckRow]

    @property
    def stale(self) -> list[CheckRow]:
        return [c for c in self.checks if c.stale]


def _row(s: Signal) -> SignalRow:
    return SignalRow(
        s.component_key, s.name, s.level, s.firing, s.since, s.ended_at, s.source, s.id
    )


def check_rows(session: Session, settings: Settings, now: datetime) -> list[CheckRow]:
    rows = []
    for check in settings.checks:
        last = session.scalars(
            select(CheckResult)
            .where(CheckResult.check_name == check.name, CheckResult.finished_at.is_not(None))
            .order_by(CheckResult.slot.desc())
            .limit(1)
        ).first()
        rows.append(_check_row(check, last, now))
    return rows


def _check_row(check: CheckConfig, last: CheckResult | None, now: datetime) -> CheckRow:
    if last is None or last.finished_at is None:
        return CheckRow(check.name, check.component, check.url, None, None, "never run", True)
    detail = f"HTTP {last.status_code}" if last.status_code is not None else (last.error or "error")
    if last.millis is not None:
        detail += f" in {last.millis} ms"
    stale = now - last.finished_at > check.interval * QUIET_INTERVALS
    return CheckRow(
        check.name, check.component, check.url, last.finished_at, last.ok, detail, stale
    )


def stale_checks(session: Session, settings: Settings, now: datetime) -> list[str]:
    """Checks with no result for 3 intervals. One indexed look-up per configured check (the
    last finished slot), never a scan of the results: /healthz asks on every probe."""
    stale = []
    for check in settings.checks:
        last = session.scalar(
            select(CheckResult.finished_at)
            .where(CheckResult.check_name == check.name, CheckResult.finished_at.is_not(None))
            .order_by(CheckResult.slot.desc())
            .limit(1)
        )
        if last is None or now - last > check.interval * QUIET_INTERVALS:
            stale.append(check.name)
    return stale


def report(session: Session, settings: Settings, now: datetime) -> Report:
    signals = list(
        session.scalars(
            select(Signal)
            .options(defer(Signal.labels))  # up to 8 KiB each, never shown here
            .where(or_(Signal.firing.is_(True), Signal.ended_at >= now - RECENT))
            .order_by(Signal.firing.desc(), Signal.since, Signal.id)
            .limit(MAX_ROWS * 4)
        )
    )
    return Report(
        firing=[_row(s) for s in signals if s.firing],
        recent=[_row(s) for s in signals if not s.firing],
        checks=check_rows(session, settings, now),
    )


Format = Callable[[datetime], str]
Text = Callable[[str], str]


def signal_line(row: SignalRow, time: Format, text: Text) -> str:
    where = row.component or "unmapped"
    state = f"since {time(row.since)}" if row.firing else f"ended {time(row.ended_at or row.since)}"
    ref = f"#{row.id} " if row.id is not None else ""
    return f"{ref}{where}: {text(row.name)} ({LEVEL_LABELS[row.level]}, {row.source}) {state}"


def signals_text(rep: Report, time: Format, text: Text) -> str:
    """`/incident signals` and `flare signals`."""
    lines = [f"Firing ({len(rep.firing)}):"]
    lines += [f"  {signal_line(r, time, text)}" for r in rep.firing[:MAX_ROWS]] or ["  none"]
    lines.append(f"Recent, ended in the last 2 h ({len(rep.recent)}):")
    lines += [f"  {signal_line(r, time, text)}" for r in rep.recent[:MAX_ROWS]] or ["  none"]
    if rep.stale:
        lines.append("Sources gone quiet: " + ", ".join(text(c.name) for c in rep.stale))
    return "\n".join(lines)


def checks_text(rep: Report, time: Format, text: Text) -> str:
    """`flare checks`."""
    if not rep.checks:
        return "No [[checks]] configured."
    lines = []
    for c in rep.checks:
        state = "never run" if c.ok is None else ("ok" if c.ok else "FAILING")
        when = f" at {time(c.last_at)}" if c.last_at else ""
        quiet = " (gone quiet)" if c.stale and c.last_at else ""
        lines.append(
            f"{text(c.name)} [{c.component}] {state}{when}: {text(c.detail)}{quiet} — {c.url}"
        )
    return "\n".join(lines)
