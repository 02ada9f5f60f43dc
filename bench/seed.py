"""A realistic page for benchmarks: 20 components, 3 open incidents with 10 updates each,
and N past incidents spread over the last months. Deterministic (fixed clock and texts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from bot import incidents as svc
from bot.config import ComponentConfig, Settings
from bot.db.models import (
    ComponentStatusChange,
    Incident,
    IncidentComponent,
    Promise,
    TimelineEvent,
    new_public_id,
)
from bot.db.state import bump_version
from bot.runtime import Runtime
from bot.text.status import ComponentStatus, IncidentStatus, Severity
from tests.support.factories import responder

GROUPS = ["Platform", "Payments", "Messaging", "Data"]
COMPONENTS = tuple(
    ComponentConfig(key=f"c{i:02d}", name=f"Component {i:02d}", group=GROUPS[i % 4])
    for i in range(20)
)
LEVELS = [
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
]


def write_config(path: Path) -> Path:
    """The same page as `flare.toml`, so `flare web` (which syncs components at start) agrees."""
    lines = ["[page]", 'name = "Bench Corp"', ""]
    for item in COMPONENTS:
        lines += ["[[components]]", f'key = "{item.key}"', f'name = "{item.name}"']
        lines += [f'group = "{item.group}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def bench_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        components=COMPONENTS,
        page_name="Bench Corp",
        public_url="http://127.0.0.1:8000",
    )


def seed(
    runtime: Runtime, *, past: int = 500, now: datetime | None = None, open_incidents: int = 3
) -> None:
    settings = runtime.settings
    keys = [c.key for c in settings.components]
    now = now or datetime.now(UTC)
    start = now - timedelta(days=85)
    step = (now - timedelta(days=1) - start) / max(past, 1)
    with runtime.sessions.begin() as session:
        svc.sync_components(session, settings, start)
    for n in range(past):
        at = start + step * n
        with runtime.sessions.begin() as session:
            incident, _ = svc.declare(
                session,
                settings,
                title=f"Past incident {n}",
                actor=responder("U0BENCH"),
                now=at,
                severity=Severity.SEV3,
            )
            key = keys[n % len(keys)]
            svc.publish_update(
                session,
                settings,
                incident,
                message=f"Investigating issue {n} with {key}.",
                actor=responder("U0BENCH"),
                now=at,
                components={key: LEVELS[n % 3]},
                force=True,
            )
            svc.publish_update(
                session,
                settings,
                incident,
                message="A fix has been implemented.",
                actor=responder("U0BENCH"),
                now=at + timedelta(minutes=20),
                force=True,
                status=IncidentStatus.MONITORING,
            )
            svc.resolve(
                session,
                settings,
                incident,
                actor=responder("U0BENCH"),
                now=at + timedelta(minutes=40),
                message="This incident has been resolved.",
            )
    for n in range(open_incidents):
        at = now - timedelta(hours=3)
        with runtime.sessions.begin() as session:
            incident, _ = svc.declare(
                session,
                settings,
                title=f"Open incident {n}",
                actor=responder("U0BENCH"),
                now=at,
                severity=Severity.SEV2,
            )
            for u in range(10):
                svc.publish_update(
                    session,
                    settings,
                    incident,
                    actor=responder("U0BENCH"),
                    force=True,
                    now=at + timedelta(minutes=15 * u),
                    message=f"Update {u}: we are still working on elevated error rates "
                    f"for component {n}. " * 3,
                    components={keys[n % len(keys)]: LEVELS[n % 3]},
                )


def clone_past(runtime: Runtime, total: int, *, batch: int = 1000) -> int:
    """Grow the resolved history to `total` incidents by copying the seeded ones further back.

    The services write ~45 ms of ORM work per incident, so 10,000 would take minutes; copies
    of the real rows (incident, updates, affected components, promises, status changes),
    each generation shifted another 85 days into the past, take seconds and have the same
    shape. Returns how many incidents were added.
    """
    tables: list[Any] = [TimelineEvent, IncidentComponent, Promise, ComponentStatusChange]
    with runtime.sessions.begin() as session:
        resolved = list(
            session.scalars(
                select(Incident)
                .where(Incident.status == IncidentStatus.RESOLVED)
                .order_by(Incident.id)
            )
        )
        if not resolved:
            return 0
        children = {
            table: session.execute(
                select(table.__table__).where(
                    table.__table__.c.incident_id.in_([i.id for i in resolved])
                )
            )
            .mappings()
            .all()
            for table in tables
        }
        next_id = int(session.scalar(select(func.max(Incident.id))) or 0) + 1
        next_number = int(session.scalar(select(func.max(Incident.number))) or 0) + 1
    wanted = max(0, total - len(resolved))
    columns = Incident.__table__.c
    added = 0
    generation = 0
    while added < wanted:
        generation += 1
        shift = timedelta(days=85 * generation)
        new_rows: dict[Any, list[dict[str, Any]]] = {Incident: [], **{t: [] for t in tables}}
        id_map: dict[int, int] = {}
        for incident in resolved:
            if added >= wanted:
                break
            row = {c.key: getattr(incident, c.key) for c in columns}
            row.update(id=next_id, number=next_number, public_id=new_public_id())
            for key, value in list(row.items()):
                if isinstance(value, datetime):
                    row[key] = value - shift
            id_map[incident.id] = next_id
            new_rows[Incident].append(row)
            next_id += 1
            next_number += 1
            added += 1
        for table in tables:
            for child in children[table]:
                if child["incident_id"] not in id_map:
                    continue
                item = dict(child)
                item["incident_id"] = id_map[child["incident_id"]]
                if "id" in item and table is not IncidentComponent:
                    item.pop("id")
                if "public_id" in item:
                    item["public_id"] = new_public_id()
                for key, value in list(item.items()):
                    if isinstance(value, datetime):
                        item[key] = value - shift
                new_rows[table].append(item)
        with runtime.sessions.begin() as session:
            for table, rows in new_rows.items():
                for start in range(0, len(rows), batch):
                    if rows[start : start + batch]:
                        session.execute(insert(table.__table__), rows[start : start + batch])
            bump_version(session, datetime.now(UTC))
    if runtime.engine.dialect.name == "postgresql":
        with runtime.sessions.begin() as session:
            session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('incidents', 'id'), max(id)) "
                    "FROM incidents"
                )
            )
    return added
