"""A queue row that raises and a webhook receiver that trickles, against real processes.

Two workers and a web process take commands on an incident while the queues hold a
subscriber delivery whose payload the renderer cannot read, a Slack row whose payload the
sender cannot read, and a subscriber whose endpoint answers one byte every 0.2 s. Each of
those fails alone (its error recorded, retried with backoff); every other delivery and
thread post goes out exactly once, at its first attempt, so nothing can be sent again
after a lease.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot import outbox
from bot.db.engine import make_session_factory
from bot.db.models import OutboxMessage, Subscriber
from bot.outbox import kinds
from tests.faults.procs import STATS, USERS, Cluster, audit, wait_until
from tests.faults.scenario import DECLARED
from tests.support.factories import make_incident
from tests.support.mailbox import start_receiver

pytestmark = pytest.mark.slow

GOOD = 12  # webhook subscribers whose endpoints answer at once


def _rows(cluster: Cluster, kind: str) -> dict[str, Any]:
    def load(session: Any) -> dict[str, Any]:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))
        return {r.key: (r.sent_at, r.attempts, r.last_error or "") for r in rows}

    return dict(cluster.query(load))


def test_poison_a_raising_row_and_a_trickling_receiver_are_isolated(cluster: Cluster):
    cluster.extra_env["FLARE_WEBHOOK_ALLOW_PRIVATE"] = "true"
    with start_receiver() as receiver:
        receiver.trickle.add("/trickle")
        now = datetime.now(UTC)
        sessions = make_session_factory(cluster.engine)
        with sessions.begin() as session:
            ids = []
            for path in [*(f"/hook/{n}" for n in range(GOOD)), "/trickle"]:
                subscriber = Subscriber(
                    kind="webhook", address=receiver.url(path), created_at=now, confirmed_at=now
                )
                session.add(subscriber)
                session.flush()
                ids.append(subscriber.id)
            make_incident(session, cluster.settings(), now, public=True, title="Poison")
            outbox.enqueue(  # a delivery the renderer cannot read
                session,
                key=f"deliver:{ids[0]}:poison",
                kind=kinds.WEBHOOK_UPDATE,
                now=now,
                payload={"subscriber_id": ids[0], "event_id": "not-a-number"},
            )
            outbox.enqueue(  # a Slack row the sender cannot read (no "user")
                session, key="dm:poison", kind=kinds.SLACK_DM, now=now, payload={}
            )
        cluster.start_web("web")
        cluster.start_worker("worker-a")
        cluster.start_worker("worker-b")
        declared = cluster.command(
            "declare sev2 Poisoned queues", accept=lambda a: "Declared INC-" in a
        )
        match = DECLARED.search(declared.answer)
        assert match is not None
        number = match.group(1)
        for text in (f"note {number} first", f"sev {number} sev1", f"note {number} second"):
            cluster.command(text, user=USERS[1], accept=lambda a: "INC-" in a)

        def settled() -> bool:
            hooks = _rows(cluster, kinds.WEBHOOK_UPDATE)
            slack = _rows(cluster, kinds.SLACK_DM)
            return (
                len(hooks) == GOOD + 2
                and all(sent or attempts for sent, attempts, _ in hooks.values())
                and slack.get("dm:poison", (None, 0, ""))[1] >= 1
                and cluster.unsent() <= 3  # the three poisoned rows, retrying
            )

        wait_until(settled, timeout=90, what="the queues to settle", detail=cluster.output)
        hooks = _rows(cluster, kinds.WEBHOOK_UPDATE)
        received = Counter(receiver.paths())

    failed = {key: error for key, (sent, _, error) in hooks.items() if sent is None}
    assert sorted(failed) == sorted([f"deliver:{ids[0]}:poison", *_trickle_key(hooks, ids)])
    assert "not rendered: ValueError" in failed[f"deliver:{ids[0]}:poison"]
    assert "deadline" in next(e for k, e in failed.items() if k != f"deliver:{ids[0]}:poison")
    delivered = [k for k, (sent, attempts, _) in hooks.items() if sent and attempts == 0]
    assert len(delivered) == GOOD  # each at its first attempt: never sent again
    good_paths = {f"/hook/{n}": received[f"/hook/{n}"] for n in range(GOOD)}
    lost = sum(1 for count in good_paths.values() if count == 0)
    doubled = sum(1 for count in good_paths.values() if count > 1)
    slack_dm = _rows(cluster, kinds.SLACK_DM)["dm:poison"]
    assert slack_dm[0] is None and "KeyError" in slack_dm[2]
    result = audit(cluster)  # the incident's Slack posts, around the poisoned row
    STATS["lost"] += lost
    STATS["doubled"] += doubled
    STATS["isolated_raised"] += 2
    STATS["isolated_trickled"] += 1
    STATS["isolated_delivered"] += GOOD - lost - doubled
    STATS["isolated_expected"] += GOOD
    assert (lost, doubled) == (0, 0), good_paths
    assert result.ok and not result.repeated, f"{result}\n{cluster.output()}"


def _trickle_key(hooks: dict[str, Any], ids: list[int]) -> list[str]:
    return [k for k in hooks if k.startswith(f"deliver:{ids[-1]}:")]
