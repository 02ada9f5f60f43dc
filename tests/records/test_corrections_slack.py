"""Corrections from Slack: the command held back by hygiene, then published anyway (the
"Correct" button and its form: tests/slack/test_slack_interactivity.py)."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

from tests.support.slackutil import BOB, Slack, fake, slack  # noqa: F401


def test_correct_command_with_hygiene_findings_offers_publish_anyway(slack: Slack):
    slack.command("declare sev2 Checkout errors")
    slack.command("update 1 We are investigating failed checkouts.")
    answer = slack.command("correct 1 We think db-prod-3 is down")
    assert "Publish anyway" in str(answer)
    [actions] = [b for b in answer["blocks"] if b["type"] == "actions"]
    token = str(actions["elements"][-1]["value"])
    key = slack.click("publish_anyway", token, user=BOB)
    slack.flush()
    assert any("Corrected" in str(r) for r in slack.responses(key))
