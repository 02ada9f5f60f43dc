"""`flare incident …` and `flare lint-public`: the `/incident` commands and the hygiene
check from a shell, for when Slack itself is down.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta

from bot.cli.database import component_keys, prepare_runtime
from bot.cli.options import join_words, split_options
from bot.cli.parsing import Subparsers
from bot.commands import PlainStyle, execute, reads_only
from bot.config import ConfigError, Settings
from bot.db.engine import read_only
from bot.errors import FlareError, UsageError
from bot.incidents import CLI, Actor, actor_for
from bot.runtime import Runtime
from bot.text import grammar
from bot.text.durations import DurationError, parse_duration
from bot.text.hygiene import HygieneBlocked


def cmd_incident(settings: Settings, words: Sequence[str]) -> int:
    if words[:1] == ["export"]:  # a terminal-only sub-command: the postmortem on stdout
        from bot.cli.records import cmd_export

        return cmd_export(settings, words[1:])
    try:
        options, rest = split_options(words, {"--as": True, "--force": False, "--next-in": True})
        actor = _actor(settings, options.get("--as"))
        next_in = _next_in(options["--next-in"]) if "--next-in" in options else None
        runtime = Runtime.create(settings)
        try:
            prepare_runtime(runtime, first_run_only=True)
            command = grammar.parse(join_words(rest), component_keys(runtime))
            if command.name == "declare" and not command.text:
                raise UsageError("A title is needed on the command line.", grammar.usage("declare"))
            reads = reads_only(command.name)  # stats: a read-only session, no write lock
            with read_only(runtime.sessions) if reads else runtime.sessions.begin() as session:
                reply = execute(
                    session,
                    settings,
                    command,
                    actor=actor,
                    now=runtime.now(),
                    style=PlainStyle(),
                    force="--force" in options,
                    next_in=next_in,
                )
        finally:
            runtime.close()
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


def _next_in(text: str) -> timedelta:
    try:
        return parse_duration(text, name="--next-in")
    except DurationError as error:
        raise UsageError(str(error), "") from None


def _actor(settings: Settings, as_user: str | None) -> Actor:
    """The operator `cli` (trusted like a responder), or `--as U…`, who is held to the
    responders rule like anywhere else (a user group cannot be read without Slack)."""
    if as_user is None:
        return CLI
    user = grammar.parse_user(as_user)
    if user is None:
        raise UsageError(f"--as takes a Slack user ID like U012AB3CD, not {as_user!r}.", "")
    why = (
        "A responders user group cannot be read from the CLI; omit --as to act as `cli`."
        if any(r.startswith("S") for r in settings.responders)
        else ""
    )
    return actor_for(settings, user, why_not=why)


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


def register(sub: Subparsers) -> None:
    incident = sub.add_parser(
        "incident",
        help="any /incident sub-command, for when Slack is down",
        description="Same words as /incident. Options anywhere: --as U…, --force, "
        "--next-in 10m; -- ends options.",
    )
    incident.add_argument("words", nargs=argparse.REMAINDER)
    incident.set_defaults(run=lambda s, a: cmd_incident(s, a.words))
    lint = sub.add_parser("lint-public", help="check public text on stdin (JSON lines out)")
    lint.add_argument("--status", default="investigating")
    lint.add_argument("--jsonl", action="store_true")
    lint.set_defaults(run=lambda s, a: cmd_lint_public(s, a.status, a.jsonl))
