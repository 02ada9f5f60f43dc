"""Reading what Slack sends: modal state values, the clicked button's value, and the
update form prefilled from the incident. Pure helpers for the listeners.
"""

from __future__ import annotations

from typing import Any

from bot import incidents as svc
from bot.db.engine import read_only
from bot.errors import InvalidInput
from bot.runtime import Runtime
from bot.slack import modals
from bot.text.durations import parse_count
from bot.text.status import ComponentStatus, IncidentStatus


def values_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    state = (body.get("view") or {}).get("state") or {}
    return {block: data.get("value", {}) for block, data in (state.get("values") or {}).items()}


def text_value(values: dict[str, dict[str, Any]], block: str) -> str | None:
    value = (values.get(block) or {}).get("value")
    return value.strip() if isinstance(value, str) and value.strip() else None


def selected(values: dict[str, dict[str, Any]], block: str) -> str | None:
    option = (values.get(block) or {}).get("selected_option") or {}
    return option.get("value")


def multi(values: dict[str, dict[str, Any]], block: str) -> list[str]:
    return [o["value"] for o in (values.get(block) or {}).get("selected_options") or []]


def user_value(values: dict[str, dict[str, Any]], block: str) -> str | None:
    return (values.get(block) or {}).get("selected_user")


def number_of(body: dict[str, Any]) -> int:
    """The incident number a button carries (ASCII digits only; anything else is refused)."""
    number = parse_count(str(body["actions"][0].get("value") or ""))
    if number is None:
        raise InvalidInput("That button does not name an incident.")
    return number


def update_modal_for(
    runtime: Runtime,
    number: int,
    *,
    message: str | None = None,
    status: IncidentStatus | None = None,
    levels: dict[str, ComponentStatus] | None = None,
) -> dict[str, Any]:
    with read_only(runtime.sessions) as session:
        incident = svc.get_incident(session, number)
        current = {
            link.component.key: link.status for link in svc.incident_components(session, incident)
        }
        current.update(levels or {})
        visible = [(c.key, c.name) for c in svc.components_by_key(session).values()]
        order = {c.key: i for i, c in enumerate(runtime.settings.components)}
        visible.sort(key=lambda kv: order.get(kv[0], 999))
        return modals.update_modal(
            number=incident.number,
            title=incident.title,
            status=status or incident.status,
            public_title=incident.public_title,
            components=visible,
            levels=current,
            cadence=runtime.settings.cadence_for(incident.severity),
            message=message,
        )


def correct_modal_for(runtime: Runtime, number: int) -> dict[str, Any]:
    """The correction form, prefilled with what the latest public update says now."""
    from bot import records
    from bot.text.times import hhmm

    with read_only(runtime.sessions) as session:
        incident = svc.get_incident(session, number)
        latest = records.latest_public_update(session, incident)
        if latest is None or incident.internal_only:
            raise InvalidInput(f"{incident.ref} has no public update to correct.")
        return modals.correct_modal(
            incident.number,
            records.current_wording(latest),
            published=f"published {hhmm(latest.at)}",
            event_id=latest.id,
        )
