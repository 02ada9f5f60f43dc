"""`/incident stats` reads in a read-only session before anything is written (no dedupe row,
no write lock while it reads), counts in the database, and reads the timelines of at most
MAX_INCIDENTS incidents, saying so when the period holds more."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import records
from bot.db.engine import read_only
from bot.db.models import ProcessedRequest
from bot.records import stats as stats_module
from tests.support.slackutil import Slack, fake, slack  # noqa: F401


def _processed(slack: Slack) -> int:
    with slack.runtime.sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(ProcessedRequest)) or 0)


def test_stats_writes_nothing(slack: Slack):
    slack.command("declare sev1 Checkout errors")
    before = _processed(slack)
    text = slack.command("stats 7d")["text"]
    assert "Last 7 days: 1 incident(s) — sev1 1." in text
    assert _processed(slack) == before


def test_stats_past_the_cap_counts_all_and_says_what_the_figures_cover(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
):
    for n in range(5):
        slack.command(f"declare sev{1 + n % 2} Errors {n}")
        slack.command(f"update {n + 1} We are investigating errors {n}.")
        slack.clock.advance(minutes=10)
    monkeypatch.setattr(stats_module, "MAX_INCIDENTS", 2)
    text = slack.command("stats 7d")["text"]
    assert "Last 7 days: 5 incident(s) — sev1 3, sev2 2." in text
    assert "from the latest 2 of the 5" in text
    assert "Time to first public update: median 0 min, p90 0 min (2)" in text
    with read_only(slack.runtime.sessions) as session:
        result = records.compute_stats(session, slack.runtime.now(), timedelta(days=7))
    assert (result.incidents, result.covered, result.capped) == (5, 2, True)
    assert result.as_json()["covered_incidents"] == 2
    monkeypatch.setattr(stats_module, "MAX_INCIDENTS", 1000)
    assert "from the latest" not in slack.command("stats 7d")["text"]
