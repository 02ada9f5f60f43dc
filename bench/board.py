"""Board coalescing: 50 public updates in 10 s through signed slash commands, two `flare worker`
processes refreshing the pinned board; count the board edits Slack received and check the
final board equals what the database renders.

The baseline is the uncoalesced board: one edit per change (50).
"""

from __future__ import annotations

import time
from datetime import timedelta

from bench import common
from bench.acks import fire
from bench.common import Result
from bot.config import Settings
from bot.db.engine import read_only
from bot.runtime import Runtime
from bot.slack import board
from tests.support.fakeslack import FakeSlack

UPDATES = 50
WINDOW = 10.0
TARGET_EDITS = 12


def pinned_board(fake: FakeSlack) -> tuple[str, list[object] | None] | None:
    pins = fake.pins.get(common.CHANNEL) or set()
    for message in fake.channel_messages(common.CHANNEL):
        if message.ts in pins and not message.deleted and message.text.startswith("Incident"):
            return message.ts, message.blocks
    return None


def database_board(runtime: Runtime) -> list[object]:
    with read_only(runtime.sessions) as session:
        view = board.gather(session, runtime.settings, runtime.now())
    return list(board.render_board(view)[1])


def run(cfg: common.Config) -> Result:
    result = Result("Board coalescing")
    updates = 10 if cfg.quick else UPDATES
    window = 2.0 if cfg.quick else WINDOW
    with common.pg_database("board") as url, FakeSlack() as fake:
        directory = cfg.dir("board")
        env = common.slack_env(fake.url, url, FLARE_TICK="1s")
        settings = Settings(
            database_url=url,
            slack_bot_token=common.SLACK_TOKEN,
            slack_signing_secret=common.SLACK_SECRET,
            slack_api_url=fake.url,
            incidents_channel=common.CHANNEL,
            tick=timedelta(seconds=1),
        )
        runtime = Runtime.create(settings)
        port = common.free_port()
        common.flare_web(env, port, directory / "web.log")
        workers = [common.flare_worker(env, directory / f"worker{n}.log") for n in (1, 2)]
        endpoint = f"http://127.0.0.1:{port}/slack/events"
        try:
            fire(endpoint, fake, ["declare sev1 Checkout errors"], 1)
            # Settled: the root is posted and the board, with its thread link, is pinned.
            common.wait_until(
                lambda: (b := pinned_board(fake)) is not None and b[1] == database_board(runtime),
                timeout=60,
                what="the first board",
            )
            ts = pinned_board(fake)[0]  # type: ignore[index]
            started = time.monotonic()
            texts = [
                f"update 1 {'identified' if n % 2 else 'monitoring'} Step {n}: we are "
                f"restoring checkout for the remaining customers."
                for n in range(updates)
            ]
            acks = fire(endpoint, fake, texts, updates / window)
            sent_for = time.monotonic() - started
            converged = common.wait_until(
                lambda: (b := pinned_board(fake)) is not None and b[1] == database_board(runtime),
                timeout=30,
                what="the board to match the database",
            )
            time.sleep(2.0)  # anything still in flight would show up as a further edit
            final = pinned_board(fake)
            equal = final is not None and final[1] == database_board(runtime)
        finally:
            for worker in workers:
                common.stop(worker)
            runtime.close()
    calls = [c for c in fake.calls if c.ts >= started]
    edits = [
        c for c in calls if c.method == "chat.update" and c.args.get("ts") == ts and c.status == 200
    ]
    reposts = [
        c
        for c in calls
        if c.method == "chat.postMessage"
        and not c.args.get("thread_ts")
        and str(c.args.get("text", "")).startswith("Incident")
    ]
    acked = sum(1 for a in acks if a.status == 200)
    result.row(
        f"board edits for {updates} updates in {window:.0f} s",
        str(len(edits) + len(reposts)),
        baseline=f"{updates} (one edit per change)",
        target=f"≤ {TARGET_EDITS}",
        met=len(edits) + len(reposts) <= TARGET_EDITS if not cfg.quick else None,
    )
    result.row(
        "final board equals the database",
        "yes" if equal else "NO",
        baseline="—",
        target="equal",
        met=equal,
    )
    result.row(
        "board caught up after the last update",
        f"{converged:.2f} s",
        baseline="1 s edit interval",
    )
    result.notes.append(
        f"{updates} `/incident update` commands sent in {sent_for:.1f} s ({acked} acked with a "
        "reply), PostgreSQL, one `flare web` and two `flare worker` processes refreshing the "
        "board (each checks every second; a lease row allows one edit a second across "
        f"processes). Board edits: {len(edits)} `chat.update` + {len(reposts)} re-posts."
    )
    return result
