"""Signals from Alertmanager (payload version "4") and Grafana (version "1"): parsed,
keyed, mapped to components, and stored. A repeated payload changes nothing.

Internal only: signals show on the board, in #incidents and the CLI, and reach the public
page solely through a component's `auto` policy (bot.monitoring.episodes).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Signal
from bot.errors import InvalidInput
from bot.text.status import ComponentStatus

VERSIONS = {"4": "alertmanager", "1": "grafana"}
# A firing alert no payload repeated for this long has stopped (its resolve was lost, or its
# rule was deleted): Alertmanager re-sends every firing alert each `repeat_interval` (4 h by
# default), so this is three missed repeats. README "Monitoring" says so.
ALERT_SILENCE = timedelta(hours=12)
HEARD_EVERY = timedelta(hours=1)  # how often a repeated payload refreshes `heard_at`
MAX_ALERTS = 5000  # a 1 MiB body cannot hold many more; bounded anyway
LEVEL_WORDS = {
    "operational": None,
    "degraded": ComponentStatus.DEGRADED_PERFORMANCE,
    "degraded_performance": ComponentStatus.DEGRADED_PERFORMANCE,
    "partial": ComponentStatus.PARTIAL_OUTAGE,
    "partial_outage": ComponentStatus.PARTIAL_OUTAGE,
    "major": ComponentStatus.MAJOR_OUTAGE,
    "major_outage": ComponentStatus.MAJOR_OUTAGE,
}
SEVERITY_LEVELS = {
    "critical": ComponentStatus.MAJOR_OUTAGE,
    "page": ComponentStatus.MAJOR_OUTAGE,
    "error": ComponentStatus.PARTIAL_OUTAGE,
    "high": ComponentStatus.PARTIAL_OUTAGE,
}


@dataclass(frozen=True)
class Alert:
    key: str  # the fingerprint (or a hash of the sorted labels); see signal_key
    name: str
    firing: bool
    labels: dict[str, str]
    summary: str | None
    ends_at: datetime | None = None  # `endsAt`, when the monitor says it stops (if it does)

    def firing_at(self, now: datetime) -> bool:
        return self.firing and (self.ends_at is None or self.ends_at > now)


@dataclass(frozen=True)
class Batch:
    source: str
    alerts: tuple[Alert, ...]
    truncated: int


_CONTROL = re.compile("[\x00-\x1f\x7f]")
MAX_LABELS = 64  # labels kept of one alert (Alertmanager's are a handful)
MAX_ALERT_BYTES = 8 * 1024  # label keys and values kept of one alert, in characters


def clean(value: object, limit: int) -> str:
    """A machine-sent string made safe to store: control characters (NUL, which PostgreSQL
    refuses, newlines, escapes) become spaces; at most `limit` characters."""
    return _CONTROL.sub(" ", str(value)[:limit])


def _strings(value: object, what: str) -> dict[str, str]:
    """A label or annotation object as strings, bounded: at most MAX_LABELS entries and
    MAX_ALERT_BYTES characters in all; what lies beyond is dropped, not refused (one noisy
    alert does not cost its group)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be an object")
    kept: dict[str, str] = {}
    size = 0
    for k, v in value.items():
        key, text = clean(k, 200), clean(v, 500)
        size += len(key) + len(text)
        if len(kept) >= MAX_LABELS or size > MAX_ALERT_BYTES:
            break
        kept[key] = text
    return kept


def parse_payload(data: Mapping[str, Any]) -> Batch:
    """A webhook body (already a JSON object) as a Batch, or InvalidInput saying why not.
    Fields neither project documents as required are ignored; an empty `alerts` is fine."""
    version = data.get("version")
    if not isinstance(version, str) or version not in VERSIONS:
        raise InvalidInput('unknown payload: "version" must be "4" (Alertmanager) or "1" (Grafana)')
    items = data.get("alerts")
    if not isinstance(items, list):
        raise InvalidInput('"alerts" must be a list')
    if len(items) > MAX_ALERTS:
        raise InvalidInput(f"at most {MAX_ALERTS} alerts in one payload")
    truncated = data.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise InvalidInput('"truncatedAlerts" must be a whole number')
    alerts = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput(f"alerts[{n}] must be an object")
        status = item.get("status")
        if status not in ("firing", "resolved"):
            raise InvalidInput(f'alerts[{n}].status must be "firing" or "resolved"')
        labels = _strings(item.get("labels"), f"alerts[{n}].labels")
        annotations = item.get("annotations") or {}
        if not isinstance(annotations, dict):
            raise InvalidInput(f"alerts[{n}].annotations must be an object")
        fingerprint = item.get("fingerprint")
        if isinstance(fingerprint, str):
            fingerprint = clean(fingerprint, 100).strip()
        if not isinstance(fingerprint, str) or not fingerprint:
            fingerprint = hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[
                :16
            ]
        key = fingerprint
        summary = annotations.get("summary") or annotations.get("description")
        summary = clean(summary, 500) if summary else None
        # The last word on one alert in a payload wins (a group lists each alert once).
        alerts[key] = Alert(
            key=key,
            name=labels.get("alertname") or "alert",
            firing=status == "firing",
            labels=labels,
            summary=summary,
            ends_at=_time(item.get("endsAt")),
        )
    return Batch(VERSIONS[version], tuple(alerts.values()), truncated)


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _time(value: object) -> datetime | None:
    """An RFC 3339 time as both projects write it (nanoseconds too); None for Go's zero
    time "0001-01-01T00:00:00Z" and anything unreadable (endsAt only refines `status`)."""
    if not isinstance(value, str) or value.startswith("0001-"):
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()[:64]))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def component_for(settings: Settings, labels: Mapping[str, str]) -> str | None:
    """The first FLARE_SIGNAL_LABELS label naming a component key, else the first
    `[[signals.map]]` rule whose matchers all match, else None (unmapped)."""
    keys = settings.component_keys()
    for name in settings.signal_labels:
        value = (labels.get(name) or "").strip().lower()
        if value in keys:
            return value
    for rule in settings.signal_maps:
        if rule.matches(labels):
            return rule.component
    return None


def level_for(labels: Mapping[str, str]) -> ComponentStatus:
    """`flare_level` if it is a level word; else from `severity`; else degraded."""
    word = (labels.get("flare_level") or "").strip().lower()
    if LEVEL_WORDS.get(word) is not None:
        return LEVEL_WORDS[word]  # type: ignore[return-value]
    severity = (labels.get("severity") or "").strip().lower()
    return SEVERITY_LEVELS.get(severity, ComponentStatus.DEGRADED_PERFORMANCE)


def signal_key(source: str, component: str | None, fingerprint: str) -> str:
    return f"alert:{source}:{component or '-'}:{fingerprint}"[:200]


@dataclass
class Ingested:
    firing: int = 0
    resolved: int = 0
    unmapped: int = 0
    changed: int = 0
    components: set[str] | None = None

    def answer(self, truncated: int) -> dict[str, Any]:
        return {
            "status": "ok",
            "firing": self.firing,
            "resolved": self.resolved,
            "unmapped": self.unmapped,
            "changed": self.changed,
            "truncated": truncated,
        }


def ingest(
    session: Session, settings: Settings, batch: Batch, now: datetime, chunk: int = 400
) -> Ingested:
    """Store the batch's alerts; the components whose signals changed are in `.components`.
    An alert that says what its row says already changes nothing (idempotent). Keys are
    handled in sorted order, so concurrent payloads lock shared rows in the same order."""
    result = Ingested(components=set())
    # A firing alert whose endsAt has passed has stopped (Alertmanager's own rule). Each
    # alert's row is keyed by its source, component and fingerprint: two monitors (or two
    # components) sharing a fingerprint never overwrite each other.
    alerts = sorted(
        (
            replace(
                a,
                firing=a.firing_at(now),
                key=signal_key(batch.source, component_for(settings, a.labels), a.key),
            )
            for a in batch.alerts
        ),
        key=lambda a: a.key,
    )
    for start in range(0, len(alerts), chunk):
        _ingest_chunk(session, settings, batch.source, alerts[start : start + chunk], now, result)
    return result


def _ingest_chunk(
    session: Session,
    settings: Settings,
    source: str,
    alerts: Sequence[Alert],
    now: datetime,
    result: Ingested,
) -> None:
    mapped = {a.key: component_for(settings, a.labels) for a in alerts}
    for alert in alerts:
        result.unmapped += mapped[alert.key] is None
        result.firing += alert.firing
        result.resolved += not alert.firing
    # Read first without locking: a repeated payload (Alertmanager repeats every group)
    # then writes nothing and waits for nobody.
    known = {
        row.key: row
        for row in session.execute(
            select(*_COMPARED).where(Signal.key.in_([a.key for a in alerts]))
        )
    }
    # A firing alert never heard before is inserted as it is, in one statement; a resolved
    # alert Flare never heard firing is not stored (there is nothing to end).
    fresh: list[dict[str, Any]] = [
        {
            "key": a.key,
            "source": source,
            "name": a.name[:200],
            "component_key": mapped[a.key],
            "level": level_for(a.labels),
            "summary": a.summary,
            "labels": a.labels,
            "firing": True,
            "since": now,
            "ended_at": None,
            "updated_at": now,
            "ends_at": a.ends_at,
            "heard_at": now,
            "seen_at": None,
        }
        for a in alerts
        if a.firing and a.key not in known
    ]
    inserted = _insert_new(session, fresh)
    for alert in alerts:
        if alert.key in inserted:
            _changed(result, mapped[alert.key], None)
    # Rows that differ from what the alert says (or that a concurrent payload inserted
    # meanwhile): locked in key order, read afresh and updated.
    rest = [
        a.key
        for a in alerts
        if a.key not in inserted
        and (a.key not in known or _differs(known[a.key], a, mapped[a.key], now))
        and (a.firing or a.key in known)
    ]
    if not rest:
        return
    rows = {
        s.key: s
        for s in session.scalars(
            select(Signal)
            .where(Signal.key.in_(rest))
            .order_by(Signal.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    for alert in alerts:
        row = rows.get(alert.key)
        if row is None:
            continue
        before = row.component_key
        if _apply(row, alert, mapped[alert.key], now):
            _changed(result, mapped[alert.key], before)


_COMPARED = (
    Signal.key,
    Signal.firing,
    Signal.component_key,
    Signal.level,
    Signal.name,
    Signal.summary,
    Signal.labels,
    Signal.ends_at,
    Signal.heard_at,
)


def _differs(row: Any, alert: Alert, component: str | None, now: datetime) -> bool:
    return (
        row.firing != alert.firing
        or (alert.firing and row.ends_at != alert.ends_at)
        or (alert.firing and (row.heard_at is None or now - row.heard_at >= HEARD_EVERY))
        or row.component_key != component
        or row.level != level_for(alert.labels)
        or row.name != alert.name[:200]
        or row.summary != alert.summary
        or row.labels != alert.labels
    )


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """INSERT … ON CONFLICT DO NOTHING as one executemany (compiled once, sent in batches):
    the keys actually inserted."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Signal).on_conflict_do_nothing(index_elements=["key"]).returning(Signal.key)
    return set(session.scalars(stmt, rows))


def _changed(result: Ingested, component: str | None, before: str | None) -> None:
    result.changed += 1
    for key in (component, before):
        if key and result.components is not None:
            result.components.add(key)


def _apply(row: Signal, alert: Alert, component: str | None, now: datetime) -> bool:
    level = level_for(alert.labels)
    touched = False
    if alert.firing and not row.firing:
        row.firing, row.since, row.ended_at, row.seen_at = True, now, None, None
        touched = True
    elif not alert.firing and row.firing:
        row.firing, row.ended_at, row.ends_at = False, now, None
        touched = True
    if alert.firing:
        row.heard_at = now  # heard again: not a change anybody sees
        if row.ends_at != alert.ends_at:
            row.ends_at = alert.ends_at
    values = {
        "component_key": component,
        "level": level,
        "name": alert.name[:200],
        "summary": alert.summary,
        "labels": alert.labels,
    }
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            touched = True
    if touched:
        row.updated_at = now
    return touched


def firing_signals(session: Session, keys: Iterable[str] | None = None) -> list[Signal]:
    """Firing signals (of the given component keys; None = all, unmapped included)."""
    query = select(Signal).where(Signal.firing.is_(True)).order_by(Signal.since, Signal.id)
    if keys is not None:
        query = query.where(Signal.component_key.in_(list(keys)))
    return list(session.scalars(query))
