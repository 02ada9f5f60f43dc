"""The `flare` command: run, web, worker, migrate, incident, lint-public, subscribers."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from bot.cli.incident import cmd_incident, cmd_lint_public
from bot.cli.serve import cmd_serve, cmd_worker
from bot.config import ConfigError, load_settings
from bot.text.durations import parse_count


def _whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in ASCII digits within [low, high] (int() would take
    "８０" and "٨٠", and isdigit() "²")."""

    def parse(text: str) -> int:
        value = parse_count(text)
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number {low}-{high}")
        return value

    return parse


PORT = _whole(1, 65535)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flare", description="Slack-first incident coordination with a public status page."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="everything in one process (SQLite out of the box)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=PORT)
    web = sub.add_parser("web", help="serve HTTP: public page, API, feeds, Slack endpoint")
    web.add_argument("--host", default="0.0.0.0")
    web.add_argument("--port", type=PORT)
    web.add_argument("--workers", type=_whole(1, 512), default=1)
    sub.add_parser("worker", help="run the scheduler and drain the outbox")
    sub.add_parser("migrate", help="alembic upgrade head")
    incident = sub.add_parser(
        "incident",
        help="any /incident sub-command, for when Slack is down",
        description="Same words as /incident. Options anywhere: --as U…, --force, "
        "--next-in 10m; -- ends options.",
    )
    incident.add_argument("words", nargs=argparse.REMAINDER)
    lint = sub.add_parser("lint-public", help="check public text on stdin (JSON lines out)")
    lint.add_argument("--status", default="investigating")
    lint.add_argument("--jsonl", action="store_true")
    subs = sub.add_parser("subscribers", help="list or remove subscribers")
    subs.add_argument("action", choices=["list", "remove"])
    subs.add_argument("target", nargs="?")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    argv = list(sys.argv[1:] if argv is None else argv)
    # `incident` words go to the slash-command grammar untouched (options may stand anywhere).
    words = argv[1:] if argv[:1] == ["incident"] else None
    args = build_parser().parse_args(argv if words is None else ["incident"])
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"flare: configuration error: {error}", file=sys.stderr)
        return 2
    if words is not None:
        return cmd_incident(settings, words)
    if args.command == "lint-public":
        return cmd_lint_public(settings, args.status, args.jsonl)
    if args.command == "migrate":
        from bot.db.migrate import upgrade

        upgrade(settings.database_url)
        print("Database is at the latest schema.")
        return 0
    if args.command == "subscribers":
        from bot.cli.subscribers import cli as subscribers_cli

        return subscribers_cli(settings, args.action, args.target)
    if args.command == "run":
        return cmd_serve(settings, mode="all", host=args.host, port=args.port or settings.port)
    if args.command == "web":
        return cmd_serve(
            settings,
            mode="web",
            host=args.host,
            port=args.port or settings.port,
            workers=args.workers,
        )
    if args.command == "worker":
        return cmd_worker(settings)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
