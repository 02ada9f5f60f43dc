"""Incidents: their lifecycle, public updates, component levels, promises, maintenance and
reminders. Services take a session and never commit: the caller owns the transaction.

This package's public face is what it exports here; other features import `bot.incidents`,
never its modules (`make lint` checks it).
"""

from bot.incidents.access import (
    CLI,
    CLI_ACTOR,
    FLARE_ACTOR,
    MONITORING,
    MONITORING_ACTOR,
    SYSTEM_ACTORS,
    Actor,
    actor_for,
    who_may,
)
from bot.incidents.components import ManualResult, set_manual_level, sync_components
from bot.incidents.events import notify_subscribers, record_event
from bot.incidents.guards import check_hygiene, require_open
from bot.incidents.levels import (
    Hold,
    LevelChange,
    announce,
    covered_components,
    describe_holds,
    holds,
    lock_components,
    recompute,
)
from bot.incidents.lifecycle import (
    add_note,
    assign_role,
    declare,
    mark_internal,
    set_public_title,
    set_severity,
    snooze,
)
from bot.incidents.maintenance import open_maintenances, schedule_maintenance
from bot.incidents.maintenance_changes import (
    cancel_maintenance,
    extend_maintenance,
    get_maintenance,
    reschedule_maintenance,
)
from bot.incidents.promises import (
    PromiseRecord,
    expire_promises,
    promise_record,
    promise_records,
)
from bot.incidents.queries import (
    components_by_key,
    get_incident,
    incident_components,
    open_incidents,
    timeline,
)
from bot.incidents.reminders import (
    ReminderTarget,
    reminder_is_stale,
    reminder_targets,
    target_is_stale,
)
from bot.incidents.replay import (
    Change,
    PublishedUpdate,
    Replay,
    ReplayCache,
    component_names,
    incident_name,
    maintenance_updates,
    page_indicator,
    published_events,
    replay_events,
    replays,
)
from bot.incidents.sweeps import Swept, sweep
from bot.incidents.updates import (
    DEFAULT_RESOLVED,
    NOTHING_NEW,
    NOTHING_NEW_BY_STATUS,
    nothing_new,
    publish_update,
    resolve,
)

__all__ = [
    "CLI",
    "FLARE_ACTOR",
    "MONITORING",
    "MONITORING_ACTOR",
    "SYSTEM_ACTORS",
    "Actor",
    "Hold",
    "LevelChange",
    "ManualResult",
    "actor_for",
    "announce",
    "covered_components",
    "describe_holds",
    "holds",
    "lock_components",
    "recompute",
    "set_manual_level",
    "who_may",
    "open_maintenances",
    "cancel_maintenance",
    "extend_maintenance",
    "get_maintenance",
    "reschedule_maintenance",
    "ReminderTarget",
    "reminder_is_stale",
    "reminder_targets",
    "target_is_stale",
    "schedule_maintenance",
    "Swept",
    "sweep",
    "Change",
    "PublishedUpdate",
    "Replay",
    "ReplayCache",
    "component_names",
    "incident_name",
    "maintenance_updates",
    "page_indicator",
    "published_events",
    "replay_events",
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
    "promise_records",
    "publish_update",
    "notify_subscribers",
    "record_event",
    "require_open",
    "resolve",
    "set_public_title",
    "set_severity",
    "snooze",
    "sync_components",
    "timeline",
]
