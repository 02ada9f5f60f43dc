"""The pinned board: content, edits in place, one edit a second, repairs after hand edits."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import json

from bot.db.state import heartbeat
from bot.slack import board
from bot.slack.delivery.sender import SlackSender
from tests.conftest import START
from tests.support.factories import board_row
from tests.support.slackutil import BOB, CHANNEL, Slack, fake, slack  # noqa: F401


def test_slack_board_shows_what_support_needs(slack: Slack):
    slack.command("declare sev1 Checkout down")
    slack.command("declare sev3 Slow search")
    slack.command(f"owner 1 <@{BOB}>")
    slack.command("update 1 identified api=major We have found the cause & are fixing it.")
    slack.command("maintenance 2026-12-01T02:00Z 2h dashboard DB upgrade")
    slack.flush()
    text = slack.board_text()
    for expected in (
        "INC-1",
        "SEV1",
        "Checkout down",
        f"<@{BOB}>",
        "identified",
        "We have found the cause &amp; are fixing it.",
        "{ago}",
        "next update due",
        "no owner — assign one",
        "Not on the public page yet",
        "API — Major outage",
        "DB upgrade",
        "declare_open",
        "https://slack.com/archives/C0INCIDENTS/p",
    ):
        assert expected in text, expected
    assert slack.fake.pins[CHANNEL] == {slack.board().ts}


def test_slack_board_is_edited_in_place_and_marks_overdue(slack: Slack):
    slack.command("declare sev2 Checkout down")
    slack.command("update 1 We are investigating.")
    slack.flush()
    first = slack.board()
    slack.clock.advance(minutes=21)  # the promise passed: re-rendered without any new event
    slack.sender.refresh_board()
    assert slack.board().ts == first.ts
    assert "OVERDUE" in slack.board_text()
    assert len([m for m in slack.channel() if m.text.startswith("Incident board")]) == 1


def test_slack_board_at_most_one_edit_a_second_across_processes(slack: Slack):
    other = SlackSender(slack.runtime, post_interval=0)
    slack.command("declare One")
    slack.flush()
    slack.command("declare Two")
    slack.clock.advance(seconds=1)
    assert slack.sender.refresh_board() is True
    slack.command("declare Three")
    assert other.refresh_board() is False  # same second: the lease is taken
    assert "Three" not in slack.board_text()
    slack.clock.advance(seconds=1)
    assert other.refresh_board() is True
    assert "Three" in slack.board_text()
    assert slack.sender.refresh_board() is False  # nothing changed since


def test_slack_board_deleted_by_hand_is_reposted_and_pinned(slack: Slack):
    slack.command("declare Checkout down")
    slack.flush()
    old = slack.board()
    slack.fake.delete_message(CHANNEL, old.ts)
    slack.command("sev 1 sev1")  # the next change
    slack.flush()
    new = slack.board()
    assert new.ts != old.ts
    assert slack.fake.pins[CHANNEL] == {new.ts}


def test_slack_board_unpinned_by_hand_is_reposted_and_repinned(slack: Slack):
    slack.command("declare Checkout down")
    slack.flush()
    old = slack.board()
    slack.fake.unpin(CHANNEL, old.ts)
    slack.clock.advance(seconds=61)  # pins are checked cheaply, once a minute or on an edit
    slack.sender.refresh_board()
    new = slack.board()
    assert new.ts != old.ts and slack.fake.pins[CHANNEL] == {new.ts}


def test_slack_board_converges_after_failures(slack: Slack):
    slack.command("declare Checkout down")
    slack.fake.server_error("chat.postMessage", times=1)
    slack.fake.rate_limit("chat.update", retry_after=3, times=1)
    slack.flush()
    slack.flush()
    slack.command("sev 1 sev2")
    slack.flush()
    slack.clock.advance(seconds=3)
    slack.flush()
    assert "Checkout down" in slack.board_text()
    boards = [m for m in slack.channel() if m.text.startswith("Incident board")]
    assert len(boards) == 1


def test_slack_board_warns_when_no_scheduler_swept(slack: Slack):
    with slack.runtime.sessions.begin() as session:
        heartbeat(session, slack.runtime.now())
    slack.flush()
    assert "No scheduler has swept" not in slack.board_text()
    slack.clock.advance(seconds=16)
    slack.sender.refresh_board()
    assert "No scheduler has swept" in slack.board_text()
    assert "All systems operational" in slack.board_text()


def test_slack_board_stays_within_block_kit_limits_with_many_incidents():
    view = board.BoardView(
        incidents=[
            board_row(n, start=START, overdue=n % 2 == 0, channel=CHANNEL) for n in range(1, 80)
        ]
    )
    text, blocks = board.render_board(view)
    assert len(blocks) <= 50
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections)
    assert "more open incidents" in json.dumps(blocks)
    assert "79 open incidents" in text


def test_slack_board_notes_subscribers_disabled_after_failures(slack: Slack):
    from bot.db.models import Subscriber

    slack.command("declare One")
    slack.flush()
    assert "disabled after repeated delivery failures" not in slack.board_text()
    with slack.runtime.sessions.begin() as session:
        session.add(
            Subscriber(
                kind="webhook",
                address="https://hooks.example.com/x",
                created_at=START,
                confirmed_at=START,
                disabled_at=START,
                disabled_reason="410 Gone",
            )
        )
    slack.clock.advance(seconds=2)
    slack.sender.refresh_board()
    assert "1 subscriber disabled after repeated delivery failures" in slack.board_text()


def test_slack_board_replaced_one_is_unpinned_even_if_slack_fails_at_first(slack: Slack):
    slack.command("declare Checkout down")
    slack.flush()
    old = slack.board()
    slack.command("sev 1 sev1")
    slack.flush(board=False)  # the thread post and the root message's edit
    slack.fake.fail("chat.update", "message_not_found", times=1)  # Slack says: gone, repost
    slack.fake.server_error("pins.remove", status=503, times=1)
    slack.clock.advance(seconds=1)
    slack.sender.refresh_board()
    assert old.ts in slack.fake.pins[CHANNEL]  # the old board could not be unpinned yet
    slack.clock.advance(seconds=2)
    slack.sender.refresh_board()  # nothing changed on the board, but the unpin is retried
    new = slack.board()
    assert new.ts != old.ts and slack.fake.pins[CHANNEL] == {new.ts}
