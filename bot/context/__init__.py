"""The board as the team's internal dashboard: what changed (deploys), who is on call, and
how the providers we depend on are doing. Never shown on a public surface. README "The
board"."""

from bot.context.changes import (
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

__all__ = [
    "WINDOW",
    "ChangeReport",
    "changes_before",
    "changes_between",
    "check_report",
    "count_between",
    "describe_change",
    "describe_changes",
    "record_change",
    "report_from_json",
]
