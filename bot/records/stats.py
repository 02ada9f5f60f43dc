"""Stats over a period (`/incident stats [30d]`, `flare stats`): incidents by severity, how
fast customers heard and how fast it was over, the promise record, per component.

Definitions (docs/records.md): an incident counts in the period it was declared in. Time to
first public update = first public update − declaration; time to resolve = resolution −
declaration. Median is the middle value (the mean of the two middle ones for an even count);
p90 is the nearest rank (the ⌈0.9·n⌉-th smallest), so it is always a time that happened.
A missed promise is overdue from its due time to the next public update (or the resolution,
or now); the promises still open are not counted as kept or missed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import incidents as svc
from bot.db.models import Incident, Promise, TimelineEvent
from bot.records.export import impact_of, promise_rows
from bot.text.status import EventKind, IncidentStatus, Severity
from bot.text.times import iso

# The most incidents whose timelines are read for one answer: it keeps `/incident stats`
# quick and small whatever the period holds (the counts still cover the whole period).
MAX_INCIDENTS = 1000


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


@dataclass(frozen=True)
class Times:
    count: int
    median_minutes: float | None
    p90_minutes: float | None

    @classmethod
    def of(cls, deltas: Sequence[timedelta]) -> Times:
        values = [d.total_seconds() / 60 for d in deltas]
        rounded = [round(v, 1) if v is not None else None for v in (median(values), p90(values))]
        return cls(len(values), rounded[0], rounded[1])

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "median": self.median_minutes, "p90": self.p90_minutes}


@dataclass(frozen=True)
class Stats:
    since: datetime
    until: datetime
    incidents: int
    by_severity: dict[str, int]
    first_update: Times
    resolve: Times
    first_update_by_severity: dict[str, Times]
    resolve_by_severity: dict[str, Times]
    promises_made: int
    promises_kept: int
    promises_missed: int
    minutes_overdue: float
    components: dict[str, dict[str, Any]]  # name → {"incidents": n, "minutes": {level: m}}
    covered: int = 0  # incidents the times, promises and components are from (latest first)

    @property
    def capped(self) -> bool:
        return self.covered < self.incidents

    def as_json(self) -> dict[str, Any]:
        return {
            "since": iso(self.since),
            "until": iso(self.until),
            "incidents": self.incidents,
            "by_severity": self.by_severity,
            "time_to_first_public_update_minutes": self.first_update.as_json(),
            "time_to_resolve_minutes": self.resolve.as_json(),
            "by_severity_times": {
                sev: {
                    "time_to_first_public_update_minutes": self.first_update_by_severity[
                        sev
                    ].as_json(),
                    "time_to_resolve_minutes": self.resolve_by_severity[sev].as_json(),
                }
                for sev in self.by_severity
            },
            "promises": {
                "made": self.promises_made,
                "kept": self.promises_kept,
                "missed": self.promises_missed,
                "open": self.promises_made - self.promises_kept - self.promises_missed,
                "minutes_overdue": self.minutes_overdue,
            },
            "components": self.components,
            "covered_incidents": self.covered,
        }


def compute(
    session: Session, now: datetime, period: timedelta, *, limit: int | None = None
) -> Stats:
    """The period's stats. The counts by severity are the database's (GROUP BY, the whole
    period); the times, promises and components are worked out from the latest `limit`
    incidents of the period, only the columns they need, and say so (`covered`) when the
    period has more."""
    since = now - period
    counts = dict(
        session.execute(
            select(Incident.severity, func.count())
            .where(Incident.declared_at >= since)
            .group_by(Incident.severity)
        ).all()
    )
    total = sum(counts.values())
    rows = session.execute(
        select(
            Incident.id,
            Incident.severity,
            Incident.status,
            Incident.declared_at,
            Incident.published_at,
            Incident.resolved_at,
        )
        .where(Incident.declared_at >= since)
        .order_by(Incident.declared_at.desc(), Incident.id.desc())
        .limit(MAX_INCIDENTS if limit is None else limit)
    ).all()
    ids = [r.id for r in rows]
    updates: dict[int, list[TimelineEvent]] = {}
    for event in session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id.in_(ids), TimelineEvent.kind == EventKind.PUBLIC_UPDATE)
        .order_by(TimelineEvent.at, TimelineEvent.id)
    ):
        updates.setdefault(event.incident_id, []).append(event)
    promises: dict[int, list[Promise]] = {}
    for promise in session.scalars(
        select(Promise).where(Promise.incident_id.in_(ids)).order_by(Promise.made_at)
    ):
        promises.setdefault(promise.incident_id, []).append(promise)
    names = svc.component_names(session)
    by_severity = {s.value: counts.get(s, 0) for s in Severity}
    first: dict[str, list[timedelta]] = {s.value: [] for s in Severity}
    resolve: dict[str, list[timedelta]] = {s.value: [] for s in Severity}
    made = kept = missed = 0
    overdue = 0.0
    components: dict[str, dict[str, Any]] = {}
    for incident in reversed(rows):  # oldest first, as the period reads
        sev = incident.severity.value
        if incident.published_at is not None:
            first[sev].append(incident.published_at - incident.declared_at)
        if incident.status == IncidentStatus.RESOLVED and incident.resolved_at is not None:
            resolve[sev].append(incident.resolved_at - incident.declared_at)
        end = incident.resolved_at or now
        told = updates.get(incident.id, [])
        for row in promise_rows(promises.get(incident.id, []), [u.at for u in told], end):
            made += 1
            kept += row.kept is True
            missed += row.kept is False
            overdue += row.late_minutes
        for item in impact_of(told, end, dict(names)):
            entry = components.setdefault(item.component, {"incidents": 0, "minutes": {}})
            entry["incidents"] += 1
            for level, value in item.minutes.items():
                entry["minutes"][level] = round(entry["minutes"].get(level, 0.0) + value, 1)
    present = {sev: n for sev, n in by_severity.items() if n}
    return Stats(
        since=since,
        until=now,
        incidents=total,
        by_severity=present,
        first_update=Times.of([d for ds in first.values() for d in ds]),
        resolve=Times.of([d for ds in resolve.values() for d in ds]),
        first_update_by_severity={sev: Times.of(first[sev]) for sev in present},
        resolve_by_severity={sev: Times.of(resolve[sev]) for sev in present},
        promises_made=made,
        promises_kept=kept,
        promises_missed=missed,
        minutes_overdue=round(overdue, 1),
        components=components,
        covered=len(rows),
    )


def _times(times: Times) -> str:
    if not times.count:
        return "none yet"
    return f"median {times.median_minutes:g} min, p90 {times.p90_minutes:g} min ({times.count})"


def summary(stats: Stats, days: str) -> str:
    """The stats as lines for Slack or a terminal."""
    if not stats.incidents:
        return f"No incidents in the last {days}."
    severities = ", ".join(f"{sev} {n}" for sev, n in stats.by_severity.items())
    lines = [
        f"Last {days}: {stats.incidents} incident(s) — {severities}.",
        *(
            [
                f"(Times, promises and components are from the latest {stats.covered:,} of "
                f"the {stats.incidents:,}: a shorter period covers them all.)"
            ]
            if stats.capped
            else []
        ),
        f"Time to first public update: {_times(stats.first_update)}.",
        f"Time to resolve: {_times(stats.resolve)}.",
        f"Promises: {stats.promises_kept} kept of {stats.promises_made} made "
        f"({stats.promises_missed} missed, {stats.minutes_overdue:g} min overdue in all).",
    ]
    for sev in stats.by_severity:
        lines.append(
            f"  {sev}: first update {_times(stats.first_update_by_severity[sev])}; "
            f"resolve {_times(stats.resolve_by_severity[sev])}"
        )
    for name, entry in stats.components.items():
        levels = ", ".join(f"{lvl} {m:g} min" for lvl, m in entry["minutes"].items()) or "—"
        lines.append(f"  {name}: {entry['incidents']} incident(s); {levels}")
    return "\n".join(lines)
