"""`flare incident export`, `flare stats` and `flare backup`: the records in a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from bot.cli.database import prepare_runtime
from bot.cli.options import split_options
from bot.cli.parsing import Subparsers
from bot.config import Settings
from bot.errors import FlareError, UsageError
from bot.runtime import Runtime
from bot.text import grammar
from bot.text.durations import DurationError, parse_duration

EXPORT_USAGE = "flare incident export <ref> [--format md|json]"


def cmd_export(settings: Settings, words: Sequence[str]) -> int:
    """`flare incident export <ref> [--format md|json]`: the postmortem on stdout."""
    from bot import incidents as svc
    from bot import records
    from bot.db.engine import read_only

    try:
        options, rest = split_options(words, {"--format": True})
        fmt = options.get("--format", "md").lower()
        if fmt not in {"md", "json"}:
            raise UsageError(f"--format is md or json, not {fmt!r}.", EXPORT_USAGE)
        number = grammar.parse_ref(rest[0]) if len(rest) == 1 else None
        if number is None:
            raise UsageError("Give one incident reference, like INC-7.", EXPORT_USAGE)
        runtime = Runtime.create(settings)
        try:
            prepare_runtime(runtime, first_run_only=True)
            with read_only(runtime.sessions) as session:
                incident = svc.get_incident(session, number)
                document = records.build(
                    session, incident, runtime.now(), public_url=settings.public_url
                )
        finally:
            runtime.close()
    except UsageError as error:
        print(error.message, file=sys.stderr)
        print(f"Usage: {error.usage or EXPORT_USAGE}", file=sys.stderr)
        return 2
    except FlareError as error:
        print(error.message, file=sys.stderr)
        return 1
    if fmt == "json":
        print(json.dumps(records.as_json(document), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(records.render_markdown(document))
    return 0


def cmd_stats(settings: Settings, since: str, as_json: bool) -> int:
    from bot import records
    from bot.db.engine import read_only

    try:
        period = parse_duration(since, name="--since")
    except DurationError as error:
        print(str(error), file=sys.stderr)
        return 2
    if period > grammar.LOOKBACK_LIMIT:
        print("--since looks back at most a year.", file=sys.stderr)
        return 2
    runtime = Runtime.create(settings)
    try:
        prepare_runtime(runtime, first_run_only=True)
        with read_only(runtime.sessions) as session:
            result = records.compute_stats(session, runtime.now(), period)
    finally:
        runtime.close()
    if as_json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        print(records.stats_summary(result, _label(period)))
    return 0


def _label(period: timedelta) -> str:
    days = period / timedelta(days=1)
    return f"{days:g} days" if days >= 1 else f"{period.total_seconds() / 3600:g} h"


def cmd_backup(settings: Settings, path: str) -> int:
    from bot.records import backup_sqlite, pg_dump_command

    target = Path(path)
    if not settings.is_sqlite:
        print("PostgreSQL is backed up with its own tool; this is what would run:")
        print(pg_dump_command(settings.database_url, target))
        return 2
    try:
        result = backup_sqlite(settings.database_url, target)
    except FlareError as error:
        print(error.message, file=sys.stderr)
        return 1
    print(
        f"Backed up to {result.path} ({result.size:,} bytes, {result.pages} pages); "
        f"integrity check: {result.integrity}."
    )
    return 0


def register(sub: Subparsers) -> None:
    stats = sub.add_parser("stats", help="incidents, response times and promises over a period")
    stats.add_argument("--since", default="30d", help="how far back (default 30d)")
    stats.add_argument("--json", action="store_true", help="one JSON object")
    stats.set_defaults(run=lambda s, a: cmd_stats(s, a.since, a.json))
    backup = sub.add_parser("backup", help="a consistent copy of the SQLite database")
    backup.add_argument("path")
    backup.set_defaults(run=lambda s, a: cmd_backup(s, a.path))
