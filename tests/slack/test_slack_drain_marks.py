"""The batched Slack drain records what it sent without waiting on the next send, survives a
failed mark without blind resends, and decides a reminder on a read taken right before it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select, update

import bot.outbox as outbox_pkg
from bot.db.models import Incident, OutboxMessage
from bot.incidents import sweeps
from bot.slack.delivery.marks import UNRECORDED
from bot.slack.delivery.sender import SlackSender
from bot.text.status import IncidentStatus
from tests.support.slackutil import BOB, Slack, fake, slack  # noqa: F401

__all__ = ["fake", "slack"]  # fixtures


def _posts(slack: Slack, title: str, text: str) -> int:
    root = next(m for m in slack.roots() if title in m.text)
    return sum(text in m.text for m in slack.thread_of(root))


def _two_notes(slack: Slack) -> None:
    slack.command("declare Alpha outage")
    slack.command("declare Beta outage")
    slack.flush(board=False)
    slack.command("note 1 first-note")
    slack.command("note 2 second-note")


def _note_rows(slack: Slack) -> dict[str, int]:
    """The outbox rows of the notes not yet sent, by note text (each job is performed
    once with post_now called inside it)."""
    found: dict[str, int] = {}
    sender = slack.sender
    real_perform, real_post = sender._perform, sender._post_now
    current: list[int] = []

    def perform(job: Any) -> Any:
        current.append(job.id)
        return real_perform(job)

    def post_now(channel: str, **kwargs: Any) -> str:
        for text in ("first-note", "second-note"):
            if text in (kwargs.get("text") or ""):
                found[text] = current[-1]
        return real_post(channel, **kwargs)

    sender._perform = perform  # type: ignore[method-assign]
    sender._post_now = post_now  # type: ignore[method-assign]
    return found


def _is_sent(slack: Slack, message_id: int) -> bool:
    with slack.runtime.sessions() as session:
        row = session.get(OutboxMessage, message_id)
        return row is not None and row.sent_at is not None


def _all_sent(slack: Slack) -> bool:
    with slack.runtime.sessions() as session:
        unsent = session.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None)))
        return not unsent.all()


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the drain catches it."""


def test_slack_drain_a_sent_row_is_recorded_while_the_next_send_hangs(slack: Slack):
    _two_notes(slack)
    rows = _note_rows(slack)
    sender = slack.sender
    real = sender._post_now
    seen_marked: list[bool] = []

    def post_now(channel: str, **kwargs: Any) -> str:
        if "second-note" in (kwargs.get("text") or ""):
            # A slow Slack: this send waits until the first note is recorded (the marks run
            # on their own thread), then the worker dies before recording anything else.
            marked = threading.Event()
            for _ in range(300):
                if _is_sent(slack, rows["first-note"]):
                    marked.set()
                    break
                marked.wait(0.1)
            seen_marked.append(marked.is_set())
            raise Killed
        return real(channel, **kwargs)

    sender._post_now = post_now  # type: ignore[method-assign]
    with pytest.raises(Killed):
        sender.drain()
    assert seen_marked == [True]  # recorded while the next send was still in flight

    slack.sender = SlackSender(slack.runtime, post_interval=0)  # the restarted worker
    slack.clock.advance(seconds=11)  # the dead worker's leases lapse
    slack.flush(board=False)
    assert _posts(slack, "Alpha", "first-note") == 1
    assert _posts(slack, "Beta", "second-note") == 1


def test_slack_drain_a_mark_transaction_that_fails_once_is_retried(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
):
    _two_notes(slack)
    real = outbox_pkg.mark_sent
    calls = {"n": 0}

    def failing_once(session: Any, message_id: int, **kwargs: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away during the mark")
        return real(session, message_id, **kwargs)

    monkeypatch.setattr(outbox_pkg, "mark_sent", failing_once)
    assert slack.sender.drain() == 2
    monkeypatch.setattr(outbox_pkg, "mark_sent", real)
    assert _all_sent(slack)
    slack.clock.advance(seconds=11)
    slack.flush(board=False)
    assert (_posts(slack, "Alpha", "first-note"), _posts(slack, "Beta", "second-note")) == (1, 1)


def test_slack_drain_a_row_whose_mark_keeps_failing_is_looked_up_before_posting_again(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
):
    _two_notes(slack)
    rows = _note_rows(slack)
    real = outbox_pkg.mark_sent

    def failing_for_first(session: Any, message_id: int, **kwargs: Any) -> bool:
        if message_id == rows.get("first-note"):
            raise RuntimeError("this row's mark cannot be written")
        return real(session, message_id, **kwargs)

    monkeypatch.setattr(outbox_pkg, "mark_sent", failing_for_first)
    slack.sender.drain()
    monkeypatch.setattr(outbox_pkg, "mark_sent", real)
    with slack.runtime.sessions() as session:
        row = session.get(OutboxMessage, rows["first-note"])
        assert row is not None
        assert (row.sent_at, row.last_error, row.attempts) == (None, UNRECORDED, 0)
        assert row.claimed_until is None  # given back: retried now, not after the lease
    assert _is_sent(slack, rows["second-note"])  # the other row of the chunk is recorded
    slack.flush(board=False)  # the retry finds the post in Slack and records it
    assert _is_sent(slack, rows["first-note"])
    assert (_posts(slack, "Alpha", "first-note"), _posts(slack, "Beta", "second-note")) == (1, 1)


def test_slack_drain_reminder_for_an_incident_resolved_mid_batch_is_not_sent(slack: Slack):
    for title in ("Card declines", "Login errors"):
        slack.command(f"declare sev2 {title}")
    for number in (1, 2):
        slack.command(f"owner {number} <@{BOB}>")
        slack.command(f"update {number} We are investigating.")
    slack.flush(board=False)
    slack.clock.advance(minutes=16)
    with slack.runtime.sessions.begin() as session:
        sweeps.sweep(session, slack.runtime.settings, slack.runtime.now())
    sender = slack.sender
    real = sender._post_now
    resolved: list[str] = []

    def post_now(channel: str, **kwargs: Any) -> str:
        ts = real(channel, **kwargs)
        text = kwargs.get("text") or ""
        if text.endswith(": public update due") and not resolved:
            # While the batch goes on, someone resolves the other incident.
            other = "INC-2" if text.startswith("INC-1:") else "INC-1"
            with slack.runtime.sessions.begin() as session:
                session.execute(
                    update(Incident)
                    .where(Incident.number == int(other.removeprefix("INC-")))
                    .values(status=IncidentStatus.RESOLVED, reminder_due=None)
                )
            resolved.append(other)
        return ts

    sender._post_now = post_now  # type: ignore[method-assign]
    slack.flush(board=False)
    assert len(resolved) == 1
    reminders = [m for m in slack.dms(BOB) if m.text.endswith(": public update due")]
    assert len(reminders) == 1
    assert resolved[0] not in reminders[0].text
