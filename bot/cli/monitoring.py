"""`flare signals` and `flare checks`: what the monitors say, in a terminal."""

from __future__ import annotations

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


def register(sub: Subparsers) -> None:
    signals = sub.add_parser("signals", help="firing and recent monitoring signals")
    signals.set_defaults(run=lambda s, a: cli(s, "signals"))
    checks = sub.add_parser("checks", help="the [[checks]] and their last results")
    checks.set_defaults(run=lambda s, a: cli(s, "checks"))


def _printable(text: str) -> str:
    """What monitors sent, safe for a terminal: control characters shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
