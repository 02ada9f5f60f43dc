"""90-day uptime from a component's status history: the worst status per UTC day, and a percent.

The rule, as Statuspage's: time in `major_outage` counts as full downtime, time in
`partial_outage` counts 30%, and `degraded_performance` and `under_maintenance` count as up
(the service answers). Time before the component existed is not counted at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bot.text.status import COMPONENT_RANK, ComponentStatus

DAYS = 90
DOWNTIME_WEIGHT = {ComponentStatus.MAJOR_OUTAGE: 1.0, ComponentStatus.PARTIAL_OUTAGE: 0.3}


@dataclass(frozen=True)
class Day:
    day: date
    # None: the component did not exist yet that day.
    worst: ComponentStatus | None
    # Seconds spent in each status other than operational.
    seconds: dict[ComponentStatus, int] = field(default_factory=dict)
    counted: int = 0  # seconds of the day the component existed (up to now)


@dataclass(frozen=True)
class Uptime:
    days: tuple[Day, ...]
    percent: float | None  # None when nothing was counted

    @property
    def issue_days(self) -> tuple[Day, ...]:
        return tuple(d for d in self.days if d.worst not in (None, ComponentStatus.OPERATIONAL))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def compute(
    *,
    initial: ComponentStatus,
    changes: Sequence[tuple[datetime, ComponentStatus]],
    created_at: datetime,
    now: datetime,
    days: int = DAYS,
) -> Uptime:
    """`initial` is the status at the window's start; `changes` those inside it, any order."""
    first_day = now.astimezone(UTC).date() - timedelta(days=days - 1)
    window_start = max(_midnight(first_day), created_at)
    # Segments (start, end, status) covering [window_start, now].
    segments: list[tuple[datetime, datetime, ComponentStatus]] = []
    current, since = initial, window_start
    for at, status in sorted((c for c in changes if c[0] <= now), key=lambda c: c[0]):
        at = max(at, window_start)
        segments.append((since, at, current))
        current, since = status, at
    segments.append((since, max(now, since), current))

    out: list[Day] = []
    counted_total = 0.0
    down_total = 0.0
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        start = max(_midnight(day), window_start)
        end = min(_midnight(day + timedelta(days=1)), now)
        if end <= start and not (start == end == now):
            out.append(Day(day=day, worst=None))
            continue
        worst = None
        seconds: dict[ComponentStatus, int] = {}
        for seg_start, seg_end, status in segments:
            touches = seg_start < end and seg_end > start
            instant = seg_start == seg_end and start <= seg_start < end
            if not (touches or instant):
                continue
            if worst is None or COMPONENT_RANK[status] > COMPONENT_RANK[worst]:
                worst = status
            overlap = (min(seg_end, end) - max(seg_start, start)).total_seconds()
            if status != ComponentStatus.OPERATIONAL and overlap > 0:
                seconds[status] = seconds.get(status, 0) + int(overlap)
            down_total += overlap * DOWNTIME_WEIGHT.get(status, 0.0) if overlap > 0 else 0
        counted = int((end - start).total_seconds())
        counted_total += counted
        out.append(
            Day(
                day=day,
                worst=worst or ComponentStatus.OPERATIONAL,
                seconds=seconds,
                counted=counted,
            )
        )
    percent = None if counted_total <= 0 else 100.0 * (1 - down_total / counted_total)
    return Uptime(days=tuple(out), percent=percent)
