"""kill -9 of web and worker processes at random points while incidents run their course.

Two web and two worker processes serve three incidents at once (declare, updates, notes, role
changes, severity, resolve), sent as Slack sends them: a request that got no answer is sent
again with the same `trigger_id`. A killer thread SIGKILLs a random process every second or
two and starts a new one in its place. Afterwards the database holds every acknowledged
change exactly once, the threads and the board converge to it, and a thread post appears
twice only when the process that first sent it was killed before it could record the send.
"""

from __future__ import annotations

import random
import threading
import time

import pytest

from tests.faults.procs import STATS, Cluster, audit, board_edits_doubled, wait_until
from tests.faults.scenario import check_database, run_scripts

pytestmark = pytest.mark.slow

KILL_WORKERS_FOR = 10.0  # seconds: worker kills stop early; their 10 s leases expire soon after


def killer(cluster: Cluster, stop: threading.Event, rng: random.Random) -> None:
    started = time.monotonic()
    while not stop.wait(rng.uniform(0.5, 1.5)):
        kinds = ["web"]
        if time.monotonic() - started < KILL_WORKERS_FOR:
            kinds.append("worker")
        kind = rng.choice(kinds)
        victims = cluster.live(kind)
        if not victims:
            continue
        victim = rng.choice(victims)
        cluster.kill(victim)
        cluster.restart(victim)


def test_crash_kill_9_anywhere_loses_nothing_and_repeats_only_the_send_in_flight(
    cluster: Cluster,
):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    cluster.start_web("web-a")
    cluster.start_web("web-b")
    cluster.start_worker("worker-a")
    cluster.start_worker("worker-b")

    stop = threading.Event()
    thread = threading.Thread(target=killer, args=(cluster, stop, rng), daemon=True)
    thread.start()
    try:
        scripts = run_scripts(cluster, ["alpha", "bravo", "charlie"], deadline=60, pause=1.5)
    finally:
        stop.set()
        thread.join(timeout=30)
    kills = len(cluster.killed)
    assert kills >= 5, f"only {kills} kills (seed {seed})"
    for proc in list(cluster.procs):  # the last restarted web may still be starting
        if proc.kind == "web":
            cluster.wait_web(proc)

    # The database holds every acknowledged change once.
    assert check_database(cluster, scripts) == [], f"seed {seed}"
    # Slack converges: the outbox drains (a dead worker's lease expires within 10 s) ...
    wait_until(
        lambda: cluster.unsent() == 0, timeout=120, what="an empty outbox", detail=cluster.output
    )
    assert cluster.dead() == []
    # ... the board shows the database ...
    wait_until(cluster.board_converged, timeout=30, what="the board", detail=cluster.output)
    # ... and every thread post is there, in order, repeated only by a kill mid-send.
    killed_tokens = [p.token for p in cluster.killed if p.kind == "worker"]
    result = audit(cluster, killed_tokens=killed_tokens)
    assert result.ok, f"seed {seed}: {result}\n{cluster.output()}"
    assert board_edits_doubled(cluster.fake) == 0
    STATS["crash_kills"] += kills
