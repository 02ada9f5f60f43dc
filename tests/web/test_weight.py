"""The page stays light: `/` with 10 components and 5 open incidents (10 updates each), 90-day
bars included, is at most 64 KB uncompressed, and a quiet bar day costs a few bytes."""

from __future__ import annotations

import re
from pathlib import Path

from bench.weight import TARGET, page_sizes
from bot.db.migrate import upgrade


def test_weight_page_with_ten_components_and_five_open_incidents(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'flare.db'}"
    upgrade(url)
    sizes = page_sizes(url, 10, 5, past=60)
    assert sizes["identity"] <= TARGET
    assert 0 < sizes["br"] < sizes["gzip"] < sizes["identity"]


def test_weight_quiet_days_have_no_tooltip_and_issue_days_tell_theirs(tmp_path: Path) -> None:
    from dataclasses import replace

    from bench.seed import COMPONENTS, bench_settings, seed
    from bot.db.engine import read_only
    from bot.runtime import Runtime
    from web.public import loading
    from web.public.snapshot import Snapshot

    url = f"sqlite:///{tmp_path / 'flare.db'}"
    upgrade(url)
    settings = replace(bench_settings(url), components=COMPONENTS[:2])
    runtime = Runtime.create(settings)
    try:
        seed(runtime, past=6, open_incidents=1)
        with read_only(runtime.sessions) as session:
            data = loading.load(session, settings, runtime.now())
    finally:
        runtime.close()
    html = Snapshot(data).static["/"].identity.body["body"].decode()
    days = re.findall(r'<i class="d (\w)"( title="[^"]*")?></i>', html)
    assert len(days) == 2 * 90  # the bars (the legend's are aria-hidden)
    quiet = [title for code, title in days if code in "on"]
    told = [title for code, title in days if code in "gpmu"]
    assert all(title == "" for title in quiet)
    assert told and all(re.match(r' title="\w{3} \d\d: ', title) for title in told if title)
