"""PostgreSQL stopped and started under load (its own throwaway cluster, never the shared one).

A web and a worker process keep taking notes and serving `/` while the database goes away for
a few seconds. `/` keeps answering with the last snapshot meanwhile; afterwards the same
processes (no restart of their own) take commands again, drain the outbox and converge the
board, and nothing acknowledged is lost or doubled.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.migrate import upgrade
from bot.db.models import TimelineEvent
from tests.faults.pgcluster import ThrowawayPostgres
from tests.faults.procs import STATS, USERS, Cluster, audit, board_edits_doubled, wait_until
from tests.support.fakeslack import FakeSlack

pytestmark = pytest.mark.slow

DOWN_FOR = 5.0  # seconds the database is away


@pytest.fixture
def own_pg() -> Iterator[ThrowawayPostgres]:
    server = ThrowawayPostgres()
    try:
        upgrade(server.url)
        yield server
    finally:
        server.destroy()


@pytest.fixture
def own_cluster(own_pg: ThrowawayPostgres, fake: FakeSlack, tmp_path: Path) -> Iterator[Cluster]:
    group = Cluster(own_pg.url, fake, tmp_path)
    yield group
    group.stop_all()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Notes:
    """A stream of notes; each is acknowledged or not, and retried only with its trigger."""

    def __init__(self, cluster: Cluster, number: int) -> None:
        self.cluster, self.number = cluster, number
        self.acked: list[str] = []
        self.tried: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            text = f"load note {n}"
            self.tried.append(text)
            try:
                self.cluster.command(
                    f"note {self.number} {text}",
                    user=USERS[n % 4],
                    deadline=1.5,
                    accept=lambda a: "Internal note added" in a,
                )
            except AssertionError:
                continue  # not acknowledged (the database was away): the user would retry
            self.acked.append(text)
            time.sleep(0.1)


def test_db_restart_processes_recover_and_the_page_keeps_its_snapshot(
    own_pg: ThrowawayPostgres, own_cluster: Cluster
):
    cluster = own_cluster
    web = cluster.start_web("web")
    worker = cluster.start_worker("worker")
    cluster.command("declare sev2 Database restart drill", accept=lambda a: "Declared INC-1" in a)
    cluster.command(
        "update 1 investigating api=degraded We are investigating slow page loads.",
        accept=lambda a: "Published on" in a,
    )
    wait_until(lambda: b"slow page loads" in get(web.url + "/")[1], timeout=10, what="the page")
    before = get(web.url + "/")

    notes = Notes(cluster, 1)
    loader = threading.Thread(target=notes.run, daemon=True)
    loader.start()
    wait_until(lambda: len(notes.acked) >= 5, timeout=30, what="notes before the restart")

    own_pg.stop("fast")
    STATS["faults"] += 1
    down_until = time.monotonic() + DOWN_FOR
    served: list[tuple[int, bytes]] = []
    while time.monotonic() < down_until:
        served.append(get(web.url + "/"))
        time.sleep(0.05)
    own_pg.start()
    acked_at_restart = len(notes.acked)

    # `/` answered from the last snapshot all along.
    assert served and all(status == 200 for status, _ in served), Counter(s for s, _ in served)
    assert all(body == before[1] for _, body in served)
    # The same processes take commands again.
    wait_until(
        lambda: len(notes.acked) >= acked_at_restart + 5,
        timeout=60,
        what="notes after the restart",
        detail=cluster.output,
    )
    notes.stop.set()
    loader.join(timeout=30)
    assert web.alive(), (web.popen.returncode, cluster.output())
    assert worker.alive(), (worker.popen.returncode, cluster.output())

    def stored(session: object) -> Counter[str]:
        bodies = session.scalars(  # type: ignore[attr-defined]
            select(TimelineEvent.body).where(TimelineEvent.kind == "note")
        ).all()
        return Counter(bodies)

    notes_stored = cluster.query(stored)
    assert all(notes_stored[text] == 1 for text in notes.acked), notes_stored
    assert all(count == 1 for count in notes_stored.values()), notes_stored
    wait_until(lambda: cluster.unsent() == 0, timeout=90, what="an empty outbox",
               detail=cluster.output)  # fmt: skip
    assert cluster.dead() == []
    wait_until(cluster.board_converged, timeout=30, what="the board", detail=cluster.output)
    result = audit(cluster)  # no process died: nothing may repeat
    assert result.ok and not result.repeated, f"{result}\n{cluster.output()}"
    assert board_edits_doubled(cluster.fake) == 0
    # The page moves on once the database is back.
    cluster.command(
        "update 1 monitoring api=operational A fix has been implemented and we are monitoring.",
        accept=lambda a: "Published on" in a,
    )
    wait_until(lambda: b"we are monitoring" in get(web.url + "/")[1], timeout=10, what="page")
