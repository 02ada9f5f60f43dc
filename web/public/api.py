"""The Atlassian Statuspage v2 public API, as real pages send it: pure builders, views → dicts.

Field names, order, enums and nesting follow what live Statuspage pages return (not only the
documentation's abridged examples), so widgets, exporters and aggregators work unchanged.
Times are ISO-8601 in UTC with milliseconds (`2026-11-25T14:00:00.000Z`).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from bot.incidents import PublishedUpdate
from bot.text.times import iso
from web.public.pagedata import (
    ComponentView,
    GroupView,
    IncidentView,
    PageData,
)

LIST_LIMIT = 50  # incidents.json and scheduled-maintenances.json: the 50 most recent


def page(data: PageData) -> dict[str, Any]:
    return {
        "id": data.page_id,
        "name": data.name,
        "url": data.url,
        "time_zone": data.time_zone,
        "updated_at": iso(data.updated_at),
    }


def status(data: PageData) -> dict[str, Any]:
    return {"indicator": data.indicator, "description": data.description}


def component(data: PageData, item: ComponentView, position: int) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "status": item.status.value,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "position": position,
        "description": item.description,
        "showcase": item.showcase,
        "start_date": item.created_at.astimezone(UTC).date().isoformat(),
        "group_id": item.group_id,
        "page_id": data.page_id,
        "group": False,
        "only_show_if_degraded": item.only_show_if_degraded,
    }


def group(data: PageData, item: GroupView, position: int) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "status": item.status.value,
        "created_at": iso(item.created_at),
        "updated_at": iso(max(item.updated_at, *(c.updated_at for c in item.components))),
        "position": position,
        "description": None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": data.page_id,
        "group": True,
        "only_show_if_degraded": False,
        "components": [c.id for c in item.components],
    }


def components(data: PageData) -> list[dict[str, Any]]:
    """Top-level rows numbered in page order; a group row is followed by its members,
    which are numbered within the group (as Statuspage numbers them)."""
    rows: list[dict[str, Any]] = []
    for position, item in enumerate(data.layout, start=1):
        if isinstance(item, GroupView):
            rows.append(group(data, item, position))
            rows.extend(
                component(data, member, n) for n, member in enumerate(item.components, start=1)
            )
        else:
            rows.append(component(data, item, position))
    return rows


def _positions(data: PageData) -> dict[str, int]:
    positions: dict[str, int] = {}
    for position, item in enumerate(data.layout, start=1):
        if isinstance(item, GroupView):
            positions.update({m.id: n for n, m in enumerate(item.components, start=1)})
        else:
            positions[item.id] = position
    return positions


def update(item: IncidentView, entry: PublishedUpdate) -> dict[str, Any]:
    return {
        "id": entry.id,
        "status": entry.status,
        "body": entry.body,
        "incident_id": item.public_id,
        "created_at": iso(entry.at),
        "updated_at": iso(entry.at),
        "display_at": iso(entry.at),
        "affected_components": [
            {
                "code": a.code,
                "name": a.name,
                "old_status": a.old_status,
                "new_status": a.new_status,
            }
            for a in entry.affected
        ]
        or None,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident(data: PageData, item: IncidentView) -> dict[str, Any]:
    positions = _positions(data)
    doc: dict[str, Any] = {
        "id": item.public_id,
        "name": item.name,
        "status": item.status,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "monitoring_at": iso(item.monitoring_at),
        "resolved_at": iso(item.resolved_at),
        "impact": item.impact,
        "shortlink": data.shortlink(item.public_id),
        "started_at": iso(item.started_at),
        "page_id": data.page_id,
        "incident_updates": [update(item, u) for u in item.updates],
        "components": [component(data, c, positions.get(c.id, 0)) for c in item.components],
    }
    if item.is_maintenance:
        doc["scheduled_for"] = iso(item.scheduled_for)
        doc["scheduled_until"] = iso(item.scheduled_until)
    else:
        doc["reminder_intervals"] = None  # current pages send it (null) on incidents
    return doc


def _open_maintenances(data: PageData) -> list[IncidentView]:
    return [*data.active_maintenances, *data.upcoming_maintenances]


# --- the eight documents ------------------------------------------------------------------


def summary_doc(data: PageData) -> dict[str, Any]:
    """Never lists resolved incidents or completed maintenance."""
    return {
        "page": page(data),
        "components": components(data),
        "incidents": [incident(data, i) for i in data.open_incidents],
        "scheduled_maintenances": [incident(data, m) for m in _open_maintenances(data)],
        "status": status(data),
    }


def status_doc(data: PageData) -> dict[str, Any]:
    return {"page": page(data), "status": status(data)}


def components_doc(data: PageData) -> dict[str, Any]:
    return {"page": page(data), "components": components(data)}


def incidents_doc(data: PageData) -> dict[str, Any]:
    return {
        "page": page(data),
        "incidents": [incident(data, i) for i in data.incidents[:LIST_LIMIT]],
    }


def unresolved_doc(data: PageData) -> dict[str, Any]:
    return {"page": page(data), "incidents": [incident(data, i) for i in data.open_incidents]}


def maintenances_doc(data: PageData) -> dict[str, Any]:
    return {
        "page": page(data),
        "scheduled_maintenances": [incident(data, m) for m in data.maintenances[:LIST_LIMIT]],
    }


def upcoming_doc(data: PageData) -> dict[str, Any]:
    return {
        "page": page(data),
        "scheduled_maintenances": [incident(data, m) for m in data.upcoming_maintenances],
    }


def active_doc(data: PageData) -> dict[str, Any]:
    return {
        "page": page(data),
        "scheduled_maintenances": [incident(data, m) for m in data.active_maintenances],
    }


DOCUMENTS = {
    "/api/v2/summary.json": summary_doc,
    "/api/v2/status.json": status_doc,
    "/api/v2/components.json": components_doc,
    "/api/v2/incidents.json": incidents_doc,
    "/api/v2/incidents/unresolved.json": unresolved_doc,
    "/api/v2/scheduled-maintenances.json": maintenances_doc,
    "/api/v2/scheduled-maintenances/upcoming.json": upcoming_doc,
    "/api/v2/scheduled-maintenances/active.json": active_doc,
}
