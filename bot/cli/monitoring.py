"""`flare signals` and `flare checks`: what the monitors say, in a terminal; `flare signals
clear <id>` ends a signal its monitor will never resolve (whoever has the shell is trusted,
as for every `flare` command)."""

from __future__ import annotations

import sys

from bot import monitoring
from bot.cli.parsing import Subparsers
from bot.config import Settings
from bot.text import times


def cli(settings: Settings, what: str) -> int:
    from bot.db.engine import read_only
    from bot.runtime import Runtime

    runtime = Runtime.create(settings)
    try:
        with read_only(runtime.sessions) as session:
            rep = monitoring.report(session, settings, runtime.now())
        render = monitoring.signals_text if what == "signals" else monitoring.checks_text
        print(render(rep, times.full, _printable))
        return 0
    finally:
        runtime.close()


def clear(settings: Settings, signal_id: int) -> int:
    from bot.errors import FlareError
    from bot.runtime import Runtime

    runtime = Runtime.create(settings)
    try:
        with runtime.sessions.begin() as session:
            signal = monitoring.clear_signal(session, signal_id, runtime.now())
            name = _printable(signal.name)
        print(f"Cleared signal #{signal_id} ({name}); the next tick moves its component on.")
        return 0
    except FlareError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        runtime.close()


def register(sub: Subparsers) -> None:
    signals = sub.add_parser("signals", help="firing and recent monitoring signals")
    signals.add_argument("action", nargs="?", choices=["clear"], help="clear <id>: end a signal")
    signals.add_argument("id", nargs="?", type=int, help="the signal's #id (flare signals)")
    signals.set_defaults(
        run=lambda s, a: cli(s, "signals") if a.action is None else _clear(s, a.id)
    )
    checks = sub.add_parser("checks", help="the [[checks]] and their last results")
    checks.set_defaults(run=lambda s, a: cli(s, "checks"))


def _clear(settings: Settings, signal_id: int | None) -> int:
    if signal_id is None:
        print("Give the signal's #id: flare signals clear <id>", file=sys.stderr)
        return 2
    return clear(settings, signal_id)


def _printable(text: str) -> str:
    """What monitors sent, safe for a terminal: control characters shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
