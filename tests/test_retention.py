"""Retention (bot/worker.py `prune`): what outlives FLARE_RETENTION goes, in bounded committed
batches; what the product is about (incidents, timelines, components, maintenance,
subscribers) is never touched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from bot import worker
from bot.db.models import (
    Component,
    Incident,
    Maintenance,
    OutboxMessage,
    ProcessedRequest,
    RateLimitHit,
    Subscriber,
    TimelineEvent,
)
from bot.incidents import maintenance as mnt
from bot.runtime import Runtime
from bot.slack import dedupe
from tests.conftest import Clock
from tests.support.factories import make_incident, responder

KEPT = (Incident, TimelineEvent, Component, Maintenance, Subscriber)


def count(runtime: Runtime, model: type, *where: object) -> int:
    with runtime.sessions.begin() as session:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)  # type: ignore[arg-type]
        return int(session.scalar(query) or 0)


def outbox_rows(runtime: Runtime, clock: Clock, prefix: str, n: int, **values: object) -> None:
    rows = [
        {
            "key": f"{prefix}:{i}",
            "kind": "slack.event",
            "payload": {},
            "created_at": clock(),
            "available_at": clock(),
            "attempts": 0,
            "dead": False,
            **values,
        }
        for i in range(n)
    ]
    with runtime.sessions.begin() as session:
        session.execute(insert(OutboxMessage), rows)


@pytest.fixture
def aged(runtime: Runtime, clock: Clock) -> Runtime:
    """Forty days of history, then the clock moves to now."""
    with runtime.sessions.begin() as session:
        make_incident(session, runtime.settings, clock(), public=True)
        mnt.schedule_maintenance(
            session,
            runtime.settings,
            title="Old upgrade",
            starts_at=clock() + timedelta(hours=1),
            duration=timedelta(hours=1),
            keys=["api"],
            actor=responder("U1"),
            now=clock(),
        )
        session.add(Subscriber(kind="email", address="a@example.com", created_at=clock()))
        for n in range(7):
            session.add(ProcessedRequest(key=f"trigger:old-{n}", created_at=clock()))
            session.add(RateLimitHit(bucket="ip:198.51.100.1", at=clock()))
    outbox_rows(runtime, clock, "old-sent", 23, sent_at=clock())
    outbox_rows(runtime, clock, "old-unsent", 2)
    outbox_rows(runtime, clock, "old-dead", 2, dead=True)
    clock.advance(days=40)
    outbox_rows(runtime, clock, "new-sent", 3, sent_at=clock())
    with runtime.sessions.begin() as session:
        session.add(ProcessedRequest(key="trigger:new", created_at=clock()))
        session.add(RateLimitHit(bucket="ip:198.51.100.2", at=clock()))
    return runtime


def test_retention_prunes_what_is_older_than_the_setting_and_nothing_else(
    aged: Runtime, monkeypatch: pytest.MonkeyPatch
):
    kept = {model.__name__: count(aged, model) for model in KEPT}
    outbox_before = count(aged, OutboxMessage)
    monkeypatch.setattr(worker, "PRUNE_BATCH", 5)  # several committed batches per table
    pruned = worker.prune(aged)
    assert pruned == {
        "outbox": 23,
        "processed_requests": 7,
        "rate_limit_hits": 7,
        "check_results": 0,
        "signals": 0,
    }
    assert count(aged, OutboxMessage) == outbox_before - 23
    assert count(aged, OutboxMessage, OutboxMessage.key.like("old-sent:%")) == 0
    assert count(aged, OutboxMessage, OutboxMessage.sent_at.is_(None)) >= 4  # unsent, dead
    assert count(aged, OutboxMessage, OutboxMessage.key.like("new-sent:%")) == 3
    assert count(aged, ProcessedRequest) == 1 and count(aged, RateLimitHit) == 1
    assert {model.__name__: count(aged, model) for model in KEPT} == kept
    assert worker.prune(aged) == {
        "outbox": 0,
        "processed_requests": 0,
        "rate_limit_hits": 0,
        "check_results": 0,
        "signals": 0,
    }


def test_retention_run_is_bounded_and_the_next_run_continues(
    aged: Runtime, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(worker, "PRUNE_BATCH", 5)
    monkeypatch.setattr(worker, "PRUNE_BATCHES", 2)
    assert worker.prune(aged)["outbox"] == 10  # two batches of five, then it stops
    assert worker.prune(aged)["outbox"] == 10
    assert worker.prune(aged)["outbox"] > 0
    assert count(aged, OutboxMessage, OutboxMessage.key.like("old-sent:%")) == 0


def test_retention_follows_flare_retention(aged: Runtime):
    from tests.conftest import with_settings

    longer = with_settings(aged, retention=timedelta(days=60))
    assert worker.prune(longer)["outbox"] == 0
    assert worker.prune(aged)["outbox"] > 0


def test_retention_runs_in_the_worker(runtime: Runtime):
    assert "retention" in [name for name, _, _ in worker.background_jobs(runtime)]


def test_retention_pending_publish_anyway_expires_after_an_hour(runtime: Runtime, clock: Clock):
    with runtime.sessions.begin() as session:
        token = dedupe.store_pending(session, {"text": "update 1 x"}, clock())
    clock.advance(minutes=59)
    with runtime.sessions.begin() as session:
        assert dedupe.load_pending(session, token, consume=False) == {"text": "update 1 x"}
    clock.advance(minutes=2)
    with runtime.sessions.begin() as session:
        assert dedupe.load_pending(session, token, consume=False) is None
        assert dedupe.load_pending(session, token, consume=True, now=clock()) is None
    assert worker.prune(runtime)["processed_requests"] == 0  # consuming it deleted it
