"""Incidents: their lifecycle, public updates, component levels, promises, maintenance and
reminders. Services take a session and never commit: the caller owns the transaction.

This package's public face is what it exports here; other features import `bot.incidents`,
never its modules (`make lint` checks it).
"""

from bot.incidents.access import CLI_ACTOR, require_responder
from bot.incidents.components import sync_components
from bot.incidents.events import record_event
from bot.incidents.guards import check_hygiene, require_open
from bot.incidents.levels import set_component, set_component_status, worst_open_level
from bot.incidents.lifecycle import (
    add_note,
    assign_role,
    declare,
    mark_internal,
    set_public_title,
    set_severity,
    snooze,
)
from bot.incidents.maintenance import schedule as schedule_maintenance
from bot.incidents.maintenance import upcoming_and_active as open_maintenances
from bot.incidents.promises import PromiseRecord, expire_promises, promise_record
from bot.incidents.queries import (
    components_by_key,
    get_incident,
    incident_components,
    open_incidents,
    timeline,
)
from bot.incidents.reminders import is_stale as reminder_is_stale
from bot.incidents.replay import (
    Change,
    PublishedUpdate,
    Replay,
    ReplayCache,
    published_events,
    replay,
    replays,
)
from bot.incidents.sweeps import sweep
from bot.incidents.updates import (
    DEFAULT_RESOLVED,
    NOTHING_NEW,
    NOTHING_NEW_BY_STATUS,
    nothing_new,
    publish_update,
    resolve,
)

__all__ = [
    "open_maintenances",
    "reminder_is_stale",
    "schedule_maintenance",
    "sweep",
    "Change",
    "PublishedUpdate",
    "Replay",
    "ReplayCache",
    "published_events",
    "replay",
    "replays",
    "CLI_ACTOR",
    "DEFAULT_RESOLVED",
    "NOTHING_NEW",
    "NOTHING_NEW_BY_STATUS",
    "PromiseRecord",
    "add_note",
    "assign_role",
    "check_hygiene",
    "components_by_key",
    "declare",
    "expire_promises",
    "get_incident",
    "incident_components",
    "mark_internal",
    "nothing_new",
    "open_incidents",
    "promise_record",
    "publish_update",
    "record_event",
    "require_open",
    "require_responder",
    "resolve",
    "set_component",
    "set_component_status",
    "set_public_title",
    "set_severity",
    "snooze",
    "sync_components",
    "timeline",
    "worst_open_level",
]
