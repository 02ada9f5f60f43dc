"""2 web + 3 worker processes on one PostgreSQL under a stream of concurrent commands.

Four incidents run their course at once through both web processes; the same declaration is
delivered to both web processes at the same instant (Slack retrying while the first is still
running); and 30 reminders fall due together while three workers sweep. Nothing may be
created, reminded, edited or posted twice.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.db.models import Incident
from tests.faults.procs import (
    CHANNEL,
    STATS,
    USERS,
    Cluster,
    audit,
    board_edits_doubled,
    wait_until,
)
from tests.faults.scenario import check_database, run_scripts
from tests.support.db import seed_due_incidents

pytestmark = pytest.mark.slow

LEAD = timedelta(minutes=5)
REMINDED = [f"U{n:08d}" for n in range(1, 31)]


def seed_reminders(cluster: Cluster) -> None:
    """Open incidents whose reminders all fall due a few seconds from now, together."""
    seed_due_incidents(
        cluster.engine,
        REMINDED,
        reminder_due=datetime.now(UTC) + LEAD + timedelta(seconds=4),
        commander=USERS[0],
        channel=CHANNEL,
        first_number=1000,
    )


def twin_declares(cluster: Cluster, count: int, answers: list[str]) -> None:
    """The same declaration (one trigger_id) sent to both web processes at once."""
    webs = cluster.live("web")
    for n in range(count):
        body = urlencode(
            {
                "team_id": "T0FAKE0001",
                "channel_id": CHANNEL,
                "user_id": USERS[3],
                "command": "/incident",
                "text": f"declare sev3 Twin {n}",
                "trigger_id": f"twin-{n}-{uuid.uuid4().hex}",
                "response_url": cluster.fake.response_url(f"twin-{n}"),
            }
        )
        replies: list[tuple[int, bytes]] = []
        threads = [
            threading.Thread(
                target=lambda w=w, b=body, r=replies: r.append(cluster.post_signed(w, b))
            )
            for w in webs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        STATS["commands"] += len(threads)
        answers.extend(raw.decode() for status, raw in replies if status == 200)


def test_concurrency_two_webs_three_workers_duplicate_nothing(cluster: Cluster):
    cluster.extra_env["FLARE_REMINDER_LEAD"] = f"{int(LEAD.total_seconds())}s"
    cluster.start_web("web-a")
    cluster.start_web("web-b")
    for name in ("worker-a", "worker-b", "worker-c"):
        cluster.start_worker(name)
    seed_reminders(cluster)

    answers: list[str] = []
    twins = threading.Thread(target=twin_declares, args=(cluster, 8, answers))
    twins.start()
    scripts = run_scripts(cluster, ["golf", "hotel", "india", "juliet"], deadline=60)
    twins.join(timeout=120)
    assert len(answers) == 16, answers

    assert check_database(cluster, scripts) == []
    titles = Counter(cluster.query(lambda s: list(s.scalars(select(Incident.title)).all())))
    assert all(titles[f"Twin {n}"] == 1 for n in range(8)), titles

    def reminded() -> Counter[str]:
        return Counter(
            {
                user: len([m for m in cluster.fake.channel_messages("D" + user) if not m.deleted])
                for user in REMINDED
            }
        )

    wait_until(
        lambda: all(reminded().values()) and len(reminded()) == 30,
        timeout=60,
        what="30 reminders",
        detail=cluster.output,
    )
    wait_until(
        lambda: cluster.unsent() == 0, timeout=60, what="an empty outbox", detail=cluster.output
    )
    assert cluster.dead() == []
    wait_until(cluster.board_converged, timeout=30, what="the board", detail=cluster.output)
    assert reminded() == Counter(dict.fromkeys(REMINDED, 1))
    result = audit(cluster)
    assert result.ok and not result.repeated, f"{result}\n{cluster.output()}"
    doubled_edits = board_edits_doubled(cluster.fake)
    STATS["doubled"] += doubled_edits
    assert doubled_edits == 0
