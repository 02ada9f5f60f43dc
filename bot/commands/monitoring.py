"""`/incident signals`: what the monitors say, for the team (never public)."""

from __future__ import annotations

from bot import monitoring
from bot.commands.base import Context, Reply, handles
from bot.text.grammar import Command


@handles("signals")
def signals(ctx: Context, command: Command) -> Reply:
    rep = monitoring.report(ctx.session, ctx.settings, ctx.now)
    return Reply(monitoring.signals_text(rep, ctx.style.time, ctx.style.data))
