"""The one scrubber: what any public surface does to text before a customer reads it.

Page, API, feeds, mail and webhooks all show published text through `public_text`, so a
Slack mention, a channel link, a Slack ID or a link into Slack never reaches a customer,
whichever surface they read. Text is stored as the person meant it; this runs when it is
shown (escaping for HTML, XML or JSON is each surface's own job, after this). The hygiene
check flags the same things before publishing (`slack_spans`), so an author sees them too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Slack's own markup: <@U…>, <@U…|name>, <#C…|channel>, <!subteam^S…|@team>, <!here>.
_SLACK_REFERENCE = re.compile(r"<[@#!][^<>]{0,500}>")
# A bare Slack ID as Slack writes them: a type letter, a digit, then capitals and digits
# (users U/W: U024BE7LH, U01234567; channels C/G and user groups S: C024BE91L). Channel and
# group IDs also need a letter after the digit, so order numbers ("S123456789") and words
# ("SHA256SUMS", "UNAVAILABLE") stay. An ID-shaped code ("C0FFEE1234") is scrubbed too:
# a person's or channel's ID reaching customers is the worse mistake.
_SLACK_ID = re.compile(
    r"(?<![A-Za-z0-9_])@?(?:[UW][0-9]|[CGS][0-9](?=[A-Z0-9]{0,10}[A-Z]))[A-Z0-9]{7,10}"
    r"(?![A-Za-z0-9_])"
)
# Anything hosted by Slack or pointing into a workspace: any host under slack.com or
# slack-gov.com (files, app, a workspace, an enterprise grid), with or without a scheme, any
# path or port, and slack:// deep links. Slack's own public pages may be named. A host starts
# after a non-word character, so a long word is not rescanned from each of its letters.
_SLACK_LINK = re.compile(
    r"<?(?:slack://[^\s<>|]*|(?:https?://)?(?<![\w.-])(?:[\w-]+\.)*slack(?:-gov)?\.com(?::\d+)?"
    r"(?:/[^\s<>|]*)?)(?:\|[^<>]{0,500}>)?",
    re.IGNORECASE,
)
_PUBLIC_SLACK = re.compile(
    r"^<?(?:https?://)?(?:www\.)?(?:slack\.com/(?:apps|help|intl|features|pricing|legal)"
    r"(?:[/?#][^\s<>|]*)?|status\.slack\.com(?:/[^\s<>|]*)?|slack\.com/?)$",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\""
# Characters XML 1.0 forbids (feeds must stay well-formed whatever was typed).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
NEUTRAL = "our team"


def _links(text: str) -> Iterator[tuple[int, int]]:
    for match in _SLACK_LINK.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _TRAILING and not match.group().endswith(">"):
            end -= 1  # sentence punctuation after a link is not part of it
        if not _PUBLIC_SLACK.match(text[start:end]):
            yield start, end


def slack_spans(text: str) -> list[tuple[int, int]]:
    """Where Slack mentions, channel links, IDs and links into Slack stand in `text`."""
    spans = list(_links(text))
    spans += [m.span() for m in _SLACK_REFERENCE.finditer(text)]
    spans += [m.span() for m in _SLACK_ID.finditer(text)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def public_text(text: str | None) -> str:
    """`text` as customers may read it: people, channels and Slack links become "our team"."""
    value = text or ""
    for start, end in reversed(slack_spans(value)):
        value = value[:start] + NEUTRAL + value[end:]
    return _XML_INVALID.sub("", value)
