"""The `flare` command. Each module of bot/cli registers its own sub-commands (`register`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli import deploy, incident, serve, subscribers
from bot.cli import monitoring as monitoring_cli
from bot.cli import records as records_cli
from bot.config import ConfigError, configure_logging, load_settings

# Every module that adds `flare` sub-commands, in the order `flare --help` lists them.
MODULES = (serve, incident, subscribers, records_cli, deploy, monitoring_cli)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flare", description="Slack-first incident coordination with a public status page."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for module in MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `incident` words go to the slash-command grammar untouched (options may stand anywhere).
    words = argv[1:] if argv[:1] == ["incident"] else None
    args = build_parser().parse_args(argv if words is None else ["incident"])
    if words is not None:
        args.words = words
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"flare: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format)
    return int(args.run(settings, args))


if __name__ == "__main__":
    raise SystemExit(main())
