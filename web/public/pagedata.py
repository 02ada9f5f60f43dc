"""What the public site shows, as plain frozen values (`PageData`): components, groups,
incidents and maintenance windows as the page, the API and the feeds present them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

from bot.incidents import PublishedUpdate
from bot.text.status import (
    COMPONENT_RANK,
    LEVEL_LABELS,
    STATUS_LABELS,
    ComponentStatus,
    MaintenanceStatus,
)
from web.public import uptime

IMPACT_LABELS = {
    "none": "No impact",
    "minor": "Minor",
    "major": "Major",
    "critical": "Critical",
    "maintenance": "Maintenance",
}


@dataclass(frozen=True, slots=True)
class ComponentView:
    id: str
    key: str
    name: str
    description: str | None
    status: ComponentStatus
    position: int
    group_id: str | None
    showcase: bool
    only_show_if_degraded: bool
    created_at: datetime
    updated_at: datetime
    uptime: uptime.Uptime

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.status]

    @property
    def shown(self) -> bool:
        return not (self.only_show_if_degraded and self.status == ComponentStatus.OPERATIONAL)


@dataclass(frozen=True)
class GroupView:
    id: str
    name: str
    position: int
    created_at: datetime
    updated_at: datetime
    components: tuple[ComponentView, ...]

    @property
    def status(self) -> ComponentStatus:
        return max(
            (c.status for c in self.components),
            key=COMPONENT_RANK.__getitem__,
            default=ComponentStatus.OPERATIONAL,
        )

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.status]


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident or a maintenance, as the page, the API and the feeds show it."""

    kind: str  # "incident" | "maintenance"
    public_id: str
    name: str
    status: str
    impact: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    updates: tuple[PublishedUpdate, ...]  # newest first
    components: tuple[ComponentView, ...]
    next_update_due: datetime | None = None
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status.replace("_", " ").capitalize())

    @property
    def impact_label(self) -> str:
        return IMPACT_LABELS.get(self.impact, self.impact)

    @property
    def finished(self) -> bool:
        return self.status in {"resolved", "completed"}

    @property
    def is_maintenance(self) -> bool:
        return self.kind == "maintenance"


@dataclass(frozen=True)
class PageData:
    name: str
    url: str
    time_zone: str
    page_id: str
    version: int
    updated_at: datetime
    now: datetime
    groups: tuple[GroupView, ...]
    # Top level in page order: a group, or a component outside any group.
    layout: tuple[GroupView | ComponentView, ...]
    components: tuple[ComponentView, ...]
    incidents: tuple[IncidentView, ...]  # public incidents, newest first
    maintenances: tuple[IncidentView, ...]  # newest window first
    indicator: str
    description: str

    def shortlink(self, public_id: str) -> str:
        return f"{self.url}/incidents/{public_id}"

    @property
    def open_incidents(self) -> tuple[IncidentView, ...]:
        return tuple(i for i in self.incidents if not i.finished)

    @property
    def active_maintenances(self) -> tuple[IncidentView, ...]:
        return tuple(
            sorted(
                (m for m in self.maintenances if m.status == MaintenanceStatus.IN_PROGRESS),
                key=lambda m: m.scheduled_for or m.created_at,
            )
        )

    @property
    def upcoming_maintenances(self) -> tuple[IncidentView, ...]:
        return tuple(
            sorted(
                (m for m in self.maintenances if m.status == MaintenanceStatus.SCHEDULED),
                key=lambda m: m.scheduled_for or m.created_at,
            )
        )

    @cached_property
    def by_public_id(self) -> Mapping[str, IncidentView]:
        """Every incident and maintenance by public id, built once per snapshot."""
        index: dict[str, IncidentView] = {}
        for item in (*self.incidents, *self.maintenances):
            index.setdefault(item.public_id, item)
        return index

    def find(self, public_id: str) -> IncidentView | None:
        """A lookup, not a scan: each incident-page request asks this."""
        return self.by_public_id.get(public_id)

    def history(self) -> tuple[IncidentView, ...]:
        """Incidents and finished maintenances, newest first by when they began."""
        done = (m for m in self.maintenances if m.finished)
        return tuple(sorted((*self.incidents, *done), key=_began, reverse=True))

    def recent_days(self, days: int = 7) -> list[tuple[date, list[IncidentView]]]:
        today = self.now.astimezone(UTC).date()
        by_day: dict[date, list[IncidentView]] = {}
        for item in self.history():
            by_day.setdefault(_began(item).astimezone(UTC).date(), []).append(item)
        return [
            (day, by_day.get(day, [])) for day in (today - timedelta(days=n) for n in range(days))
        ]


def _began(item: IncidentView) -> datetime:
    return item.scheduled_for if item.is_maintenance and item.scheduled_for else item.created_at
