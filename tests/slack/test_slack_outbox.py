"""The outbox sender against a misbehaving Slack: 429 bursts, 5xx, slow answers, reminders."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import json
import threading

from bot.incidents import sweeps
from bot.slack.delivery.sender import SlackSender
from tests.support.slackutil import BOB, Slack, client_for, fake, slack  # noqa: F401


def _post_calls(slack: Slack) -> int:
    return len(slack.fake.calls_to("chat.postMessage"))


def test_slack_command_is_acked_while_the_api_takes_two_seconds(slack: Slack):
    slack.fake.delay("*", 2.0)
    slack.command("declare Warm-up")  # the app is built and warm
    drainer = threading.Thread(target=slack.sender.drain)  # stuck on the slow API meanwhile
    drainer.start()
    reply = slack.command("declare sev1 Checkout down")
    # Acked while the drainer's call still waits on the fake's 2 s delay: no slow call ended.
    slow_calls_answered = [c for c in slack.fake.calls if c.end_ts is not None]
    slack.fake.clear_faults()
    drainer.join()
    assert "Declared INC-2" in reply["text"]
    assert slow_calls_answered == []


def test_slack_429_burst_honours_retry_after_and_posts_each_once(slack: Slack):
    slack.command("declare Queue backlog")
    slack.command("note 1 first")
    slack.command("note 1 second")
    slack.fake.rate_limit("chat.postMessage", retry_after=7, times=3)
    slack.sender.drain()
    slack.sender.drain()
    assert _post_calls(slack) == 1  # waiting for Retry-After, not hammering
    slack.clock.advance(seconds=6)
    slack.sender.drain()
    assert _post_calls(slack) == 1
    for _ in range(3):
        slack.clock.advance(seconds=8)
        slack.flush(board=False)
    roots = slack.roots()
    assert len(roots) == 1
    assert [m.text.split("[internal note] ")[-1] for m in slack.thread_of(roots[0])] == [
        "first",
        "second",
    ]


def test_slack_500_is_retried_with_backoff_and_not_duplicated(slack: Slack):
    slack.command("declare Login errors")
    slack.fake.server_error("chat.postMessage", status=500, times=1)
    assert slack.sender.drain() == 0
    slack.clock.advance(seconds=3)
    slack.flush(board=False)
    assert len(slack.roots()) == 1


def test_slack_slow_answer_that_got_through_is_not_posted_again(slack: Slack):
    slack.sender = SlackSender(slack.runtime, client=client_for(slack.fake, 1), post_interval=0)
    slack.command("declare Slow Slack")
    slack.fake.delay("chat.postMessage", 2.0, times=1, phase="after")
    assert slack.sender.drain() == 0  # timed out, but Slack did post it
    slack.clock.advance(seconds=3)
    slack.flush(board=False)
    assert len(slack.roots()) == 1
    assert _post_calls(slack) == 1  # looked up by its key instead of posting again


def test_slack_not_in_channel_joins_and_posts(slack: Slack):
    slack.fake.not_in_channel.add("C0INCIDENTS")
    slack.command("declare Joined late")
    slack.flush(board=False)
    assert slack.fake.calls_to("conversations.join")
    assert len(slack.roots()) == 1


def test_slack_thread_root_deleted_by_hand_starts_a_new_thread(slack: Slack):
    slack.command("declare Root deleted")
    slack.flush(board=False)
    slack.fake.delete_message("C0INCIDENTS", slack.roots()[0].ts)
    slack.fake.fail("chat.postMessage", "thread_not_found", times=1)
    slack.command("note 1 still here")
    slack.flush(board=False)
    roots = slack.roots()
    assert len(roots) == 1
    assert "still here" in slack.thread_of(roots[0])[0].text


def test_slack_pacing_defers_a_second_post_to_the_same_channel(slack: Slack):
    now = [100.0]
    sender = SlackSender(slack.runtime, post_interval=1.0, monotonic=lambda: now[0])
    slack.command("declare One")
    slack.command("declare Two")
    sender.drain()
    sender.drain()
    assert _post_calls(slack) == 1  # the second waits for its second
    now[0] += 1.0
    sender.drain()
    assert _post_calls(slack) == 2


def test_slack_reminder_dm_then_escalation_in_the_thread(slack: Slack):
    slack.command("declare sev2 Card declines")
    slack.command(f"owner 1 <@{BOB}>")
    slack.command("update 1 We are investigating card declines.")  # promise: +20 min
    slack.flush(board=False)
    slack.clock.advance(minutes=16)
    with slack.runtime.sessions.begin() as session:
        sweeps.sweep(session, slack.runtime.settings, slack.runtime.now())
    slack.flush(board=False)
    reminder = [m for m in slack.dms(BOB) if m.text.endswith(": public update due")]
    assert len(reminder) == 1
    assert reminder[0].blocks is not None
    ids = [e["action_id"] for e in reminder[0].blocks[1]["elements"]]
    assert ids == ["post_update", "nothing_new", "snooze"]
    slack.clock.advance(minutes=5)
    with slack.runtime.sessions.begin() as session:
        sweeps.sweep(session, slack.runtime.settings, slack.runtime.now())
    slack.flush(board=False)
    thread = slack.thread_of(slack.roots()[0])
    assert any("OVERDUE" in m.text and BOB in m.text for m in thread)


def test_slack_stale_reminder_is_dropped_not_sent(slack: Slack):
    slack.command("declare sev2 Card declines")
    slack.command(f"owner 1 <@{BOB}>")
    slack.command("update 1 We are investigating card declines.")
    slack.flush(board=False)
    slack.clock.advance(minutes=16)
    with slack.runtime.sessions.begin() as session:
        sweeps.sweep(session, slack.runtime.settings, slack.runtime.now())
    slack.command("update 1 Still investigating, more soon.")  # the promise moved
    slack.flush(board=False)
    assert not [m for m in slack.dms(BOB) if m.text.endswith(": public update due")]


def test_slack_maintenance_is_announced_in_the_channel(slack: Slack):
    slack.command("maintenance 2026-12-01T02:00Z 2h api DB upgrade")
    slack.flush(board=False)
    assert any("Maintenance scheduled" in m.text for m in slack.channel())


def test_slack_long_outage_never_drops_a_message_and_catches_up_within_a_minute(slack: Slack):
    from sqlalchemy import select

    from bot.db.models import OutboxMessage

    slack.command("declare Slack is down too")
    slack.fake.fail("chat.postMessage", "fatal_error", times=80)
    for _ in range(80):  # well past any attempt limit: an hour and more of failures
        slack.sender.drain()
        slack.clock.advance(seconds=61)  # the backoff never exceeds a minute
    with slack.runtime.sessions() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "slack.event")
        ).one()
        assert not row.dead and row.attempts >= 80
    slack.flush(board=False)
    assert len(slack.roots()) == 1


def _root_text(slack: Slack) -> str:
    [root] = slack.roots()
    return json.dumps(root.blocks)


def test_slack_root_message_shows_the_current_status_after_a_429(slack: Slack):
    slack.command("declare sev2 Card declines")
    slack.flush(board=False)
    assert "Status *investigating*" in _root_text(slack)
    slack.fake.rate_limit("chat.update", retry_after=5, times=1)
    slack.command("update 1 identified We found the cause of the declines.")
    slack.flush(board=False)
    assert "Status *investigating*" in _root_text(slack)  # the edit was rate-limited …
    slack.command(f"owner 1 <@{BOB}>")  # … and waits in order: later posts queue behind it
    slack.flush(board=False)
    slack.clock.advance(seconds=6)  # Retry-After
    slack.flush(board=False)
    text = _root_text(slack)
    assert "Status *identified*" in text and BOB in text  # the incident as it is now
    [root] = slack.roots()
    thread = [m.text for m in slack.thread_of(root)]
    assert any("identified" in t for t in thread) and any(BOB in t for t in thread)


def test_slack_root_refresh_is_dropped_when_the_root_is_gone(slack: Slack):
    slack.command("declare Root goes away")
    slack.flush(board=False)
    slack.fake.fail("chat.update", "message_not_found", times=1)
    slack.command("sev 1 sev1")
    slack.flush(board=False)
    with slack.runtime.sessions() as session:
        from sqlalchemy import select

        from bot.db.models import OutboxMessage

        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "slack.root"))
        assert [(r.sent_at is not None, r.dead) for r in rows] == [(True, False)]


def test_slack_a_row_that_raises_fails_alone_and_the_rest_go_out(slack: Slack):
    from sqlalchemy import select

    from bot import outbox
    from bot.db.models import OutboxMessage
    from bot.outbox import kinds

    slack.command("declare First")
    with slack.runtime.sessions.begin() as session:  # a row nobody can send: no "user"
        outbox.enqueue(session, key="dm:broken", kind=kinds.SLACK_DM, now=slack.clock(), payload={})
    slack.command("declare Second")
    slack.command("note 2 still going")
    slack.flush(board=False)
    assert sorted(m.text.split("] ")[-1] for m in slack.roots()) == ["First", "Second"]
    with slack.runtime.sessions() as session:
        broken = session.scalars(select(OutboxMessage).where(OutboxMessage.key == "dm:broken"))
        row = broken.one()
        assert row.sent_at is None and row.attempts == 1 and row.claimed_until is None
        assert "KeyError" in (row.last_error or "")
        assert outbox.backlog(session) == 1  # only the broken row is left


def test_slack_odd_retry_after_header_still_means_wait_a_second(slack: Slack):
    slack.command("declare Odd header")
    slack.fake.rate_limit("chat.postMessage", retry_after="²", times=1)  # type: ignore[arg-type]
    assert slack.sender.drain() == 0
    slack.clock.advance(seconds=2)
    slack.flush(board=False)
    assert len(slack.roots()) == 1


def test_slack_a_row_that_keeps_raising_is_set_aside_and_its_thread_goes_on(slack: Slack):
    """A thread post that raises every time must not hold back the incident's later posts
    (they share an ordering key) forever: after a few attempts it is set aside and the board
    says so; Slack failing (429, 5xx, timeouts) never sets anything aside."""
    from sqlalchemy import select

    from bot import outbox
    from bot.db.models import OutboxMessage
    from bot.outbox import kinds
    from bot.slack.delivery.sender import UNEXPECTED_ATTEMPTS

    slack.command("declare Stuck thread")
    slack.flush(board=False)
    with slack.runtime.sessions.begin() as session:  # a thread post nobody can render
        outbox.enqueue(
            session,
            key="event:poison",
            kind=kinds.SLACK_EVENT,
            now=slack.clock(),
            payload={"event_id": {"not": "an id"}},
            ordering_key="incident:1",
        )
    slack.command("note 1 after the poison row")
    for _ in range(UNEXPECTED_ATTEMPTS + 1):
        slack.flush(board=False)
        slack.clock.advance(minutes=2)  # past each backoff
    [root] = slack.roots()
    assert any("after the poison row" in m.text for m in slack.thread_of(root))
    with slack.runtime.sessions() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.key == "event:poison"))
        poison = row.one()
        assert poison.dead and poison.attempts == UNEXPECTED_ATTEMPTS
    slack.flush()
    assert "1 Slack post could not be sent and were set aside" in slack.board_text()
