"""`flare subscribers list|remove`: the operators' view of subscribers in a terminal."""

from __future__ import annotations

from bot.cli.parsing import Subparsers
from bot.config import Settings
from bot.subscribers import label, list_subscribers, remove, status_of


def cli(settings: Settings, action: str, target: str | None) -> int:
    """`flare subscribers list` / `flare subscribers remove <id|address>`."""
    from bot.runtime import Runtime

    runtime = Runtime.create(settings)
    try:
        if action == "list":
            with runtime.sessions.begin() as session:
                subscribers = list_subscribers(session)
                for s in subscribers:
                    scope = ",".join(s.component_keys) or "all"
                    extra = (
                        f"  {s.consecutive_failures} failing: {s.last_error}"
                        if (s.consecutive_failures)
                        else ""
                    )
                    if s.disabled_reason:
                        extra += f"  ({s.disabled_reason})"
                    line = f"{s.id}\t{s.public_id}\t{s.kind}\t{status_of(s)}\t{scope}\t{s.address}"
                    print(_printable(line + extra))
                print(f"{len(subscribers)} subscriber(s).")
            return 0
        if action == "remove":
            if not target:
                print("flare subscribers remove: give a subscriber number, id or address.")
                return 2
            with runtime.sessions.begin() as session:
                removed = remove(session, target)
                if removed is None:
                    print(f"No subscriber matches {target!r}.")
                    return 1
                print(_printable(f"Removed {label(removed, mask=False)}."))
            return 0
        print(f"flare subscribers: unknown action {action!r} (list, remove).")
        return 2
    finally:
        runtime.close()


def register(sub: Subparsers) -> None:
    subs = sub.add_parser("subscribers", help="list or remove subscribers")
    subs.add_argument("action", choices=["list", "remove"])
    subs.add_argument("target", nargs="?")
    subs.set_defaults(run=lambda s, a: cli(s, a.action, a.target))


def _printable(text: str) -> str:
    """What subscribers typed, safe for a terminal: control characters shown escaped."""
    return "".join(c if c == "\t" or c.isprintable() else repr(c)[1:-1] for c in text)
