"""`make bench`: every performance target, each against its baseline in the same run; prints a
table and writes docs/benchmarks.md (the machine, the date, every number, its baseline and
the target it meets or misses).

    python -m bench [--quick] [--only page,acks,…] [--output docs/benchmarks.md | --no-write]
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import common
from bench.common import Result
from tests.support.db import admin_dsn

# Order matters: scale reuses the page bench's seeded database.
BENCHES = (
    "page",
    "weight",
    "scale",
    "takeover",
    "propagation",
    "acks",
    "board",
    "reminders",
    "monitoring",
)
NEEDS_PG = {"takeover", "propagation", "acks", "board", "reminders", "monitoring"}
SPEC_TARGETS = [
    "`GET /` and `/api/v2/summary.json` from one `flare web` worker with its production "
    "settings (access log on): ≥ 1.0× the throughput of a plain Starlette route returning the "
    "same bytes on uvicorn `--no-access-log`, in the same run, for identity, gzip and 304; "
    "p99 ≤ 25 ms at 64 connections.",
    "Weight: `/` ≤ 64 KB uncompressed with 10 components and 5 open incidents (90-day bars "
    "included), offered as brotli and gzip.",
    "Scale: the snapshot rebuild with 10,000 past incidents under 0.5 s; a `flare web` "
    "process with that history under 150 MB RSS.",
    "A killed worker's claimed work is taken over within 15 s (leases short and renewed).",
    "After a public update, every process serves the new page within 2 s.",
    "Slash command acknowledged with p99 ≤ 300 ms while the Slack API takes 2 s per call.",
    "50 updates in 10 s → at most 12 board edits, and the final board matches the database.",
    "500 incidents due at once, 3 worker processes on PostgreSQL: each reminder sent exactly "
    "once, within 10 s of its due time; within 2 s at p99.",
    "Monitoring storms: one payload of 1,000 alerts answered in under 1 s; 100 payloads a "
    "second for 10 s all answered 2xx with p99 ≤ 100 ms, the board still edited at most once "
    "a second, one triage message per component episode.",
]


def _run(args: list[str]) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
        return (done.stdout or done.stderr).strip()
    except OSError:
        return ""


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    osname = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip('"') + f" (kernel {platform.release()})"
    except OSError:
        pass
    pg = ""
    try:
        import psycopg

        dsn = admin_dsn(common.PG_URL)
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            pg = f"PostgreSQL {row[0]}" if row else ""
    except Exception:  # noqa: BLE001 - informational only
        pg = "PostgreSQL not reachable"
    import sqlite3

    import starlette
    import uvicorn

    return {
        "CPU": f"{cpu or platform.processor()} × {os.cpu_count()} logical cores",
        "Memory": memory,
        "OS": osname,
        "Python": platform.python_version(),
        "Server": f"uvicorn {uvicorn.__version__}, Starlette {starlette.__version__}",
        "Databases": f"SQLite {sqlite3.sqlite_version}, {pg}",
        "Load generator": (_run(["wrk", "-v"]).splitlines() or ["wrk"])[0],
        "Commit": _run(["git", "-C", str(common.ROOT), "rev-parse", "--short", "HEAD"]),
    }


def table(results: list[Result]) -> list[list[str]]:
    rows = [["Bench", "Metric", "Value", "Baseline (same run)", "Target", "Verdict"]]
    for result in results:
        if result.error:
            rows.append([result.name, "—", f"not run: {result.error}", "—", "—", "not run"])
        for row in result.rows:
            rows.append([row.bench, row.metric, row.value, row.baseline, row.target, row.verdict])
    return rows


def print_table(rows: list[list[str]]) -> None:
    widths = [min(48, max(len(r[i]) for r in rows)) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def markdown(results: list[Result], info: dict[str, str], started: datetime, took: float) -> str:
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); every number below comes from one run, "
        "each against its baseline measured in the same run. Do not edit by hand: re-run.",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC; the whole run took {took / 60:.1f} minutes.",
        *(f"- {key}: {value}" for key, value in info.items()),
        "",
        "## Targets",
        "",
        *(f"{n}. {target}" for n, target in enumerate(SPEC_TARGETS, start=1)),
        "",
        "## Results",
        "",
    ]
    rows = table(results)
    out.append("| " + " | ".join(rows[0]) + " |")
    out.append("|" + "---|" * len(rows[0]))
    for row in rows[1:]:
        out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    missed = [r for res in results for r in res.rows if r.met is False]
    out += ["", "## Verdict", ""]
    if missed:
        out.append(
            "Missed: " + "; ".join(f"{r.bench} — {r.metric} ({r.value})" for r in missed) + "."
        )
    else:
        out.append("Every target checked in this run was met.")
    not_run = [res.name for res in results if res.error]
    if not_run:
        out.append("")
        out.append("Not run: " + ", ".join(not_run) + " (see below).")
    out += ["", "## How each number was measured", ""]
    for result in results:
        out.append(f"### {result.name}")
        out.append("")
        if result.error:
            out += [f"Not run: {result.error}", ""]
        for note in result.notes:
            out += [note, ""]
        out.append(f"Bench wall time: {result.seconds:.0f} s.")
        out.append("")
        if result.profile:
            out += ["Profile explaining the miss:", "", "```", result.profile.rstrip(), "```", ""]
    return "\n".join(out).rstrip() + "\n"


def run_all(names: list[str], cfg: common.Config) -> list[Result]:
    results = []
    pg_problem = common.pg_available() if NEEDS_PG & set(names) else ""
    for name in names:
        print(f"== {name} …", flush=True)
        started = time.perf_counter()
        if name in NEEDS_PG and pg_problem:
            result = Result(name, error=pg_problem)
        else:
            try:
                result = importlib.import_module(f"bench.{name}").run(cfg)
            except Exception as error:  # noqa: BLE001 - one failed bench must not hide the rest
                traceback.print_exc()
                result = Result(name, error=f"{type(error).__name__}: {error}"[:500])
            finally:
                common.stop_all()
        result.seconds = time.perf_counter() - started
        print(f"   {name}: {result.seconds:.0f} s", flush=True)
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="smoke sizes: seconds, not minutes")
    parser.add_argument("--only", default="", help="comma-separated subset of " + ",".join(BENCHES))
    parser.add_argument("--output", default=str(common.ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHES)
    unknown = set(names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown bench: {', '.join(sorted(unknown))}")
    started = datetime.now(UTC)
    clock = time.perf_counter()
    cfg = common.Config(common.new_root(), quick=args.quick)
    print(f"bench: working in {cfg.root}", flush=True)
    results = run_all(names, cfg)
    took = time.perf_counter() - clock
    print()
    print_table(table(results))
    print(f"\nbench: {took:.0f} s in all", flush=True)
    if not args.no_write:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown(results, machine(), started, took), encoding="utf-8")
        print(f"bench: wrote {path}")
    failed = any(r.error for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
