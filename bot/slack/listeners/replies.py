"""How listeners answer: the acknowledgement (`Ack`), refusals in Slack's words, and the
ephemeral reply to a click, queued in the outbox with the change it reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot import outbox
from bot.errors import FlareError, NotAllowed
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.slack import dedupe
from bot.slack.style import SlackStyle
from bot.text.hygiene import Finding

STYLE = SlackStyle()


@dataclass
class Ack:
    """What a listener acks with, and the modal to open right after (if any)."""

    body: dict[str, Any] | None = None
    modal: dict[str, Any] | None = None


def error_text(error: FlareError) -> str:
    # Refusals of who-may carry our own <!subteam^…> link; others may quote user text.
    return error.message if isinstance(error, NotAllowed) else STYLE.text(error.message)


def findings_text(findings: list[Finding]) -> str:
    parts = [f"“{f.text}” ({f.kind}): {f.advice}" for f in findings]
    text = "Not published — " + "; ".join(parts)
    text += " Fix the text, or tick “Publish anyway”."
    return text[:1900]


def respond(session: Session, body: dict[str, Any], text: str, now: Any) -> None:
    """Queue the ephemeral answer to a click (nothing if the click carried no response_url)."""
    url = body.get("response_url")
    if not url:
        return
    outbox.enqueue(
        session,
        key=f"respond:{body.get('trigger_id') or body.get('container', {}).get('message_ts')}",
        kind=kinds.SLACK_RESPOND,
        now=now,
        payload={"response_url": url, "text": text},
    )


def respond_now(runtime: Runtime, body: dict[str, Any], text: str) -> None:
    with runtime.sessions.begin() as session:
        respond(session, body, text, runtime.now())


def once(session: Session, body: dict[str, Any], now: Any) -> bool:
    fresh, _ = dedupe.first_time(session, f"trigger:{body.get('trigger_id')}", now)
    return fresh
