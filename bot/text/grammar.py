"""The `/incident` words: one parser shared by Slack and the CLI. Pure: no database, no Slack."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.errors import UsageError
from bot.text import times
from bot.text.durations import DurationError, DurationTooLong, parse_count, parse_duration
from bot.text.status import ComponentStatus, IncidentStatus, Severity

USAGE: dict[str, str] = {
    "help": "/incident help",
    "declare": "/incident declare [sev1|sev2|sev3|sev4] <title>",
    "list": "/incident list",
    "show": "/incident show <ref>",
    "update": "/incident update <ref> [status] [component=level …] <message>",
    "note": "/incident note <ref> <text>",
    "commander": "/incident commander <ref> <@user>",
    "owner": "/incident owner <ref> <@user>",
    "sev": "/incident sev <ref> <sev1|sev2|sev3|sev4>",
    "resolve": "/incident resolve <ref> [message]",
    "title": "/incident title <ref> <text>",
    "internal": "/incident internal <ref>",
    "component": "/incident component <key> <level>",
    "subscribers": "/incident subscribers",
    "snooze": "/incident snooze <ref> <minutes>",
    "maintenance": "/incident maintenance <start> <duration> [key,key…] <title>",
    "changes": "/incident changes [2h]",
    "oncall": "/incident oncall",
    # records (docs/records.md)
    "postmortem": "/incident postmortem <ref>",
    "stats": "/incident stats [30d]",
    "correct": "/incident correct <ref> [--title] [--notify] <text>",
    "signals": "/incident signals [clear <id>]",
}

DETAILS = {
    "update": "status: investigating, identified, monitoring, resolved; "
    "levels: operational, degraded, partial, major, maintenance",
    "component": "levels: operational, degraded, partial, major, maintenance",
    "maintenance": "example: /incident maintenance 2026-12-01T02:00Z 2h api,dashboard DB upgrade"
    "\nchanges: /incident maintenance cancel <MNT-n> [message] · "
    "reschedule <MNT-n> <start> <duration> · extend <MNT-n> <duration>",
    "declare": "with no title, the declare form opens",
    "changes": "deploys and other changes of the last 2 h (or the period given)",
    "stats": "incidents, response times and promises of the last 30 days (or the period given)",
    "correct": "replaces the latest public update's wording (or, with --title, the public "
    "title), shown as corrected; --notify tells subscribers again",
}
MAINTENANCE_ACTIONS = ("cancel", "reschedule", "extend")
MNT_REF = re.compile(r"^(?:mnt-)?([0-9]{1,9})$", re.IGNORECASE)
LOOKBACK_LIMIT = timedelta(days=366)

LEVELS: dict[str, ComponentStatus] = {
    "operational": ComponentStatus.OPERATIONAL,
    "degraded": ComponentStatus.DEGRADED_PERFORMANCE,
    "partial": ComponentStatus.PARTIAL_OUTAGE,
    "major": ComponentStatus.MAJOR_OUTAGE,
    "maintenance": ComponentStatus.UNDER_MAINTENANCE,
}
# The full enum names work too, so pasted API values are accepted.
LEVELS.update({status.value: status for status in ComponentStatus})

STATUSES = {status.value: status for status in IncidentStatus}
SEVERITIES = {sev.value: sev for sev in Severity}
# ASCII digits only: `\d` takes every script's digits ("٣", "３"); int() takes most of them.
REF = re.compile(r"^(?:inc-|#)?([0-9]{1,9})$", re.IGNORECASE)
USER = re.compile(r"^(?:<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|@?([UW][A-Z0-9]{2,}))$")
QUOTES = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201d", "\u201d": "\u201d"}


def usage(sub: str | None = None) -> str:
    if sub in USAGE:
        text = f"Usage: {USAGE[sub]}"
        return f"{text}\n{DETAILS[sub]}" if sub in DETAILS else text
    return "Usage:\n" + "\n".join(f"  {line}" for line in USAGE.values())


@dataclass(frozen=True)
class Token:
    value: str
    start: int
    end: int
    quoted: bool = False


def tokenize(text: str) -> list[Token]:
    """Split on spaces; double quotes (straight or curly) group words."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] in QUOTES:
            close = QUOTES[text[i]]
            end = next((j for j in range(i + 1, n) if text[j] in (close, '"', "\u201d")), -1)
            if end != -1:
                tokens.append(Token(text[i + 1 : end], i, end + 1, quoted=True))
                i = end + 1
                continue
        j = i
        while j < n and not text[j].isspace():
            j += 1
        tokens.append(Token(text[i:j], i, j))
        i = j
    return tokens


def rest(text: str, tokens: list[Token], index: int) -> str:
    """The text from token `index` on, verbatim; a single quoted token loses its quotes."""
    if index >= len(tokens):
        return ""
    if index == len(tokens) - 1 and tokens[index].quoted:
        return tokens[index].value.strip()
    return text[tokens[index].start :].strip()


def decode_slack_text(text: str) -> str:
    """Slack escapes &, < and > in command text; store what the person meant."""
    return html.unescape(text) if "&" in text else text


def parse_ref(word: str) -> int | None:
    match = REF.match(word.strip())
    return int(match.group(1)) if match else None


def parse_user(word: str) -> str | None:
    match = USER.match(word.strip())
    return (match.group(1) or match.group(2)) if match else None


@dataclass(frozen=True)
class Command:
    name: str
    number: int | None = None
    text: str | None = None
    status: IncidentStatus | None = None
    severity: Severity | None = None
    components: dict[str, ComponentStatus] = field(default_factory=dict)
    user: str | None = None
    key: str | None = None
    level: ComponentStatus | None = None
    minutes: int | None = None
    starts_at: datetime | None = None
    duration: timedelta | None = None
    keys: tuple[str, ...] = ()
    # `maintenance cancel|reschedule|extend`: the action and the window's number (MNT-n).
    action: str | None = None
    window: int | None = None
    # `changes 2h`, `stats 30d`: how far back to look.
    since: timedelta | None = None
    # `correct --title --notify`.
    flags: frozenset[str] = frozenset()


def parse_time(word: str) -> datetime | None:
    return times.parse_instant(word)


def parse(text: str, component_keys: Collection[str] = ()) -> Command:
    """Parse the text after `/incident`. Raises UsageError with the sub-command's usage."""
    text = decode_slack_text(text)
    tokens = tokenize(text)
    if not tokens:
        return Command("help")
    sub = tokens[0].value.lower()
    keys = {k.lower() for k in component_keys}

    def fail(message: str) -> UsageError:
        return UsageError(message, usage(sub))

    def need_ref() -> int:
        if len(tokens) < 2:
            raise fail("Which incident? Give a reference like INC-7.")
        number = parse_ref(tokens[1].value)
        if number is None:
            raise fail(f"{tokens[1].value!r} is not an incident reference (INC-7, #7 or 7).")
        return number

    if sub == "help":
        topic = tokens[1].value.lower() if len(tokens) > 1 else None
        return Command("help", text=topic)
    if sub in {"list", "subscribers"}:
        if len(tokens) > 1:
            raise fail(f"{sub} takes no arguments.")
        return Command(sub)
    if sub == "declare":
        index, severity = 1, Severity.SEV3
        if len(tokens) > 1 and tokens[1].value.lower() in SEVERITIES:
            severity, index = SEVERITIES[tokens[1].value.lower()], 2
        return Command("declare", severity=severity, text=rest(text, tokens, index) or None)
    if sub in {"show", "internal"}:
        number = need_ref()
        if len(tokens) > 2:
            raise fail(f"{sub} takes only a reference.")
        return Command(sub, number=number)
    if sub == "update":
        number = need_ref()
        index, status = 2, None
        if len(tokens) > index and tokens[index].value.lower() in STATUSES:
            status = STATUSES[tokens[index].value.lower()]
            index += 1
        components: dict[str, ComponentStatus] = {}
        while len(tokens) > index and not tokens[index].quoted:
            key, sep, level = tokens[index].value.partition("=")
            if not sep or key.lower() not in keys:
                break
            if level.lower() not in LEVELS:
                raise fail(f"{level!r} is not a level for {key}.")
            components[key.lower()] = LEVELS[level.lower()]
            index += 1
        message = rest(text, tokens, index)
        if not message:
            raise fail("An update needs a message for customers.")
        return Command("update", number=number, status=status, components=components, text=message)
    if sub in {"note", "title"}:
        number = need_ref()
        body = rest(text, tokens, 2)
        if not body:
            raise fail("Nothing to write: add the text after the reference.")
        return Command(sub, number=number, text=body)
    if sub in {"commander", "owner"}:
        number = need_ref()
        user = parse_user(tokens[2].value) if len(tokens) == 3 else None
        if user is None:
            raise fail("Name one person, like @jane.")
        return Command(sub, number=number, user=user)
    if sub == "sev":
        number = need_ref()
        if len(tokens) != 3 or tokens[2].value.lower() not in SEVERITIES:
            raise fail("Give a severity: sev1, sev2, sev3 or sev4.")
        return Command("sev", number=number, severity=SEVERITIES[tokens[2].value.lower()])
    if sub == "resolve":
        number = need_ref()
        return Command("resolve", number=number, text=rest(text, tokens, 2) or None)
    if sub == "component":
        if len(tokens) != 3:
            raise fail("Give a component key and a level.")
        key, level = tokens[1].value.lower(), tokens[2].value.lower()
        if key not in keys:
            known = ", ".join(sorted(keys)) or "none configured"
            raise fail(f"Unknown component {tokens[1].value!r} (known: {known}).")
        if level not in LEVELS:
            raise fail(f"{tokens[2].value!r} is not a level.")
        return Command("component", key=key, level=LEVELS[level])
    if sub == "snooze":
        number = need_ref()
        minutes = parse_count(tokens[2].value) if len(tokens) == 3 else None
        if minutes is None or minutes < 1:  # "²" passes isdigit() and then int() raises
            raise fail("Give the number of minutes, like 10.")
        return Command("snooze", number=number, minutes=minutes)
    if sub == "signals" and len(tokens) > 1:
        # `signals clear <id>`: a responder ends a signal its monitor will never resolve.
        signal = parse_count(tokens[2].value.removeprefix("#")) if len(tokens) == 3 else None
        if tokens[1].value.lower() != "clear" or signal is None:
            raise fail("Give `signals` alone, or `signals clear <id>` with the signal's #id.")
        return Command("signals_clear", number=signal)
    if sub in {"signals", "oncall"}:
        if len(tokens) > 1:
            raise fail(f"{sub} takes no arguments.")
        return Command(sub)
    if sub in {"changes", "stats"}:
        default = timedelta(hours=2) if sub == "changes" else timedelta(days=30)
        if len(tokens) > 2:
            raise fail("Give at most one period, like 2h or 30d.")
        since = default
        if len(tokens) == 2:
            try:
                since = parse_duration(tokens[1].value, name="period")
            except DurationTooLong as error:
                raise fail(str(error)) from None
            except DurationError:
                raise fail(f"{tokens[1].value!r} is not a period like 2h or 30d.") from None
            if since > LOOKBACK_LIMIT:
                raise fail("Look back at most a year.")
        return Command(sub, since=since)
    if sub == "postmortem":
        number = need_ref()
        if len(tokens) > 2:
            raise fail("postmortem takes only a reference.")
        return Command(sub, number=number)
    if sub == "correct":
        number = need_ref()
        index, flags = 2, set()
        while len(tokens) > index and tokens[index].value.lower() in {"--title", "--notify"}:
            flags.add(tokens[index].value.lower().removeprefix("--"))
            index += 1
        body = rest(text, tokens, index)
        if not body:
            raise fail("Give the corrected text after the reference.")
        return Command(sub, number=number, text=body, flags=frozenset(flags))
    if sub == "maintenance" and len(tokens) > 1 and tokens[1].value.lower() in MAINTENANCE_ACTIONS:
        return _maintenance_change(text, tokens, fail)
    if sub == "maintenance":
        if len(tokens) < 4:
            raise fail("Give a start, a duration and a title.")
        starts_at = parse_time(tokens[1].value)
        if starts_at is None:
            raise fail(f"{tokens[1].value!r} is not a UTC time like 2026-12-01T02:00Z.")
        try:
            duration = parse_duration(tokens[2].value, name="duration")
        except DurationTooLong as error:
            raise fail(str(error)) from None
        except DurationError:
            raise fail(f"{tokens[2].value!r} is not a duration like 2h or 90m.") from None
        index, chosen = 3, tuple[str, ...]()
        items = [i.strip().lower() for i in tokens[3].value.split(",")]
        if not tokens[3].quoted and all(i in keys for i in items):
            chosen, index = tuple(dict.fromkeys(items)), 4
        title = rest(text, tokens, index)
        if not title:
            raise fail("Maintenance needs a title.")
        return Command(
            "maintenance", starts_at=starts_at, duration=duration, keys=chosen, text=title
        )
    raise UsageError(f"Unknown sub-command {tokens[0].value!r}.", usage())


def _maintenance_change(
    text: str, tokens: list[Token], fail: Callable[[str], UsageError]
) -> Command:
    """`maintenance cancel <MNT-n> [message]`, `reschedule <MNT-n> <start> <duration>`,
    `extend <MNT-n> <duration>`."""
    action = tokens[1].value.lower()
    match = MNT_REF.match(tokens[2].value) if len(tokens) > 2 else None
    if match is None:
        raise fail("Which window? Give its reference, like MNT-3.")
    window = int(match.group(1))
    if action == "cancel":
        return Command(
            "maintenance", action=action, window=window, text=rest(text, tokens, 3) or None
        )
    wanted = 5 if action == "reschedule" else 4
    if len(tokens) != wanted:
        shape = "a new start and a duration" if action == "reschedule" else "a duration"
        raise fail(f"{action} takes {shape}.")
    starts_at = None
    if action == "reschedule":
        starts_at = parse_time(tokens[3].value)
        if starts_at is None:
            raise fail(f"{tokens[3].value!r} is not a UTC time like 2026-12-01T02:00Z.")
    try:
        duration = parse_duration(tokens[-1].value, name="duration")
    except DurationTooLong as error:
        raise fail(str(error)) from None
    except DurationError:
        raise fail(f"{tokens[-1].value!r} is not a duration like 2h or 90m.") from None
    return Command(
        "maintenance", action=action, window=window, starts_at=starts_at, duration=duration
    )
