"""Block Kit builders: domain values in, dicts out. Pure: no database, no Slack calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.commands import describe_event
from bot.config import Settings
from bot.db.models import TimelineEvent
from bot.slack.ids import SlackId
from bot.slack.style import SlackStyle, date_token, escape
from bot.text.hygiene import Finding
from bot.text.status import LEVEL_LABELS, ComponentStatus, IncidentStatus, Severity

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


def maintenance_post(title: str, status: str, starts: datetime, ends: datetime) -> str:
    verb = {
        "scheduled": "Maintenance scheduled",
        "in_progress": "Maintenance started",
        "completed": "Maintenance completed",
    }.get(status, f"Maintenance {status}")
    return f":wrench: {verb}: *{STYLE.text(title)}* ({date_token(starts)} – {date_token(ends)})"


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


# --- modals --------------------------------------------------------------------------------


def _option(text: str, value: str) -> Block:
    return {"text": plain(text), "value": value}


def _input(
    block_id: str, label: str, element: Block, *, optional: bool = False, hint: str | None = None
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": {**element, "action_id": "value"},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 150)
    return block


def _text_input(
    initial: str | None = None, *, multiline: bool = False, max_length: int = 3000
) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    return element


def _select(options: Sequence[Block], initial: str | None) -> Block:
    element: Block = {"type": "static_select", "options": list(options)}
    chosen = [o for o in options if o["value"] == initial]
    if chosen:
        element["initial_option"] = chosen[0]
    return element


def _force_block() -> Block:
    return _input(
        B_FORCE,
        "Hygiene",
        {
            "type": "checkboxes",
            "options": [_option("Publish anyway, even with hygiene findings", "force")],
        },
        optional=True,
    )


def _modal(callback: SlackId, title: str, submit: str, blocks: list[Block], meta: str) -> Block:
    return {
        "type": "modal",
        "callback_id": callback.value,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "private_metadata": meta,
        "blocks": blocks,
    }


def declare_modal(settings: Settings) -> Block:
    severities = [_option(s.value.upper(), s.value) for s in Severity]
    blocks: list[Block] = [
        _input(B_TITLE, "Title (internal)", _text_input(max_length=200)),
        _input(B_SEVERITY, "Severity", _select(severities, Severity.SEV3.value)),
    ]
    if settings.components:
        components = [_option(c.name, c.key) for c in settings.components]
        blocks.append(
            _input(
                B_COMPONENTS,
                "Affected components",
                {"type": "multi_static_select", "options": components},
                optional=True,
                hint="Set on the page with the first public message.",
            )
        )
        levels = [_option(LEVEL_LABELS[s], s.value) for s in LEVEL_LABELS]
        blocks.append(
            _input(
                B_LEVEL,
                "Their level",
                _select(levels, ComponentStatus.PARTIAL_OUTAGE.value),
                optional=True,
            )
        )
    blocks += [
        _input(
            B_COMMANDER,
            "Commander",
            {"type": "users_select"},
            optional=True,
            hint="You, if nobody is chosen.",
        ),
        _input(B_OWNER, "Public-page owner", {"type": "users_select"}, optional=True),
        _input(B_PUBLIC_TITLE, "Public title", _text_input(max_length=200), optional=True),
        _input(
            B_MESSAGE,
            "First public message",
            _text_input(multiline=True),
            optional=True,
            hint="Leave empty to stay off the public page for now.",
        ),
        _force_block(),
    ]
    return _modal(SlackId.DECLARE_MODAL, "Declare incident", "Declare", blocks, "")


def update_modal(
    *,
    number: int,
    title: str,
    status: IncidentStatus,
    public_title: str | None,
    components: Sequence[tuple[str, str]],
    levels: Mapping[str, ComponentStatus],
    cadence: timedelta,
    message: str | None = None,
) -> Block:
    statuses = [_option(s.value.capitalize(), s.value) for s in IncidentStatus]
    level_options = [_option("Not affected", NOT_AFFECTED)] + [
        _option(LEVEL_LABELS[s], s.value) for s in LEVEL_LABELS
    ]
    minutes = int(cadence.total_seconds() // 60)
    steps = sorted({m for m in (5, 10, 15, 20, 30, 45, 60, 90, 120) if m < minutes} | {minutes})
    next_options = [_option(f"{m} minutes", str(m)) for m in steps]
    blocks: list[Block] = [
        context(f"*INC-{number}* {STYLE.text(title)}"),
        _input(B_STATUS, "Status", _select(statuses, status.value)),
    ]
    for key, name in components:
        current = levels.get(key)
        blocks.append(
            _input(
                f"{COMPONENT_PREFIX}{key}",
                name,
                _select(level_options, current.value if current else NOT_AFFECTED),
                optional=True,
            )
        )
    blocks += [
        _input(B_MESSAGE, "Message to customers", _text_input(message, multiline=True)),
        _input(B_NEXT_IN, "Next update in", _select(next_options, str(minutes)), optional=True),
        _input(
            B_PUBLIC_TITLE,
            "Public title",
            _text_input(public_title, max_length=200),
            optional=True,
        ),
        _force_block(),
    ]
    return _modal(SlackId.UPDATE_MODAL, "Post public update", "Publish", blocks, str(number))


def note_modal(number: int, title: str) -> Block:
    blocks = [
        context(f"*INC-{number}* {STYLE.text(title)} — internal, never public"),
        _input(B_NOTE, "Note", _text_input(multiline=True)),
    ]
    return _modal(SlackId.NOTE_MODAL, "Add note", "Add", blocks, str(number))


def resolve_modal(number: int, title: str, default: str) -> Block:
    blocks = [
        context(f"*INC-{number}* {STYLE.text(title)}"),
        _input(B_MESSAGE, "Resolved message to customers", _text_input(default, multiline=True)),
        _force_block(),
    ]
    return _modal(SlackId.RESOLVE_MODAL, "Resolve incident", "Resolve", blocks, str(number))


def result_view(title: str, text: str) -> Block:
    """What a submitted modal turns into: the outcome, then a Close button."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain("Close", 24),
        "blocks": [section(text)],
    }
