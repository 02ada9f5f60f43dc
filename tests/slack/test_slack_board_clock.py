"""The lazy board measures its quiet window on the monotonic clock: a wall clock that steps
back (NTP, a resumed VM) never freezes it."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

from sqlalchemy import update

from bot import outbox
from bot.db.models import OutboxMessage
from bot.outbox import kinds
from bot.slack.delivery.board_sync import BOARD_QUIET
from tests.support.slackutil import Slack, fake, slack  # noqa: F401


def _set_aside_one(slack: Slack) -> None:
    """A row given up on: the board shows it, but the data version does not move."""
    with slack.runtime.sessions.begin() as session:
        outbox.enqueue(
            session,
            key="x:dead",
            kind=kinds.SLACK_CHANNEL_TEXT,
            now=slack.clock(),
            payload={"text": "x"},
        )
        session.execute(
            update(OutboxMessage).where(OutboxMessage.key == "x:dead").values(dead=True)
        )


def _in_sync(slack: Slack) -> None:
    slack.command("declare Alpha outage")
    slack.flush()
    slack.clock.advance(seconds=1)
    slack.sender.refresh_board()  # in sync: quiet for BOARD_QUIET


def test_slack_board_quiet_window_ends_after_board_quiet(slack: Slack):
    _in_sync(slack)
    _set_aside_one(slack)
    slack.sender.refresh_board()
    assert "set aside" not in slack.board_text()  # quiet: the version did not move
    slack.clock.advance(seconds=BOARD_QUIET.total_seconds() + 1)
    slack.sender.refresh_board()
    assert "set aside" in slack.board_text()


def test_slack_board_wall_clock_stepping_back_does_not_freeze_it(slack: Slack):
    _in_sync(slack)
    slack.clock.advance(minutes=-30)  # the wall clock steps back; monotonic time does not
    _set_aside_one(slack)
    slack.sender.refresh_board()
    assert "set aside" in slack.board_text()
    slack.command("declare Beta outage")  # and the board keeps following changes
    slack.clock.advance(seconds=1)
    slack.sender.refresh_board()
    assert "Beta" in slack.board_text()


def test_slack_board_quiet_window_is_not_stretched_by_a_wall_clock_jump_back_later(slack: Slack):
    _in_sync(slack)
    _set_aside_one(slack)
    for _ in range(int(BOARD_QUIET.total_seconds()) + 1):  # monotonic time goes on
        slack.clock.advance(seconds=1)
    slack.clock.advance(seconds=-3)  # a small step back after the window ended
    slack.sender.refresh_board()
    assert "set aside" in slack.board_text()
