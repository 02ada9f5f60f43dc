"""Records from Slack: a correction held back by hygiene then published anyway, stats (the
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


def test_long_published_update_shows_whole_above_its_correct_button():
    from datetime import UTC, datetime

    from bot.db.models import TimelineEvent
    from bot.slack import blocks
    from bot.text.status import EventKind

    event = TimelineEvent(id=1, kind=EventKind.PUBLIC_UPDATE, actor="cli", body="x")
    event.at = datetime(2026, 11, 25, tzinfo=UTC)
    text = "y" * 7000
    built = blocks.event_blocks(event, 1, text)
    assert built is not None and built[-1]["type"] == "actions"
    assert "".join(b["text"]["text"] for b in built[:-1]) == text


def test_stats_through_slack(slack: Slack):
    assert slack.command("stats")["text"] == "No incidents in the last 30 days."
    slack.command("declare sev1 Checkout errors")
    slack.command("update 1 api=major We are investigating failed checkouts.")
    text = slack.command("stats 7d")["text"]
    assert "Last 7 days: 1 incident(s) — sev1 1." in text
    assert "Time to first public update: median 0 min, p90 0 min (1)" in text
    assert "Usage: /incident stats" in slack.command("stats forever")["text"]
