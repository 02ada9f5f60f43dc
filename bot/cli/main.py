"""The `flare` command: run, web, worker, migrate, incident, lint-public, subscribers."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.commands.dispatch import PlainStyle, execute
from bot.config import ConfigError, Settings, load_settings, parse_duration
from bot.errors import FlareError, HygieneBlocked, UsageError
from bot.text import grammar

log = logging.getLogger("flare")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _split_options(
    words: Sequence[str], flags: dict[str, bool]
) -> tuple[dict[str, str], list[str]]:
    """Options may stand anywhere among the words; `--` ends them.

    `flags` maps option name → takes a value. Returns (options, remaining words).
    """
    options: dict[str, str] = {}
    rest: list[str] = []
    it = iter(words)
    for word in it:
        if word == "--":
            rest.extend(it)
            break
        name, eq, value = word.partition("=")
        if name in flags:
            if flags[name]:
                if not eq:
                    value = next(it, "")
                if not value:
                    raise UsageError(f"{name} needs a value.", grammar.usage())
                options[name] = value
            else:
                options[name] = "1"
            continue
        rest.append(word)
    return options, rest


def _join(words: Sequence[str]) -> str:
    """Re-quote words the shell grouped, so the slash-command grammar sees the same groups."""
    return " ".join(f'"{w}"' if (not w or any(c.isspace() for c in w)) else w for w in words)


def _session_factory(settings: Settings) -> sessionmaker[Session]:
    from bot.db.engine import make_engine, make_session_factory

    return make_session_factory(make_engine(settings.database_url))


def cmd_incident(settings: Settings, words: Sequence[str]) -> int:
    from bot.incidents import CLI_ACTOR

    try:
        options, rest = _split_options(words, {"--as": True, "--force": False, "--next-in": True})
        actor = options.get("--as", CLI_ACTOR)
        if actor != CLI_ACTOR and grammar.parse_user(actor) is None:
            raise UsageError(f"--as takes a Slack user ID like U012AB3CD, not {actor!r}.", "")
        actor = grammar.parse_user(actor) or actor
        next_in = (
            parse_duration(options["--next-in"], name="--next-in")
            if "--next-in" in options
            else None
        )
        command = grammar.parse(_join(rest), settings.component_keys())
        if command.name == "declare" and not command.text:
            raise UsageError("A title is needed on the command line.", grammar.usage("declare"))
        _ensure_schema(settings)
        factory = _session_factory(settings)
        with factory.begin() as session:
            reply = execute(
                session,
                settings,
                command,
                actor=actor,
                now=utcnow(),
                style=PlainStyle(),
                force="--force" in options,
                next_in=next_in,
            )
    except HygieneBlocked as blocked:
        print(f"Not published: {blocked.message}.", file=sys.stderr)
        for finding in blocked.findings:
            print(
                f"  {finding.kind} at {finding.start}-{finding.end} “{finding.text}”: "
                f"{finding.advice}",
                file=sys.stderr,
            )
        print("Fix the text, or add --force to publish anyway.", file=sys.stderr)
        return 1
    except UsageError as error:
        print(error.message, file=sys.stderr)
        if error.usage:
            print(error.usage, file=sys.stderr)
        return 2
    except (FlareError, ConfigError) as error:
        print(str(error) if isinstance(error, ConfigError) else error.message, file=sys.stderr)
        return 1
    print(reply.text)
    return 0


def _ensure_schema(settings: Settings) -> None:
    """On SQLite the schema is built on first use, so a fresh checkout just works."""
    if settings.is_sqlite:
        from bot.db.migrate import upgrade

        upgrade(settings.database_url)
    _sync_components(settings)


def _sync_components(settings: Settings) -> None:
    from bot.db.engine import make_engine, make_session_factory
    from bot.incidents import sync_components

    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            sync_components(session, settings, utcnow())
    finally:
        engine.dispose()


def cmd_lint_public(settings: Settings, status: str, jsonl: bool) -> int:
    from bot.text.hygiene import lint_public

    output, code = lint_public(
        sys.stdin.read(),
        status=status,
        jsonl=jsonl,
        deny=settings.hygiene_deny,
        own_domains=settings.own_domains,
    )
    if output:
        sys.stdout.write(output if output.endswith("\n") else output + "\n")
    return code


def cmd_serve(settings: Settings, *, mode: str, host: str, port: int, workers: int = 1) -> int:
    import uvicorn

    if settings.is_sqlite:
        from bot.db.migrate import upgrade

        upgrade(settings.database_url)
    _sync_components(settings)
    if not settings.slack_enabled:
        log.warning(
            "Slack is off: SLACK_BOT_TOKEN is not set. To connect Slack, create the app from "
            "slack-app-manifest.yml, then set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or "
            "SLACK_APP_TOKEN for Socket Mode) and FLARE_INCIDENTS_CHANNEL. The page and the "
            "CLI work meanwhile."
        )
    # The web app reads its role from here: `run` also sweeps and drains in-process.
    os.environ["FLARE_PROCESS_MODE"] = mode
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips="*",
        timeout_graceful_shutdown=5,
    )
    return 0


def cmd_worker(settings: Settings) -> int:
    from bot.worker import run_worker

    if settings.is_sqlite:
        from bot.db.migrate import upgrade

        upgrade(settings.database_url)
    _sync_components(settings)
    run_worker(settings)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flare", description="Slack-first incident coordination with a public status page."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="everything in one process (SQLite out of the box)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int)
    web = sub.add_parser("web", help="serve HTTP: public page, API, feeds, Slack endpoint")
    web.add_argument("--host", default="0.0.0.0")
    web.add_argument("--port", type=int)
    web.add_argument("--workers", type=int, default=1)
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
