"""The sub-commands about the page beyond one incident: a component's level set by hand,
scheduled maintenance, subscribers."""

from __future__ import annotations

from bot import incidents as svc
from bot import subscribers
from bot.commands.base import Context, Reply, handles
from bot.commands.records import change_maintenance
from bot.text.grammar import Command
from bot.text.status import LEVEL_LABELS


@handles("component", checks_responder=True)
def component(ctx: Context, command: Command) -> Reply:
    assert command.key and command.level
    result = svc.set_manual_level(
        ctx.session, key=command.key, level=command.level, actor=ctx.actor, now=ctx.now
    )
    name = result.component.name
    now_shows = LEVEL_LABELS[result.component.status]
    if result.changes:
        change = result.changes[0]
        text = f"{name}: {LEVEL_LABELS[change.old]} → {LEVEL_LABELS[change.new]} on the page."
    else:
        text = f"{name} stays {now_shows} on the page."
    if result.held_by:
        text += f" Also held by {svc.describe_holds(result.held_by)}: the worst level shows."
    return Reply(text)


@handles("maintenance", checks_responder=True)
def maintenance(ctx: Context, command: Command) -> Reply:
    if command.action:  # cancel | reschedule | extend
        return change_maintenance(ctx, command)
    assert command.starts_at and command.duration and command.text
    window = svc.schedule_maintenance(
        ctx.session,
        ctx.settings,
        title=command.text,
        starts_at=command.starts_at,
        duration=command.duration,
        keys=command.keys,
        actor=ctx.actor,
        now=ctx.now,
        force=ctx.force,
    )
    style = ctx.style
    return Reply(
        f"Scheduled maintenance {window.ref} “{style.text(window.title)}” "
        f"{style.time(window.starts_at)} – {style.time(window.ends_at)}"
        + (f" on {', '.join(window.component_keys)}" if window.component_keys else "")
    )


@handles("subscribers")
def subscribers_(ctx: Context, command: Command) -> Reply:
    return Reply(subscribers.summary(ctx.session))
