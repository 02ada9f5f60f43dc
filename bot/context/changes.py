"""Changes: what CI (POST /hooks/deploy, `flare deploy`) says it shipped, and when.

Every field is bounded and checked before anything is written: a bad report is refused with
a message naming the field and changes nothing. Changes are internal: they appear on the
board, in incident threads and in `/incident changes`, never on a public surface.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Change
from bot.errors import InvalidInput
from bot.text import times
from bot.text.limits import clip_escaped

WINDOW = timedelta(hours=2)  # the board, and the changes a new incident's thread opens with
SERVICE_LIMIT = 100
VERSION_LIMIT = 100
ENVIRONMENT_LIMIT = 50
URL_LIMIT = 500
ACTOR_LIMIT = 100
# A CI clock a little ahead is fine; a change dated further ahead is a mistake.
FUTURE_SKEW = timedelta(minutes=5)
LIST_LIMIT = 25  # lines in a reply; the rest are counted
# What one change's line may take once escaped for Slack (an `&` is 5 characters there): each
# field is cut to FIELD_SHOWN, a link longer than URL_SHOWN is left out (a cut link would lead
# elsewhere), so a line stays under LINE_LIMIT and the board always has room for several.
FIELD_SHOWN = 120
URL_SHOWN = 700
LINE_LIMIT = 1300
FIELDS = frozenset({"service", "version", "environment", "url", "actor", "at"})


@dataclass(frozen=True)
class ChangeReport:
    """A change as reported, checked and ready to record."""

    service: str
    version: str
    environment: str = "production"
    url: str | None = None
    actor: str | None = None
    at: datetime | None = None


def _field(value: object, *, name: str, limit: int, required: bool) -> str | None:
    if value is None:
        if required:
            raise InvalidInput(f"`{name}` is required.")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"`{name}` must be a string.")
    text = value.strip()
    if not text:
        if required:
            raise InvalidInput(f"`{name}` is empty.")
        return None
    if len(text) > limit:
        raise InvalidInput(f"`{name}` is {len(text):,} characters; the limit is {limit}.")
    if any(not c.isprintable() for c in text):
        raise InvalidInput(f"`{name}` contains control characters.")
    return text


def _url(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        raise InvalidInput("`url` is not a URL.") from None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        raise InvalidInput("`url` must be an http:// or https:// address.")
    if any(c in value for c in "<>| "):
        raise InvalidInput("`url` contains characters a link cannot hold (<, >, |, space).")
    return value


def parse_time(value: object) -> datetime:
    """RFC 3339 with an offset (`2026-11-25T13:40:00Z`), as UTC, from 2000 on."""
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidInput("`at` must be an RFC 3339 time like 2026-11-25T13:40:00Z.")
    text = value.strip()
    if "T" not in text.upper() or not text:
        raise InvalidInput("`at` needs a date, a time and an offset, like 2026-11-25T13:40:00Z.")
    if text[-1:] in {"Z", "z"}:
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"`at` {value!r} is not an RFC 3339 time.") from None
    if parsed.tzinfo is None:
        raise InvalidInput("`at` needs a date, a time and an offset, like 2026-11-25T13:40:00Z.")
    checked = times.parse_instant(text)  # UTC, and within datetime's range once converted
    if checked is None:
        raise InvalidInput(f"`at` {value!r} is before 2000 or too far ahead.")
    return checked


def check_report(
    *,
    service: object,
    version: object,
    environment: object = None,
    url: object = None,
    actor: object = None,
    at: object = None,
) -> ChangeReport:
    """A report with every field checked, or InvalidInput naming the field."""
    checked_service = _field(service, name="service", limit=SERVICE_LIMIT, required=True)
    checked_version = _field(version, name="version", limit=VERSION_LIMIT, required=True)
    assert checked_service is not None and checked_version is not None
    env = _field(environment, name="environment", limit=ENVIRONMENT_LIMIT, required=False)
    return ChangeReport(
        service=checked_service,
        version=checked_version,
        environment=env or "production",
        url=_url(_field(url, name="url", limit=URL_LIMIT, required=False)),
        actor=_field(actor, name="actor", limit=ACTOR_LIMIT, required=False),
        at=None if at is None else parse_time(at),
    )


def report_from_json(data: Mapping[str, Any]) -> ChangeReport:
    """The deploy hook's JSON object as a report; unknown fields are refused (a typo in a
    CI script should be noticed, not silently dropped)."""
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)[:200]}")
    return check_report(**{name: data.get(name) for name in FIELDS})


def record_change(session: Session, report: ChangeReport, *, now: datetime, source: str) -> Change:
    """Store one change (the caller commits)."""
    at = report.at or now
    if at > now + FUTURE_SKEW:
        raise InvalidInput("`at` is in the future.")
    change = Change(
        service=report.service,
        version=report.version,
        environment=report.environment,
        url=report.url,
        actor=report.actor,
        at=at,
        recorded_at=now,
        source=source,
    )
    session.add(change)
    session.flush()
    return change


def changes_between(
    session: Session, start: datetime, end: datetime, *, limit: int = LIST_LIMIT
) -> list[Change]:
    """Changes dated in [start, end], newest first."""
    return list(
        session.scalars(
            select(Change)
            .where(Change.at >= start, Change.at <= end)
            .order_by(Change.at.desc(), Change.id.desc())
            .limit(limit)
        )
    )


def count_between(session: Session, start: datetime, end: datetime) -> int:
    return int(
        session.scalar(select(func.count()).where(Change.at >= start, Change.at <= end)) or 0
    )


class Style(Protocol):
    def data(self, value: str) -> str: ...
    def time(self, value: datetime) -> str: ...


def _shown(style: Style, value: str, limit: int = FIELD_SHOWN) -> str:
    """One field as the style writes data (escaped entirely for Slack), cut to `limit`
    characters without splitting an entity like `&amp;`."""
    return clip_escaped(style.data(value), limit)


def describe_change(change: Change, style: Style) -> str:
    """One line: `• api 1.4.2 (production) by alice, <time> — <url>`, at most LINE_LIMIT
    characters."""
    env = "" if change.environment == "production" else f" ({_shown(style, change.environment)})"
    who = f" by {_shown(style, change.actor)}" if change.actor else ""
    line = (
        f"• {_shown(style, change.service)} {_shown(style, change.version)}{env}{who}, "
        f"{style.time(change.at)}"
    )
    url = style.data(change.url) if change.url else ""
    if url and len(url) <= URL_SHOWN and len(line) + 3 + len(url) <= LINE_LIMIT:
        line += f" — {url}"
    return line


def describe_changes(changes: list[Change], style: Style, *, total: int | None = None) -> list[str]:
    lines = [describe_change(c, style) for c in changes]
    if total is not None and total > len(changes):
        lines.append(f"…and {total - len(changes)} earlier")
    return lines


def changes_before(
    session: Session, moment: datetime, style: Style, *, limit: int | None = None
) -> list[str]:
    """What `show` and a new incident's thread open with: the changes of the 2 h before
    `moment` (the declaration), or nothing. With `limit`, the lines joined stay within that
    many characters (whole lines; those left out are counted)."""
    start = moment - WINDOW
    rows = changes_between(session, start, moment)
    if not rows:
        return []
    total = count_between(session, start, moment)
    lines = ["Changes in the 2 h before it:"]
    used = len(lines[0])
    for row in rows:
        line = describe_change(row, style)
        if limit is not None and used + 1 + len(line) + 1 + len(f"…and {total} earlier") > limit:
            break
        lines.append(line)
        used += 1 + len(line)
    shown = len(lines) - 1
    if total > shown:
        lines.append(f"…and {total - shown} earlier")
    return lines
