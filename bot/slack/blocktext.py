"""Block Kit as plain text, roughly as Slack shows it: for docs (docs/dashboard.md) and for
reading a board in a terminal. Date tokens show their fallback (UTC), links their label and
address, people their user ID."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from bot.slack.blocks import Block

_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")
_BARE = re.compile(r"<(https?://[^|>]+)>")


def mrkdwn_as_text(text: str) -> str:
    text = _DATE.sub(r"\1", text)
    text = _USER.sub(r"@\1", text)
    text = _LINK.sub(r"\2 (\1)", text)
    text = _BARE.sub(r"\1", text)
    return html.unescape(text)


def _element_text(element: Block) -> str:
    value = element.get("text")
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return str(value or "")


def blocks_as_text(blocks: Sequence[Block]) -> str:
    """One paragraph per block."""
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            out.append(f"# {_element_text(block)}")
        elif kind == "section":
            out.append(mrkdwn_as_text(_element_text(block)))
        elif kind == "divider":
            out.append("─" * 40)
        elif kind == "actions":
            out.append("  ".join(f"[ {_element_text(e)} ]" for e in block.get("elements", [])))
        elif kind == "context":
            out.append(" ".join(mrkdwn_as_text(_element_text(e)) for e in block["elements"]))
    return "\n\n".join(out) + "\n"
