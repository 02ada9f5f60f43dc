"""Scale: how long one page snapshot takes to rebuild, and what it holds in memory, with
10,000 past incidents; baseline: the 500-incident page of the page-load bench, same run.

Each measurement runs in a fresh interpreter (`python -m bench.scale DATABASE_URL`) so memory
numbers are that process's own: resident set before the first build, after it (the snapshot
kept), and the peak; then the median of further rebuilds (load = queries + view model,
render = templates, JSON, feeds, gzip).
"""

from __future__ import annotations

import gc
import json
import sqlite3
import subprocess
import sys
import time
from typing import Any

from bench import common
from bench.common import Result, median
from bench.seed import bench_settings, clone_past, seed
from bot.runtime import Runtime

TARGET_REBUILD = 0.5  # the version check is every second; a rebuild is half of the other one
TARGET_RSS_MIB = 150.0


def web_rss(url: str, directory: Any) -> float:
    """Resident MiB of a `flare web` process on this database, after it has served its pages."""
    from bench.seed import write_config

    env = common.clean_env(
        DATABASE_URL=url,
        FLARE_CONFIG=str(write_config(directory / "flare.toml")),
        PYTHONPATH=str(common.ROOT),
    )
    port = common.free_port()
    process = common.flare_web(env, port, directory / "web.log")
    try:
        for path in ("/", "/api/v2/summary.json", "/api/v2/incidents.json", "/history"):
            common.http_get(f"http://127.0.0.1:{port}{path}", timeout=30)
        time.sleep(1.0)
        with open(f"/proc/{process.pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")
    finally:
        common.stop(process)


def _rss_kib(field: str = "VmRSS") -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def measure(url: str, repeats: int) -> dict[str, float]:
    from bench.seed import COMPONENTS  # noqa: F401 - same settings as the seed
    from bot.db.engine import read_only
    from web.public import loading as views
    from web.public.snapshot import Snapshot

    runtime = Runtime.create(bench_settings(url))
    gc.collect()
    before = _rss_kib()
    replays = views.ReplayCache()  # what a running web process keeps between rebuilds

    def build() -> tuple[Snapshot, float, float]:
        started = time.perf_counter()
        with read_only(runtime.sessions) as session:
            data = views.load(session, runtime.settings, runtime.now(), replays)
        loaded = time.perf_counter()
        snapshot = Snapshot(data)
        return snapshot, loaded - started, time.perf_counter() - loaded

    first, load0, render0 = build()  # cold: every incident replayed
    gc.collect()
    held = _rss_kib()
    loads: list[float] = []
    renders: list[float] = []
    for _ in range(repeats):
        snapshot, load, render = build()
        loads.append(load)
        renders.append(render)
        del snapshot
    static = sum(
        len(r.identity.body["body"]) + len(r.gzip.body["body"]) + len(r.br.body["body"])
        for r in first.static.values()
    )
    runtime.close()
    return {
        "load": median(loads),
        "render": median(renders),
        "total": median([a + b for a, b in zip(loads, renders, strict=True)]),
        "cold": load0 + render0,
        "rss_before_mib": before / 1024,
        "rss_held_mib": held / 1024,
        "peak_mib": _rss_kib("VmHWM") / 1024,
        "bytes_mib": static / 1024 / 1024,
    }


def _measure_in_child(url: str, repeats: int | str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", url, str(repeats)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=common.ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scale measurement failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(cfg: common.Config) -> Result:
    result = Result("Scale")
    total = 300 if cfg.quick else 10_000
    repeats = 1 if cfg.quick else 3
    directory = cfg.dir("scale")
    url = common.sqlite_database(directory)
    page_db = cfg.root / "page" / "flare.db"
    started = time.perf_counter()
    if page_db.exists() and not cfg.quick:  # the page bench's 500 incidents: reuse them
        (directory / "flare.db").unlink()
        with sqlite3.connect(page_db) as source, sqlite3.connect(directory / "flare.db") as dest:
            source.backup(dest)
    else:
        runtime = Runtime.create(bench_settings(url))
        try:
            seed(runtime, past=30 if cfg.quick else 500)
        finally:
            runtime.close()
    small = _measure_in_child(url, repeats)
    small_rss = web_rss(url, directory)
    runtime = Runtime.create(bench_settings(url))
    try:
        clone_past(runtime, total)
    finally:
        runtime.close()
    seeded = time.perf_counter() - started
    large = _measure_in_child(url, repeats)
    large_rss = web_rss(url, directory)
    base_n = 30 if cfg.quick else 500
    result.row(
        f"snapshot rebuild, {total:,} past incidents (load + render)",
        f"{large['total']:.2f} s ({large['load']:.2f} + {large['render']:.2f})",
        baseline=f"{base_n} past: {small['total']:.2f} s ({small['load']:.2f} + "
        f"{small['render']:.2f})",
        target="< 0.5 s",
        met=large["total"] < TARGET_REBUILD if not cfg.quick else None,
    )
    result.row(
        f"first build at start-up, {total:,} past incidents (every incident replayed)",
        f"{large['cold']:.2f} s",
        baseline=f"{base_n} past: {small['cold']:.2f} s",
    )
    result.row(
        f"memory held by one snapshot, {total:,} past",
        f"{large['rss_held_mib'] - large['rss_before_mib']:.0f} MiB "
        f"(peak RSS {large['peak_mib']:.0f} MiB)",
        baseline=f"{base_n} past: {small['rss_held_mib'] - small['rss_before_mib']:.0f} MiB "
        f"(peak {small['peak_mib']:.0f} MiB)",
    )
    result.row(
        f"`flare web` resident memory, {total:,} past incidents (after serving its pages)",
        f"{large_rss:.0f} MiB",
        baseline=f"{base_n} past: {small_rss:.0f} MiB",
        target=f"< {TARGET_RSS_MIB:.0f} MB",
        met=large_rss < TARGET_RSS_MIB if not cfg.quick else None,
    )
    result.row(
        f"bytes of the eager representations, {total:,} past",
        f"{large['bytes_mib']:.1f} MiB",
        baseline=f"{base_n} past: {small['bytes_mib']:.1f} MiB",
    )
    profiles = []
    if large["total"] >= TARGET_REBUILD and not cfg.quick:
        profiles.append(
            f"cProfile of one rebuild with {total:,} past incidents (cumulative time):\n\n"
            + _measure_in_child(url, "profile")["profile"]
        )
    if large_rss >= TARGET_RSS_MIB and not cfg.quick:
        profiles.append(
            f"tracemalloc after the first build with {total:,} past incidents (live Python "
            "objects, by allocation site; compare with the resident set above: the rest is "
            "heap the cold build used and the allocator keeps):\n\n"
            + _measure_in_child(url, "memory")["profile"]
        )
    result.profile = "\n\n".join(profiles)
    result.notes.append(
        f"SQLite. The history beyond the first {base_n} incidents is copied from the seeded "
        f"rows, each copy shifted 85 days further back (seeding took {seeded:.0f} s). Rebuild = "
        "`web.public.loading.load` in a read-only session + "
        "`web.public.snapshot.Snapshot(data)` (every eager "
        f"representation, identity, gzip and brotli), median of {repeats} rebuilds after the "
        "first in a fresh process, with the replay cache a running process keeps; memory is that "
        "process's resident set after the first build, kept alive."
    )
    return result


def profile(url: str, lines: int = 18) -> str:
    """cProfile of one rebuild, the functions with the most cumulative time."""
    import cProfile
    import io
    import pstats

    from bot.db.engine import read_only
    from web.public import loading as views
    from web.public.snapshot import Snapshot

    runtime = Runtime.create(bench_settings(url))
    profiler = cProfile.Profile()
    profiler.enable()
    with read_only(runtime.sessions) as session:
        data = views.load(session, runtime.settings, runtime.now())
    Snapshot(data)
    profiler.disable()
    runtime.close()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(lines)
    text = out.getvalue()
    return text[text.find("   ncalls") :] if "   ncalls" in text else text


def memory(url: str, lines: int = 10) -> str:
    """Live Python memory after a cold build, by allocation site (tracemalloc)."""
    import tracemalloc

    from bot.db.engine import read_only
    from web.public import loading as views
    from web.public.snapshot import Snapshot

    runtime = Runtime.create(bench_settings(url))
    tracemalloc.start()
    with read_only(runtime.sessions) as session:
        data = views.load(session, runtime.settings, runtime.now(), views.ReplayCache())
    snapshot = Snapshot(data)
    gc.collect()
    stats = tracemalloc.take_snapshot().statistics("lineno")
    traced = sum(x.size for x in stats) / 2**20
    out = [f"{traced:.1f} MiB traced in all; {_rss_kib() / 1024:.0f} MiB RSS"]
    for x in stats[:lines]:
        out.append(f"{x.size / 2**20:6.1f} MiB {x.count:8,d} objects  {x.traceback[0]}")
    del snapshot
    runtime.close()
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[2] == "profile":
        print(json.dumps({"profile": profile(sys.argv[1])}))
    elif sys.argv[2] == "memory":
        print(json.dumps({"profile": memory(sys.argv[1])}))
    else:
        print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
