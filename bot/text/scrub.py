"""The one scrubber: what any public surface does to text before a customer reads it.

Page, API, feeds, mail and webhooks all show published text through `public_text`, so a
Slack mention, a channel link, a user ID or a link into the Slack workspace never reaches
a customer, whichever surface they read. Text is stored as the person meant it; this runs
when it is shown (escaping for HTML, XML or JSON is each surface's own job, after this).
"""

from __future__ import annotations

import re

# Slack's own markup: <@U…>, <@U…|name>, <#C…|channel>, <!subteam^S…|@team>, <!here>.
_SLACK_REFERENCE = re.compile(r"<[@#!][^<>]*>")
# A bare Slack user ID (U0123ABCD, W…): what names a person; letters and digits mixed, as
# Slack writes them ("UNAVAILABLE" or "W20240115" are not IDs).
_SLACK_USER = re.compile(
    r"(?<![\w/.-])@?[UW](?=[A-Z0-9]*[0-9])(?=[A-Z0-9]*[A-Z])[A-Z0-9]{8,11}(?![\w-])"
)
# A link into a Slack workspace: a channel, a thread or a message (slack.com's own public
# pages are not internal).
_SLACK_URL = re.compile(
    r"<?https?://(?:[\w-]+\.)+slack\.com/(?:archives|client|team|messages)/[^\s<>|)\]]*"
    r"(?:\|[^<>]*>)?",
    re.IGNORECASE,
)
# Characters XML 1.0 forbids (feeds must stay well-formed whatever was typed).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
NEUTRAL = "our team"


def public_text(text: str | None) -> str:
    """`text` as customers may read it: people, channels and Slack links become "our team"."""
    value = _SLACK_URL.sub(NEUTRAL, text or "")
    value = _SLACK_REFERENCE.sub(NEUTRAL, value)
    value = _SLACK_USER.sub(NEUTRAL, value)
    return _XML_INVALID.sub("", value)
