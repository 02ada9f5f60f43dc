"""The status vocabulary, shared by the domain, the page, the API, subscriber notices and Slack.

Pure: the domain's enums (stored by value), Statuspage's wording, and the rules that
derive an incident's impact, the neutral title and the page's overall indicator from
component levels.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence


class Severity(enum.StrEnum):
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"


class IncidentStatus(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class ComponentStatus(enum.StrEnum):
    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"


# Worse statuses rank higher; maintenance ranks below any outage but above operational.
COMPONENT_RANK = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}


class MaintenanceStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class EventKind(enum.StrEnum):
    DECLARED = "declared"
    PUBLIC_UPDATE = "public_update"
    NOTE = "note"
    STATUS_CHANGE = "status_change"
    SEVERITY_CHANGE = "severity_change"
    ROLE_CHANGE = "role_change"
    COMPONENT_CHANGE = "component_change"
    TITLE_CHANGE = "title_change"
    VISIBILITY_CHANGE = "visibility_change"
    SNOOZE = "snooze"
    # A visible correction of published wording or the public title (the original stays).
    CORRECTION = "correction"


LEVEL_LABELS = {
    ComponentStatus.OPERATIONAL: "Operational",
    ComponentStatus.DEGRADED_PERFORMANCE: "Degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage",
    ComponentStatus.MAJOR_OUTAGE: "Major outage",
    ComponentStatus.UNDER_MAINTENANCE: "Under maintenance",
}
# Public status words of incidents and maintenance windows, as pages show them.
STATUS_LABELS = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "completed": "Completed",
}
IMPACT = {
    ComponentStatus.DEGRADED_PERFORMANCE: "minor",
    ComponentStatus.PARTIAL_OUTAGE: "major",
    ComponentStatus.MAJOR_OUTAGE: "critical",
}
INDICATOR_RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}
INDICATOR_TEXT = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}


def worst(levels: Iterable[ComponentStatus]) -> ComponentStatus | None:
    return max(levels, key=COMPONENT_RANK.__getitem__, default=None)


def impact(worst_level: ComponentStatus | None) -> str:
    """An incident's impact from its worst affected component; none affected → minor."""
    return IMPACT.get(worst_level, "minor") if worst_level else "minor"


def neutral_title(names: Sequence[str], worst_level: ComponentStatus | None) -> str:
    """The public title of an incident without one (README "Slack"): never the internal title."""
    if not names or worst_level is None or worst_level == ComponentStatus.OPERATIONAL:
        return "Service disruption"
    return f"{LEVEL_LABELS[worst_level]}: {', '.join(names)}"


def indicator(
    component_levels: Iterable[ComponentStatus],
    incident_impacts: Iterable[str],
    maintenance_active: bool = False,
) -> tuple[str, str]:
    """Statuspage's overall indicator: the worst of component levels and open impacts."""
    value = "maintenance" if maintenance_active else "none"
    for level in component_levels:
        own = (
            "maintenance"
            if level == ComponentStatus.UNDER_MAINTENANCE
            else IMPACT.get(level, "none")
        )
        value = max(value, own, key=INDICATOR_RANK.__getitem__)
    for item in incident_impacts:
        value = max(value, item, key=INDICATOR_RANK.__getitem__)
    return value, INDICATOR_TEXT[value]
