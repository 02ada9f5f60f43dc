"""Block Kit modals: the declare, update, note and resolve forms. Pure: no Slack calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from bot.config import Settings
from bot.errors import InvalidInput
from bot.slack.blocks import (
    B_COMMANDER,
    B_COMPONENTS,
    B_FORCE,
    B_LEVEL,
    B_MESSAGE,
    B_NEXT_IN,
    B_NOTE,
    B_NOTIFY,
    B_OWNER,
    B_PUBLIC_TITLE,
    B_SEVERITY,
    B_STATUS,
    B_TITLE,
    COMPONENT_PREFIX,
    NOT_AFFECTED,
    STYLE,
    Block,
    context,
    plain,
    section,
)
from bot.slack.ids import SlackId
from bot.text.status import LEVEL_LABELS, ComponentStatus, IncidentStatus, Severity

SLACK_INPUT_MAX = 3000  # the most a plain_text_input takes (Block Kit)


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
    initial: str | None = None, *, multiline: bool = False, max_length: int = SLACK_INPUT_MAX
) -> Block:
    """A text field; prefilled text longer than it holds is refused, never cut: a form
    that silently drops the end would publish the shortened text."""
    element: Block = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if initial:
        if len(initial) > max_length:
            raise InvalidInput(
                f"That text is {len(initial):,} characters, more than a Slack form field "
                f"holds ({max_length:,}); use the `/incident` command for it instead."
            )
        element["initial_value"] = initial
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


def correct_modal(number: int, wording: str, *, published: str, event_id: int) -> Block:
    """Correct the latest public update (`event_id`): prefilled with what it says now. The
    update's id travels in private_metadata, so the submission corrects that update or,
    if a newer one was published meanwhile, nothing."""
    if len(wording) > SLACK_INPUT_MAX:
        raise InvalidInput(
            f"The latest update of INC-{number} is {len(wording):,} characters, more than a "
            f"Slack form holds ({SLACK_INPUT_MAX:,}): correct it with "
            f"`/incident correct INC-{number} <new wording>`."
        )
    blocks = [
        context(
            f"*INC-{number}*: the latest public update ({published}). The page, API and feeds "
            "will show the new wording with “(corrected HH:MM UTC)”; the original stays in "
            "the timeline."
        ),
        _input(B_MESSAGE, "Corrected wording", _text_input(wording, multiline=True)),
        _input(
            B_NOTIFY,
            "Subscribers",
            {
                "type": "checkboxes",
                "options": [_option("Send the corrected update to subscribers again", "notify")],
            },
            optional=True,
        ),
        _force_block(),
    ]
    meta = f"{number}:{event_id}"
    return _modal(SlackId.CORRECT_MODAL, "Correct update", "Correct", blocks, meta)


def result_view(title: str, text: str) -> Block:
    """What a submitted modal turns into: the outcome, then a Close button."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain("Close", 24),
        "blocks": [section(text)],
    }
