"""`/incident changes [2h]` and `/incident oncall`: the internal dashboard's answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import context
from bot.commands.base import Context, Reply, handles
from bot.config import Settings
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


def on_call_commander(session: Session, settings: Settings, now: datetime) -> str | None:
    """Who a declare without a named commander makes commander: the on-call person, when
    `[oncall]` is configured and known."""
    who = context.on_call(session, settings, now)
    return who.commander if who else None


@handles("oncall")
def oncall(ctx: Context, command: Command) -> Reply:
    config = ctx.settings.oncall
    if config is None:
        return Reply("No on-call is configured (`[oncall]` in flare.toml; see docs/dashboard.md).")
    who = context.on_call(ctx.session, ctx.settings, ctx.now)
    if who is None:
        return Reply(
            "The on-call user group has not been read from Slack yet; "
            "the worker reads it every 5 minutes."
        )
    if not who.people:
        return Reply("The on-call user group is empty: nobody is on call.")
    people = ", ".join(ctx.style.user(p) for p in who.people)
    if who.next_handoff is not None:
        handoff = ctx.style.time(who.next_handoff)
        return Reply(f"On call now: {people} (weekly rotation; next handoff {handoff}).")
    assert who.as_of is not None
    return Reply(f"On call now: {people} (user group, as read {ctx.style.time(who.as_of)}).")
