"""Weight: `/` with 10 components and 5 open incidents (10 updates each), 90-day bars included,
uncompressed and as the gzip and brotli bodies the snapshot precomputes; baseline: the page
bench's 20 components and 3 open incidents, same run, same markup."""

from __future__ import annotations

from dataclasses import replace

from bench import common
from bench.common import Result
from bench.seed import COMPONENTS, bench_settings, seed
from bot.db.engine import read_only
from bot.runtime import Runtime
from web.public import loading
from web.public.snapshot import Snapshot

TARGET = 64 * 1024


def page_sizes(url: str, components: int, open_incidents: int, past: int) -> dict[str, int]:
    settings = replace(bench_settings(url), components=COMPONENTS[:components])
    runtime = Runtime.create(settings)
    try:
        seed(runtime, past=past, open_incidents=open_incidents)
        with read_only(runtime.sessions) as session:
            data = loading.load(session, settings, runtime.now())
    finally:
        runtime.close()
    page = Snapshot(data).static["/"]
    return {name: len(page.variant(name).body["body"]) for name in ("identity", "gzip", "br")}


def run(cfg: common.Config) -> Result:
    result = Result("Weight")
    past = 30 if cfg.quick else 60  # six incidents a component in 85 days
    busy = 30 if cfg.quick else 200  # twenty: an incident every four days on each component
    mine = page_sizes(common.sqlite_database(cfg.dir("weight-10")), 10, 5, past)
    crowded = page_sizes(common.sqlite_database(cfg.dir("weight-busy")), 10, 5, busy)
    theirs = page_sizes(common.sqlite_database(cfg.dir("weight-20")), 20, 3, busy)

    def kb(sizes: dict[str, int]) -> str:
        return (
            f"{sizes['identity'] / 1024:.1f} KB ({sizes['gzip'] / 1024:.1f} KB gzip, "
            f"{sizes['br'] / 1024:.1f} KB brotli)"
        )

    result.row(
        "`/` with 10 components, 5 open incidents, 90-day bars",
        kb(mine),
        baseline=f"20 components, 3 open: {kb(theirs)}",
        target="≤ 64 KB uncompressed; brotli and gzip offered",
        met=mine["identity"] <= TARGET and mine["br"] > 0 and mine["gzip"] > 0,
    )
    result.row(
        f"the same with {busy} past incidents (more coloured days, each with its tooltip "
        "and a line under “Days with issues”)",
        kb(crowded),
        baseline=f"20 components, 3 open, {busy} past: {kb(theirs)}",
    )
    result.notes.append(
        f"SQLite, {past} past incidents spread over 85 days (so the bars have coloured days), "
        f"{past // 10} per component; "
        "each open incident with 10 updates of ~200 characters. Sizes are the snapshot's own "
        "precomputed bodies (`web.public.snapshot.represent`: gzip level 9, brotli quality 9). "
        'A quiet bar day is `<i class="d o"></i>`: a level letter; only a day with something '
        "to tell has a tooltip. The page grows by about 0.2 KB per coloured day."
    )
    return result
