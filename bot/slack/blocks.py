"""Block Kit builders: domain values in, dicts out. Pure: no database, no Slack calls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.commands import describe_event
from bot.db.models import TimelineEvent
from bot.slack.ids import SlackId
from bot.slack.style import SlackStyle, date_token, escape
from bot.text.hygiene import Finding
from bot.text.status import LEVEL_LABELS, ComponentStatus

Block = dict[str, Any]
SECTION_LIMIT = 3000
# A thread post carries a whole note (10,000 characters); Slack takes up to 40,000.
THREAD_POST_LIMIT = 12_000
STYLE = SlackStyle()
NOT_AFFECTED = "unaffected"
# Modal block ids (the action id inside each input is "value").
B_TITLE = "title"
B_SEVERITY = "severity"
B_COMPONENTS = "components"
B_LEVEL = "level"
B_COMMANDER = "commander"
B_OWNER = "owner"
B_MESSAGE = "message"
B_PUBLIC_TITLE = "public_title"
B_STATUS = "status"
B_NEXT_IN = "next_in"
B_FORCE = "force"
B_NOTE = "note"
B_NOTIFY = "notify"
COMPONENT_PREFIX = "component:"


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text)}]}


def button(label: str, action: SlackId, value: str, *, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(label),
        "action_id": action.value,
        "value": value[:2000],
    }
    if style:
        element["style"] = style
    return element


def ephemeral(text: str, blocks: Sequence[Block] | None = None) -> dict[str, Any]:
    """An ack body Slack shows only to the person who typed the command."""
    body: dict[str, Any] = {"response_type": "ephemeral", "text": clip(text, 3900)}
    if blocks:
        body["blocks"] = list(blocks)
    return body


def incident_actions(number: int, *, resolve: bool = True) -> Block:
    elements = [
        button("Post update", SlackId.POST_UPDATE, str(number), style="primary"),
        button("Add note", SlackId.ADD_NOTE, str(number)),
        button("Nothing new", SlackId.NOTHING_NEW, str(number)),
        button("Snooze", SlackId.SNOOZE, str(number)),
    ]
    if resolve:
        elements.append(button("Resolve", SlackId.RESOLVE, str(number), style="danger"))
    return {"type": "actions", "block_id": f"incident:{number}", "elements": elements}


# --- messages ------------------------------------------------------------------------------


def incident_root(
    *,
    number: int,
    title: str,
    severity: str,
    status: str,
    commander: str | None,
    owner: str | None,
    declared_by: str,
    is_open: bool,
) -> tuple[str, list[Block]]:
    """The incident's root message in the channel; its thread carries the timeline."""
    owner_text = STYLE.user(owner) if owner else "no owner — assign one"
    head = f"INC-{number} [{severity}] {title}"
    text = (
        f":fire: *INC-{number}* · *{severity.upper()}* · {STYLE.text(title)}\n"
        f"Status *{status}* · commander {STYLE.user(commander)} · owner {owner_text}\n"
        f"Declared by {STYLE.user(declared_by)}. The timeline follows in this thread."
    )
    blocks = [section(text)]
    if is_open:
        blocks.append(incident_actions(number))
    return clip(STYLE.text(head), 3000), blocks


def event_post(event: TimelineEvent, number: int) -> str:
    """One timeline event as a thread reply."""
    line = describe_event(event, STYLE)
    if event.kind == "note":
        line = ":memo: " + line
    elif event.kind == "public_update":
        line = ":loudspeaker: " + line
    return clip(f"INC-{number} · {line}", THREAD_POST_LIMIT)


def event_blocks(event: TimelineEvent, number: int, text: str) -> list[Block] | None:
    """A published update's post carries a "Correct" button (the latest one is corrected)."""
    if event.kind != "public_update":
        return None
    actions = {
        "type": "actions",
        "block_id": f"event:{event.id}",
        "elements": [button("Correct", SlackId.CORRECT_UPDATE, str(number))],
    }
    # A section holds 3,000 characters; a public update may be longer: all of it shows.
    parts = [text[i : i + SECTION_LIMIT] for i in range(0, len(text), SECTION_LIMIT)]
    return [*(section(part) for part in parts), actions]


def role_dm(number: int, title: str, role: str, due: datetime | None) -> str:
    meaning = {
        "commander": "you coordinate the response: decide, delegate, and make sure an owner "
        "keeps customers informed.",
        "owner": "you own the public page: post updates in plain language before each "
        "promised time. I will remind you before it is due.",
    }.get(role, "")
    due_text = f" Next public update due {date_token(due)}." if due else ""
    return f"You are now *{role}* of *INC-{number}* {STYLE.text(title)}: {meaning}{due_text}"


def reminder_dm(number: int, title: str, due: datetime) -> tuple[str, list[Block]]:
    text = (
        f":alarm_clock: *INC-{number}* {STYLE.text(title)}: the next public update is due "
        f"{date_token(due, '{time}')} ({date_token(due, '{ago}')})."
    )
    actions = {
        "type": "actions",
        "block_id": f"reminder:{number}",
        "elements": [
            button("Post update", SlackId.POST_UPDATE, str(number), style="primary"),
            button("Nothing new", SlackId.NOTHING_NEW, str(number)),
            button("Snooze", SlackId.SNOOZE, str(number)),
        ],
    }
    return f"INC-{number}: public update due", [section(text), actions]


def escalation_post(number: int, mentions: Sequence[str], due: datetime) -> tuple[str, Block]:
    who = " ".join(STYLE.user(u) for u in mentions) or "Nobody is assigned — assign an owner."
    text = (
        f":rotating_light: *OVERDUE* INC-{number}: the public update promised for "
        f"{date_token(due, '{time}')} has not been posted. {who}"
    )
    return text, incident_actions(number, resolve=False)


def maintenance_post(
    title: str, status: str, starts: datetime, ends: datetime, ref: str = ""
) -> str:
    verb = {
        "scheduled": "Maintenance scheduled",
        "in_progress": "Maintenance started",
        "completed": "Maintenance completed",
        "cancelled": "Maintenance cancelled",
        "rescheduled": "Maintenance rescheduled",
        "extended": "Maintenance extended",
    }.get(status, f"Maintenance {status}")
    name = f"{ref} {STYLE.text(title)}" if ref else STYLE.text(title)
    return f":wrench: {verb}: *{name}* ({date_token(starts)} – {date_token(ends)})"


def level_post(
    name: str,
    old: ComponentStatus | None,
    new: ComponentStatus,
    actor: str | None,
    cause: str | None,
) -> str:
    """A component's public level changed (or was set by hand), and who or what did it."""
    who = STYLE.user(actor) if actor else "Flare"
    why = f" ({STYLE.text(cause)})" if cause else ""
    if old is None or old == new:
        return (
            f":traffic_light: *{STYLE.text(name)}* stays {LEVEL_LABELS[new]} on the page"
            f"{why}, by {who}."
        )
    return (
        f":traffic_light: *{STYLE.text(name)}* on the page: {LEVEL_LABELS[old]} → "
        f"*{LEVEL_LABELS[new]}*{why}, by {who}."
    )


def hygiene_reply(
    text: str, findings: Sequence[Finding], token: str, *, editable: bool
) -> dict[str, Any]:
    """Findings with their spans highlighted, plus "Edit" and "Publish anyway"."""
    marked, last = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < last:
            continue
        marked.append(escape(text[last : finding.start]))
        marked.append("*`" + escape(text[finding.start : finding.end]).replace("`", "'") + "`*")
        last = finding.end
    marked.append(escape(text[last:]))
    advice = "\n".join(
        f"• *{f.kind}* `{escape(f.text).replace('`', chr(39))}` — {escape(f.advice)}"
        for f in findings
    )
    elements = []
    if editable:
        elements.append(button("Edit", SlackId.EDIT_UPDATE, token, style="primary"))
    elements.append(button("Publish anyway", SlackId.PUBLISH_ANYWAY, token, style="danger"))
    blocks = [
        section(":warning: This may not belong on a public page. Nothing was published."),
        section(clip("> " + "".join(marked).replace("\n", "\n> "), SECTION_LIMIT)),
        section(advice),
        {"type": "actions", "block_id": "hygiene", "elements": elements},
    ]
    return ephemeral("Not published: hygiene findings. " + advice, blocks)
