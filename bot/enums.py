"""The domain's vocabularies, stored by value. Pure: imported by every floor."""

from __future__ import annotations

import enum


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
