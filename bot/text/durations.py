"""Durations as people write them everywhere in Flare: `30s`, `15m`, `1.5h`, `30d` (pure)."""

from __future__ import annotations

import re
from datetime import timedelta

# ASCII digits only: `\d` would accept other scripts' digits, and "²" slips past isdigit().
_DURATION = re.compile(r"^\s*([0-9]{1,9}(?:\.[0-9]{1,6})?)\s*([smhd])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# No duration Flare reads means more than this (each use has its own, smaller bound); it
# keeps every `now ± duration` far from datetime's limits.
MAX_DURATION = timedelta(days=3660)


class DurationError(ValueError):
    """Not a duration; the message names what was being read and fits on one line."""


class DurationTooLong(DurationError):
    """A duration past MAX_DURATION."""


def parse_duration(text: str, *, name: str = "duration") -> timedelta:
    """`15m`, `30s`, `1h`, `1.5h`, `30d` → timedelta; DurationError otherwise."""
    match = _DURATION.match(text or "")
    if not match:
        raise DurationError(f"{name}: {text!r} is not a duration like 30s, 15m, 1h or 30d")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds <= 0:
        raise DurationError(f"{name}: {text!r} must be longer than zero")
    if seconds > MAX_DURATION.total_seconds():
        raise DurationTooLong(f"{name}: {text!r} is longer than {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


def parse_count(text: str) -> int | None:
    """A whole number written in ASCII digits (`10`), else None: `isdigit()` accepts "²"."""
    value = text.strip()
    if not value or len(value) > 9 or not all("0" <= c <= "9" for c in value):
        return None
    return int(value)
