"""The monitoring triage message in #incidents and its prefilled declare form. Pure: domain
values in, Block Kit out."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.monitoring import TriageView
from bot.slack import modals
from bot.slack.blocks import (
    B_COMPONENTS,
    B_LEVEL,
    B_MESSAGE,
    B_PUBLIC_TITLE,
    B_TITLE,
    Block,
    button,
    clip,
    context,
    plain,
    section,
)
from bot.slack.ids import SlackId
from bot.slack.style import SlackStyle, date_token
from bot.text.status import LEVEL_LABELS, ComponentStatus, neutral_title
from bot.text.times import hhmm

STYLE = SlackStyle()
MAX_LINES = 10


def triage_message(view: TriageView) -> tuple[str, list[Block]]:
    """What the episode's one message says now, with its buttons while it is open."""
    name = STYLE.data(view.component_name)
    firing = [s for s in view.signals if s.firing]
    page = LEVEL_LABELS[view.page_level]
    if view.ended_at is not None:
        outcome = (
            "nothing was published"
            if view.published == 0
            else f"the page changed {view.published}× and says {page}"
        )
        head = f":white_check_mark: *{name}* recovered at {hhmm(view.ended_at)}; {outcome}."
    else:
        head = (
            f":rotating_light: *{name}*: monitoring says *{LEVEL_LABELS[view.level]}* since "
            f"{date_token(view.started_at)} ({len(firing)} firing). The page says *{page}*."
        )
        if view.quiet_since is not None:
            head += f" Quiet since {hhmm(view.quiet_since)}."
        if view.covered_by:
            head += f" {STYLE.data(', '.join(view.covered_by))} covers it now."
    lines = []
    for signal in view.signals[:MAX_LINES]:
        state = "firing" if signal.firing else "ended"
        summary = f" — {STYLE.data(signal.summary)}" if signal.summary else ""
        lines.append(
            f"• {STYLE.data(signal.name)} ({LEVEL_LABELS[signal.level]}, {state}, since "
            f"{hhmm(signal.since)}){summary}"
        )
    if len(view.signals) > MAX_LINES:
        lines.append(f"…and {len(view.signals) - MAX_LINES} more")
    blocks: list[Block] = [section(head)]
    if lines:
        blocks.append(section(clip("\n".join(lines))))
    notes = []
    if view.marked_by:
        notes.append(f"Marked on the page by {STYLE.user(view.marked_by)}.")
    if view.dismissed_by and view.dismissed_until:
        notes.append(
            f"Dismissed by {STYLE.user(view.dismissed_by)} until {hhmm(view.dismissed_until)}."
        )
    if notes:
        blocks.append(context(" ".join(notes)))
    if view.ended_at is None:
        blocks.append(triage_actions(view))
    text = clip(head, 3000)
    return text, blocks


def triage_actions(view: TriageView) -> Block:
    value = str(view.episode_id)
    level = (
        view.level
        if view.level != ComponentStatus.OPERATIONAL
        else ComponentStatus.DEGRADED_PERFORMANCE
    )
    return {
        "type": "actions",
        "block_id": f"triage:{view.episode_id}",
        "elements": [
            button("Declare incident", SlackId.TRIAGE_DECLARE, value, style="primary"),
            button(f"Mark {LEVEL_LABELS[level]}", SlackId.TRIAGE_MARK, f"{value}:{level.value}"),
            button("Dismiss 1 h", SlackId.TRIAGE_DISMISS, value),
        ],
    }


def declare_prefilled(settings: Settings, view: TriageView) -> dict[str, Any]:
    """The declare form with the component, its level and a neutral draft filled in; the
    person still decides (and a public message is checked like any other)."""
    modal = modals.declare_modal(settings)
    level = view.level
    names = sorted({s.name for s in view.signals if s.firing}) or [view.component_name]
    draft = (
        f"We are investigating {LEVEL_LABELS[level].lower()} affecting "
        f"{view.component_name}. We will post an update as soon as we know more."
    )
    initial: dict[str, Any] = {
        B_TITLE: {"initial_value": clip(f"{view.component_name}: {', '.join(names)}", 200)},
        B_PUBLIC_TITLE: {"initial_value": neutral_title([view.component_name], level)},
        B_MESSAGE: {"initial_value": draft},
    }
    for block in modal["blocks"]:
        element = block.get("element") or {}
        block_id = block.get("block_id")
        if block_id in initial:
            element.update(initial[block_id])
        elif block_id == B_COMPONENTS:
            element["initial_options"] = [
                o for o in element.get("options", []) if o["value"] == view.component_key
            ]
        elif block_id == B_LEVEL:
            chosen = [o for o in element.get("options", []) if o["value"] == level.value]
            if chosen:
                element["initial_option"] = chosen[0]
    modal["title"] = plain("Declare incident", 24)
    return modal
