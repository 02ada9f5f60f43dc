"""The outbox: side effects written in the same transaction as the change they report, and
sent after it by the drains (Slack, mail, webhooks), each exactly once per unique key."""

from bot.outbox import kinds
from bot.outbox.lease import LeaseKeeper, worker_id
from bot.outbox.queue import (
    LEASE,
    WORKER_ID,
    backlog,
    claim,
    enqueue,
    enqueue_many,
    mark_failed,
    mark_sent,
    prune_sent,
    release,
    renew,
)

__all__ = [
    "LEASE",
    "WORKER_ID",
    "LeaseKeeper",
    "backlog",
    "claim",
    "enqueue",
    "enqueue_many",
    "kinds",
    "mark_failed",
    "mark_sent",
    "prune_sent",
    "release",
    "renew",
    "worker_id",
]
