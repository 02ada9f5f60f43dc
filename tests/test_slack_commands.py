"""Every /incident command through signed HTTP requests; effects observed on the fake Slack."""

from __future__ import annotations

from tests.slackutil import ALICE, BOB, Slack, slack, fake  # noqa: F401


def test_slack_declare_posts_root_and_board(slack: Slack):
    reply = slack.command("declare sev2 Checkout errors")
    assert reply["response_type"] == "ephemeral"
    assert "Declared INC-1" in reply["text"]
    slack.flush()
    roots = slack.roots()
    assert len(roots) == 1 and "INC-1" in roots[0].text
    assert "Checkout errors" in slack.board_text()
