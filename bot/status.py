"""The public status vocabulary, shared by the page, the API, subscriber notices and Slack.

Pure: Statuspage's enums and wording, and the rules that derive an incident's impact, the
neutral title and the page's overall indicator from component levels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.enums import COMPONENT_RANK, ComponentStatus

LEVEL_LABELS = {
    ComponentStatus.OPERATIONAL: "Operational",
    ComponentStatus.DEGRADED_PERFORMANCE: "Degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage",
    ComponentStatus.MAJOR_OUTAGE: "Major outage",
    ComponentStatus.UNDER_MAINTENANCE: "Under maintenance",
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
    """The public title of an incident without one (SPEC §4): never the internal title."""
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
