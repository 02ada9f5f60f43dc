"""`/incident changes [2h]` and `/incident oncall`: the internal dashboard's answers."""

from __future__ import annotations

from bot import context
from bot.commands.base import Context, Reply, handles
from bot.text.grammar import Command


@handles("changes")
def changes(ctx: Context, command: Command) -> Reply:
    since = command.since or context.WINDOW
    start = ctx.now - since
    rows = context.changes_between(ctx.session, start, ctx.now)
    if not rows:
        return Reply(f"No changes recorded in the last {_period(command)}.")
    total = context.count_between(ctx.session, start, ctx.now)
    lines = context.describe_changes(rows, ctx.style, total=total)
    return Reply(f"Changes in the last {_period(command)}:\n" + "\n".join(lines))


def _period(command: Command) -> str:
    seconds = int((command.since or context.WINDOW).total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400} d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
