"""The board as the team's internal dashboard: what changed (deploys), who is on call, and
how the providers we depend on are doing. Never shown on a public surface. README "The
board"."""

from bot.context.changes import (
    LINE_LIMIT,
    WINDOW,
    ChangeReport,
    changes_before,
    changes_between,
    check_report,
    count_between,
    describe_change,
    describe_changes,
    record_change,
    report_from_json,
)
from bot.context.oncall import (
    OnCall,
    claim_group_read,
    group_read_due,
    last_handoff,
    on_call,
    rotation_on_call,
    store_group,
)
from bot.context.providers import ProviderView, not_operational, poll_due

__all__ = [
    "LINE_LIMIT",
    "WINDOW",
    "ChangeReport",
    "OnCall",
    "ProviderView",
    "changes_before",
    "claim_group_read",
    "changes_between",
    "check_report",
    "count_between",
    "describe_change",
    "describe_changes",
    "group_read_due",
    "last_handoff",
    "not_operational",
    "on_call",
    "poll_due",
    "record_change",
    "report_from_json",
    "rotation_on_call",
    "store_group",
]
