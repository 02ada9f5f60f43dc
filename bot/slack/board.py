"""The pinned board in #incidents: what support reads. Gathered from the database, rendered
by pure functions; bot.slack.delivery.board_sync puts it into Slack."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import incidents as svc
from bot import outbox, subscribers
from bot.config import Settings
from bot.db.models import Component, TimelineEvent
from bot.db.state import last_sweep
from bot.outbox import kinds
from bot.slack.blocks import (
    LEVEL_LABELS,
    Block,
    button,
    clip,
    context,
    incident_actions,
    section,
)
from bot.slack.ids import SlackId
from bot.slack.style import SlackStyle, ago, date_token, escape
from bot.text.status import ComponentStatus, EventKind, MaintenanceStatus

STYLE = SlackStyle()
MAX_BLOCKS = 50
FULL_INCIDENTS = 12  # shown in full (3 blocks each); the rest are summarised in lines
WORDING_LIMIT = 1500
MISSED_TICKS = 3
TAIL_BLOCKS = 2  # the "Declare incident" button and the footer


@dataclass(frozen=True)
class BoardIncident:
    number: int
    title: str
    severity: str
    status: str
    commander: str | None
    owner: str | None
    internal_only: bool
    latest_wording: str | None
    last_public_update_at: datetime | None
    next_due: datetime | None
    first_due: datetime | None
    overdue: bool
    record: str
    channel: str | None
    thread_ts: str | None


@dataclass(frozen=True)
class BoardMaintenance:
    ref: str  # MNT-<n>, what `/incident maintenance cancel|reschedule|extend` take
    title: str
    status: str
    starts_at: datetime
    ends_at: datetime
    keys: tuple[str, ...]


@dataclass(frozen=True)
class BoardSection:
    """A part of the internal dashboard (monitoring, changes, on-call, providers): a title
    and mrkdwn lines, shown after the incidents only when it has something to say."""

    title: str
    lines: tuple[str, ...]


# What the dashboard's features add to the board, in order: each reads what it needs (one
# short read, inside gather's session) and returns a section, or None when there is nothing
# to say. Feature modules of bot/slack register here.
SectionReader = Callable[[Session, Settings, datetime], BoardSection | None]
SECTIONS: list[SectionReader] = []


@dataclass(frozen=True)
class BoardView:
    incidents: list[BoardIncident] = field(default_factory=list)
    degraded: list[tuple[str, ComponentStatus]] = field(default_factory=list)
    maintenances: list[BoardMaintenance] = field(default_factory=list)
    scheduler_stale_since: datetime | None = None
    scheduler_never: bool = False
    notes: list[str] = field(default_factory=list)
    sections: list[BoardSection] = field(default_factory=list)


def gather(session: Session, settings: Settings, now: datetime) -> BoardView:
    """Read everything the board shows (one short read)."""
    rows = []
    incidents = svc.open_incidents(session)
    ids = [incident.id for incident in incidents]
    # Three queries whatever the number of open incidents (500 open ones used to cost a
    # thousand queries a second per worker): the latest public update of each, and their
    # promise records.
    latest: dict[int, str | None] = {}
    if ids:
        for incident_id, body in session.execute(
            select(TimelineEvent.incident_id, TimelineEvent.body)
            .where(
                TimelineEvent.incident_id.in_(ids),
                TimelineEvent.kind == EventKind.PUBLIC_UPDATE,
            )
            .order_by(TimelineEvent.at, TimelineEvent.id)
        ):
            latest[incident_id] = body  # ascending: the last one seen is the latest
    records = svc.promise_records(session, ids)
    for incident in incidents:
        due = incident.next_update_due
        first_due = (
            None if incident.published_at or incident.internal_only else incident.reminder_due
        )
        watched = due or first_due
        rows.append(
            BoardIncident(
                number=incident.number,
                title=incident.title,
                severity=incident.severity.value,
                status=incident.status.value,
                commander=incident.commander_id,
                owner=incident.owner_id,
                internal_only=incident.internal_only,
                latest_wording=latest.get(incident.id),
                last_public_update_at=incident.last_public_update_at,
                next_due=due,
                first_due=first_due,
                overdue=watched is not None and watched <= now,
                record=str(records[incident.id]),
                channel=incident.slack_channel or settings.incidents_channel,
                thread_ts=incident.slack_ts,
            )
        )
    degraded = [
        (c.name, c.status)
        for c in session.scalars(
            select(Component)
            .where(Component.hidden.is_(False), Component.status != ComponentStatus.OPERATIONAL)
            .order_by(Component.position)
        )
    ]
    windows = [
        BoardMaintenance(
            ref=m.ref,
            title=m.title,
            status=m.status.value,
            starts_at=m.starts_at,
            ends_at=m.ends_at,
            keys=tuple(m.component_keys),
        )
        for m in svc.open_maintenances(session)
        if m.status != MaintenanceStatus.COMPLETED
    ]
    last = last_sweep(session)
    stale = last is not None and now - last > settings.tick * MISSED_TICKS
    return BoardView(
        incidents=rows,
        degraded=degraded,
        maintenances=windows,
        scheduler_stale_since=last if stale else None,
        scheduler_never=last is None,
        notes=[*subscribers.board_notes(session), *_set_aside(session)],
        sections=[s for read in SECTIONS if (s := read(session, settings, now)) is not None],
    )


def _set_aside(session: Session) -> list[str]:
    """Slack posts that could not be sent and were set aside (people should know)."""
    count = outbox.backlog(session, kinds=kinds.SLACK_KINDS, dead=True)
    if not count:
        return []
    noun = "post" if count == 1 else "posts"
    return [f"{count} Slack {noun} could not be sent and were set aside (see docs/operations.md)"]


def thread_link(channel: str | None, ts: str | None) -> str | None:
    if not channel or not ts:
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def incident_text(row: BoardIncident) -> str:
    link = thread_link(row.channel, row.thread_ts)
    ref = f"<{link}|INC-{row.number}>" if link else f"INC-{row.number}"
    owner = STYLE.user(row.owner) if row.owner else ":warning: no owner — assign one"
    lines = [
        f"*{ref}* · *{row.severity.upper()}* · {STYLE.text(row.title)}",
        f"Commander {STYLE.user(row.commander)} · Owner {owner}",
    ]
    if row.internal_only:
        lines.append("_Internal-only: not on the public page, no reminders._")
    elif row.latest_wording is None:
        due = row.first_due
        when = f" — first update due {date_token(due, '{time}')}" if due else ""
        flag = " :rotating_light: *OVERDUE*" if row.overdue else ""
        lines.append(f"Not on the public page yet{when}{flag}")
    else:
        wording = clip(escape(row.latest_wording), WORDING_LIMIT).replace("\n", "\n>")
        lines.append(f"Public status *{row.status}*:\n>{wording}")
        since = (
            f"Last public update {ago(row.last_public_update_at)}"
            if row.last_public_update_at
            else ""
        )
        if row.next_due is None:
            nxt = ""
        elif row.overdue:
            nxt = f" · :rotating_light: *OVERDUE* — next update was due {date_token(row.next_due)}"
        else:
            nxt = f" · next update due {date_token(row.next_due, '{time}')}"
        lines.append(f"{since}{nxt} · {row.record}")
    return clip("\n".join(lines))


def summary_line(row: BoardIncident) -> str:
    flag = " :rotating_light: OVERDUE" if row.overdue else ""
    owner = STYLE.user(row.owner) if row.owner else "no owner"
    return (
        f"• INC-{row.number} [{row.severity}] {clip(STYLE.text(row.title), 80)} — "
        f"{row.status}, {owner}{flag}"
    )


def fit(title: str, lines: Sequence[str], limit: int = 2900) -> str:
    """A titled list within one section's limit: whole lines only (a cut line could break a
    link), and a count of the lines left out."""
    text = title
    for index, line in enumerate(lines):
        more = f"\n…and {len(lines) - index} more"
        if len(text) + 1 + len(line) + len(more) > limit:
            return text + more
        text = f"{text}\n{line}"
    return text


def _chunks(lines: Sequence[str], limit: int = 2900) -> list[str]:
    out: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + len(line) + 1 > limit:
            out.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out


def render_board(view: BoardView) -> tuple[str, list[Block]]:
    """The board message (fallback text, blocks), within Block Kit's limits."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Incident board"}}
    ]
    if view.scheduler_stale_since is not None:
        blocks.append(
            section(
                ":warning: *No scheduler has swept since "
                f"{date_token(view.scheduler_stale_since)}* — reminders are not being sent. "
                "Check `flare worker`."
            )
        )
    elif view.scheduler_never:
        blocks.append(
            section(":warning: *No scheduler has run yet* — reminders are not being sent.")
        )
    calm = not view.incidents and not view.degraded
    if calm:
        blocks.append(section(":white_check_mark: *All systems operational*"))
    others: list[Block] = []  # after the incidents, each one block
    if view.degraded:
        lines = [f"• {escape(name)} — {LEVEL_LABELS[status]}" for name, status in view.degraded]
        others.append(section(fit("*Degraded components*", lines)))
    if view.maintenances:
        lines = []
        for m in view.maintenances:
            state = "in progress" if m.status == MaintenanceStatus.IN_PROGRESS else "scheduled"
            keys = f" ({', '.join(m.keys)})" if m.keys else ""
            lines.append(
                f"• *{m.ref}* {STYLE.text(m.title)}{keys} — {state}, "
                f"{date_token(m.starts_at)} – {date_token(m.ends_at)}"
            )
        others.append(section(fit("*Maintenance*", lines[:20])))
    if view.notes:
        others.append(section(clip("\n".join(f":warning: {n}" for n in view.notes))))
    for part in view.sections:
        others.append(section(fit(f"*{part.title}*", list(part.lines))))
    # The incidents come first, in full while they fit beside everything else (3 blocks
    # each); the rest are summarised in up to 3 blocks.
    room_for_incidents = MAX_BLOCKS - len(blocks) - len(others) - TAIL_BLOCKS
    if len(view.incidents) <= FULL_INCIDENTS and 3 * len(view.incidents) <= room_for_incidents:
        shown = len(view.incidents)
    else:
        shown = max(0, min(FULL_INCIDENTS, (room_for_incidents - 3) // 3))
    full = view.incidents[:shown]
    rest = view.incidents[shown:]
    for row in full:
        blocks.append(section(incident_text(row)))
        blocks.append(incident_actions(row.number))
        blocks.append({"type": "divider"})
    if rest:
        lines = [f"*…and {len(rest)} more open incidents:*"] + [summary_line(r) for r in rest]
        for chunk in _chunks(lines)[:3]:
            blocks.append(section(chunk))
    blocks.extend(others)
    tail: list[Block] = [
        {
            "type": "actions",
            "block_id": "board",
            "elements": [button("Declare incident", SlackId.DECLARE_OPEN, "board")],
        },
        context("Edited in place by Flare. `/incident help` for commands."),
    ]
    room = MAX_BLOCKS - len(tail)
    if len(blocks) > room:  # the incidents come first; what does not fit is summarised
        blocks = [*blocks[: room - 1], section("_More than fits here: `/incident list`._")]
    blocks = [*blocks, *tail]
    count = len(view.incidents)
    overdue = sum(1 for r in view.incidents if r.overdue)
    if calm:
        text = "Incident board: all systems operational"
    else:
        text = f"Incident board: {count} open incident{'s' if count != 1 else ''}"
        if overdue:
            text += f", {overdue} OVERDUE"
    return text, blocks


def fingerprint(text: str, blocks: Sequence[Block]) -> str:
    """Same content, same fingerprint: the board is edited only when this changes."""
    raw = json.dumps([text, blocks], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
