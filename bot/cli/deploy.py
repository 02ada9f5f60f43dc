"""`flare deploy SERVICE VERSION [--env E] [--url U] [--actor A] [--at T]`: CI reports a
change straight into the database (the same checks as POST /hooks/deploy)."""

from __future__ import annotations

import argparse
import sys

from bot.cli.database import prepare_runtime
from bot.cli.parsing import Subparsers
from bot.config import Settings
from bot.errors import FlareError


def cmd_deploy(settings: Settings, args: argparse.Namespace) -> int:
    from bot import context
    from bot.runtime import Runtime

    try:
        report = context.check_report(
            service=args.service,
            version=args.version,
            environment=args.env,
            url=args.url,
            actor=args.actor,
            at=args.at,
        )
    except FlareError as error:
        print(f"flare deploy: {error.message}", file=sys.stderr)
        return 2
    runtime = Runtime.create(settings)
    try:
        prepare_runtime(runtime, first_run_only=True)
        with runtime.sessions.begin() as session:
            change = context.record_change(session, report, now=runtime.now(), source="cli")
            line = f"Recorded {change.service} {change.version} ({change.environment})."
    except FlareError as error:
        print(f"flare deploy: {error.message}", file=sys.stderr)
        return 2
    finally:
        runtime.close()
    print(line)
    return 0


def register(sub: Subparsers) -> None:
    deploy = sub.add_parser(
        "deploy",
        help="record a change (a deploy) for the board and incident threads",
        description="Record a change for the board, incident threads and /incident changes.",
    )
    deploy.add_argument("service")
    deploy.add_argument("version")
    deploy.add_argument("--env", default=None, help="environment (default production)")
    deploy.add_argument("--url", default=None, help="link to the change (http or https)")
    deploy.add_argument("--actor", default=None, help="who shipped it")
    deploy.add_argument("--at", default=None, help="when (RFC 3339; default now)")
    deploy.set_defaults(run=cmd_deploy)
