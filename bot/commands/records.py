"""The records sub-commands: corrections of the public record, the postmortem, stats and
changes to scheduled maintenance (docs/records.md)."""

from __future__ import annotations

from datetime import timedelta

from bot import incidents as svc
from bot import records
from bot.commands.base import Context, Reply, handles
from bot.db.models import Incident
from bot.text.grammar import Command
from bot.text.times import hhmm


def _incident(ctx: Context, command: Command) -> Incident:
    assert command.number is not None
    return svc.get_incident(ctx.session, command.number, for_update=True)


@handles("postmortem")
def postmortem(ctx: Context, command: Command) -> Reply:
    """Anyone may ask: the document goes to the incident's internal thread. Only the ask is
    queued; the document is rendered when it is sent, and one is on its way at a time."""
    assert command.number is not None
    incident = svc.get_incident(ctx.session, command.number)
    queued = records.queue_postmortem(ctx.session, incident, ctx.now)
    if not queued.new:
        return Reply(
            f"The postmortem of {incident.ref} is already on its way to its thread as "
            f"{queued.filename}; it will show everything up to when it is sent.",
            incident=incident,
        )
    return Reply(
        f"The postmortem of {incident.ref} is on its way to its thread as {queued.filename}.",
        incident=incident,
    )


def period_label(period: timedelta) -> str:
    days, rest = divmod(int(period.total_seconds()), 86400)
    if days and not rest:
        return f"{days} days" if days != 1 else "day"
    hours = int(period.total_seconds() // 3600)
    return f"{hours} h" if hours else f"{int(period.total_seconds() // 60)} min"


@handles("stats", reads_only=True)
def stats(ctx: Context, command: Command) -> Reply:
    period = command.since or timedelta(days=30)
    result = records.compute_stats(ctx.session, ctx.now, period)
    return Reply(records.stats_summary(result, period_label(period)))


@handles("correct", checks_responder=True)
def correct(ctx: Context, command: Command) -> Reply:
    incident = _incident(ctx, command)
    if "title" in command.flags:
        done = records.correct_title(
            ctx.session,
            ctx.settings,
            incident,
            text=command.text or "",
            actor=ctx.actor,
            now=ctx.now,
            notify="notify" in command.flags,
            force=ctx.force,
        )
    else:
        # The latest update as of now (the incident's row is locked), named explicitly;
        # "publish anyway" names the one the blocked attempt was about.
        event_id = ctx.event_id
        if event_id is None:
            latest = records.latest_public_update(ctx.session, incident)
            event_id = latest.id if latest is not None else 0
        done = records.correct_update(
            ctx.session,
            ctx.settings,
            incident,
            text=command.text or "",
            event_id=event_id,
            actor=ctx.actor,
            now=ctx.now,
            notify="notify" in command.flags,
            force=ctx.force,
        )
    what = "public title" if done.what == "title" else "latest public update"
    told = "subscribers are told again" if done.notified else "subscribers are not re-sent"
    text = (
        f"Corrected the {what} of {incident.ref}: the page, API and feeds show it with "
        f"“(corrected {hhmm(ctx.now)})”; {told}. The original stays in the timeline."
    )
    return Reply(text, incident=incident, events=[done.event])


def change_maintenance(ctx: Context, command: Command) -> Reply:
    """`maintenance cancel|reschedule|extend <MNT-n> …`."""
    assert command.window is not None
    style = ctx.style
    if command.action == "cancel":
        window = svc.cancel_maintenance(
            ctx.session,
            ctx.settings,
            command.window,
            message=command.text,
            force=ctx.force,
            actor=ctx.actor,
            now=ctx.now,
        )
        return Reply(
            f"Cancelled maintenance {window.ref} “{style.text(window.title)}”: it leaves the "
            "page's upcoming list and subscribers are told."
        )
    assert command.duration is not None
    if command.action == "reschedule":
        assert command.starts_at is not None
        window = svc.reschedule_maintenance(
            ctx.session,
            ctx.settings,
            command.window,
            starts_at=command.starts_at,
            duration=command.duration,
            actor=ctx.actor,
            now=ctx.now,
        )
        verb = "Rescheduled"
    else:
        window = svc.extend_maintenance(
            ctx.session,
            ctx.settings,
            command.window,
            duration=command.duration,
            actor=ctx.actor,
            now=ctx.now,
        )
        verb = "Extended"
    return Reply(
        f"{verb} maintenance {window.ref} “{style.text(window.title)}”: "
        f"{style.time(window.starts_at)} – {style.time(window.ends_at)}; subscribers are told."
    )
