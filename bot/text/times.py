"""How times are written, in one place: every surface shows UTC the same way.

`iso` is the one machine format (API, webhooks, feeds, exports, `datetime` attributes):
ISO-8601 in UTC with milliseconds and a `Z`, as Statuspage writes it. The others are for
people: `hhmm` for promises ("14:20 UTC"), `stamp` for update times ("Nov 25, 14:20 UTC")
and `full` where the date must be unambiguous ("2026-11-25 14:20 UTC").
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime | None) -> str | None:
    """`2026-11-25T14:00:00.000Z`, or None."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def hhmm(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%H:%M UTC")


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%b %d, %H:%M UTC")


def full(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def promise(value: datetime, now: datetime) -> str:
    """A promised time: `14:20 UTC` when it is today, else with its date."""
    if value.astimezone(UTC).date() == now.astimezone(UTC).date():
        return hhmm(value)
    return stamp(value)


# Times people and CI type are taken within these bounds: nothing Flare records is older,
# and a year's arithmetic either side of them never leaves datetime's range.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def parse_instant(text: str) -> datetime | None:
    """RFC 3339 / ISO 8601 with an offset (a `Z` too) as an aware UTC time within
    [EARLIEST, LATEST), or None: no offset, not a time, or out of range (an offset that
    would carry it past year 1 or 9999 included)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            return None
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # "0001-01-01T00:30+01:00" is in year 0 in UTC
        return None
    return parsed if EARLIEST <= parsed < LATEST else None
