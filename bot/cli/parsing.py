"""argparse types and the shape every `flare` sub-command has: a module registers its
parsers with `set_defaults(run=…)`, and `run(settings, args)` returns the exit code."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bot.text.durations import parse_count


def whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in ASCII digits within [low, high] (int() would take
    "８０" and "٨٠", and isdigit() "²")."""

    def parse(text: str) -> int:
        value = parse_count(text)
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number {low}-{high}")
        return value

    return parse


PORT = whole(1, 65535)
Subparsers = argparse._SubParsersAction  # noqa: SLF001 - argparse has no public name for it
