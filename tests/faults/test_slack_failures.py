"""Slack failing while incidents run: 429 with Retry-After, 5xx, timeouts, message_not_found,
channel_not_found — in bursts, on every method. Once Slack recovers everything is delivered,
once, and each incident's thread reads in the order things happened.
"""

from __future__ import annotations

import random
import threading
import time

import pytest

from tests.faults.procs import STATS, Cluster, audit, board_edits_doubled, wait_until
from tests.faults.scenario import check_database, run_scripts
from tests.support.fakeslack import FakeSlack

pytestmark = pytest.mark.slow


def bursts(fake: FakeSlack, rng: random.Random) -> list[tuple[str, object]]:
    """One round of faults; each is applied to the next few calls of its method."""
    return [
        ("429", lambda: fake.rate_limit("chat.postMessage", retry_after=1, times=3)),
        ("429 *", lambda: fake.rate_limit("*", retry_after=2, times=2)),
        ("503", lambda: fake.server_error("*", status=503, times=3)),
        ("500", lambda: fake.server_error("chat.postMessage", status=500, times=2)),
        ("channel_not_found", lambda: fake.fail("chat.postMessage", "channel_not_found", 2)),
        ("message_not_found", lambda: fake.fail("chat.update", "message_not_found", 1)),
        ("message_not_found post", lambda: fake.fail("chat.postMessage", "message_not_found")),
        ("pins", lambda: fake.server_error("pins.list", status=502, times=2)),
        # Slack does it, but answers after the client's 10 s timeout: an ambiguous send.
        ("timeout", lambda: fake.delay("chat.postMessage", 11, times=1, phase="after")),
    ]


def injector(fake: FakeSlack, stop: threading.Event, rng: random.Random) -> None:
    while not stop.wait(rng.uniform(0.5, 1.2)):
        name, add = rng.choice(bursts(fake, rng))
        if name == "timeout" and STATS["timeouts_injected"] >= 2:
            continue  # each costs a worker ten seconds
        STATS["timeouts_injected"] += name == "timeout"
        add()  # type: ignore[operator]


def failed_calls(fake: FakeSlack) -> int:
    return sum(
        1
        for call in fake.calls
        if call.status != 200
        or not (call.response or {}).get("ok", True)
        or (call.end_ts is not None and call.end_ts - call.ts >= 10)
    )


def test_slack_failures_everything_is_delivered_once_in_order_after_recovery(cluster: Cluster):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    cluster.start_web("web")
    cluster.start_worker("worker-a")
    cluster.start_worker("worker-b")

    stop = threading.Event()
    thread = threading.Thread(target=injector, args=(cluster.fake, stop, rng), daemon=True)
    thread.start()
    try:
        scripts = run_scripts(cluster, ["delta", "echo", "foxtrot"], deadline=60, pause=0.3)
        # Slack keeps failing for a while after the last command, while the outbox retries.
        deadline = time.monotonic() + 10
        while failed_calls(cluster.fake) < 25 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=10)
    cluster.fake.clear_faults()  # Slack recovers
    recovered = time.monotonic()
    assert check_database(cluster, scripts) == [], f"seed {seed}"

    wait_until(
        lambda: cluster.unsent() == 0, timeout=90, what="an empty outbox", detail=cluster.output
    )
    assert cluster.dead() == [], f"seed {seed}"
    wait_until(cluster.board_converged, timeout=30, what="the board", detail=cluster.output)
    print(f"caught up {time.monotonic() - recovered:.1f} s after Slack recovered")
    result = audit(cluster)  # no process died: nothing may repeat
    faults = failed_calls(cluster.fake)
    STATS["faults"] += faults
    assert faults >= 10, f"only {faults} calls failed"
    assert result.ok and not result.repeated, f"seed {seed}: {result}\n{cluster.output()}"
    assert board_edits_doubled(cluster.fake) == 0
