"""How Flare writes for Slack: mentions, mrkdwn escaping and self-updating date tokens."""

from __future__ import annotations

import re
from datetime import datetime

from bot.incidents import SYSTEM_ACTORS
from bot.text.times import full

# Kept as links: people and channels. Everything else between < and > is escaped, so user
# text can never become <!channel>, <!here> or a disguised link.
_SAFE_LINK = re.compile(r"<(@[UW][A-Z0-9]+|#C[A-Z0-9]+)(?:\|[^<>]*)?>")


def escape(text: str) -> str:
    """mrkdwn control characters (&, <, >) as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_keep_mentions(text: str) -> str:
    out: list[str] = []
    last = 0
    for match in _SAFE_LINK.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f"<{match.group(1)}>")
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def date_token(value: datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """Slack renders this in each reader's time zone and keeps it current without edits."""
    return f"<!date^{int(value.timestamp())}^{fmt}|{full(value)}>"


def ago(value: datetime) -> str:
    return date_token(value, "{ago}")


class SlackStyle:
    """The `Style` of bot.commands for Slack replies and posts."""

    def user(self, user_id: str | None) -> str:
        if not user_id:
            return "nobody"
        if user_id in SYSTEM_ACTORS:
            return f"`{user_id}`"
        return f"<@{user_id}>"

    def text(self, value: str) -> str:
        return escape_keep_mentions(value)

    def data(self, value: str) -> str:
        """Text sent by machines (CI's changes, providers' pages): escaped entirely, so it
        never mentions anybody or links anywhere."""
        return escape(value)

    def time(self, value: datetime) -> str:
        return date_token(value)
