"""`/incident signals`: what the monitors say, for the team (never public); `signals clear
<id>`: a responder ends a signal its monitor will never resolve."""

from __future__ import annotations

from bot import monitoring
from bot.commands.base import Context, Reply, handles
from bot.text.grammar import Command


@handles("signals")
def signals(ctx: Context, command: Command) -> Reply:
    rep = monitoring.report(ctx.session, ctx.settings, ctx.now)
    return Reply(monitoring.signals_text(rep, ctx.style.time, ctx.style.data))


@handles("signals_clear", checks_responder=True)
def signals_clear(ctx: Context, command: Command) -> Reply:
    ctx.actor.require_responder()
    assert command.number is not None
    cleared = monitoring.clear_signal(ctx.session, command.number, ctx.now)
    return Reply(
        f"Cleared signal #{cleared.id} ({ctx.style.data(cleared.name)}): it counts as ended; "
        "the next tick moves its component's episode on."
    )
