"""Providers: a local Statuspage-compatible page going operational → major → unreadable →
operational, with exactly one #incidents post per change and the board following; nothing
applied to our components; one poll per slot."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import DependencyConfig
from bot.context import poll_due
from bot.context.providers import parse_summary
from bot.db.models import Component
from tests.context.statuspage import StatusPage
from tests.support.guards import Guard, no_outside_calls_in_transactions  # noqa: F401
from tests.support.slackutil import Slack, fake, slack  # noqa: F401

MINUTE = timedelta(seconds=60)


@pytest.fixture
def page() -> Iterator[StatusPage]:
    with StatusPage() as server:
        yield server


def _poll(slack: Slack) -> int:
    rt = slack.runtime
    polled = poll_due(rt.sessions, rt.settings, rt.now())
    slack.flush()
    return polled


def _posts(slack: Slack) -> list[str]:
    """Top-level posts in #incidents other than the board and incident roots."""
    return [
        m.text
        for m in slack.channel()
        if m.thread_ts is None and not m.text.startswith(("INC-", "Incident board"))
    ]


def test_provider_states_are_posted_once_per_change_and_the_board_follows(
    slack: Slack, page: StatusPage, no_outside_calls_in_transactions: Guard
):
    stripe = DependencyConfig(name="Stripe <Pay>", url=page.url, components=("api",))
    slack.reconfigure(dependencies=(stripe,))
    # operational: the first read sets the state, silently.
    assert _poll(slack) == 1
    assert _poll(slack) == 0, "one poll per slot"
    assert _posts(slack) == []
    assert "Providers" not in slack.board_text()
    assert "All systems operational" in slack.board_text()
    slack.clock.advance(seconds=60)
    assert _poll(slack) == 1
    assert page.requests[-1]["if_none_match"] == '"operational"', "ETag sent back"

    # major: one post, the board shows it, our components are not touched.
    page.set("major")
    slack.clock.advance(seconds=60)
    _poll(slack)
    posts = _posts(slack)
    assert len(posts) == 1
    assert "*Stripe &lt;Pay&gt;* is now *major* (was operational)" in posts[0]
    assert "<https://stspg.io/abc123|Elevated API errors>" in posts[0]
    assert "may affect our API" in posts[0] and "Nothing was changed" in posts[0]
    board = slack.board_text()
    assert "Providers" in board and "Stripe &lt;Pay&gt;" in board and "major outage" in board
    assert "`major`" in board and "<https://stspg.io/abc123|Elevated API errors>" in board
    with slack.runtime.sessions.begin() as session:
        api = session.scalars(select(Component).where(Component.key == "api")).one()
        assert api.status.value == "operational", "suggested, never applied"
    slack.clock.advance(seconds=60)
    _poll(slack)
    assert len(_posts(slack)) == 1, "no change, no post"

    # unreadable: backoff, and "unknown" only after 3 failed polls, never "operational".
    page.set("unreadable")
    for wait in (1, 2, 4):
        slack.clock.advance(seconds=60 * wait)
        assert _poll(slack) == 1
        if wait < 4:
            assert len(_posts(slack)) == 1
            assert "major outage" in slack.board_text(), "the last state stands meanwhile"
        slack.clock.advance(seconds=30)
        assert _poll(slack) == 0, "backing off"
        slack.clock.advance(seconds=-30)
    posts = _posts(slack)
    assert len(posts) == 2 and "*unknown* (was major)" in posts[1]
    assert "unknown (cannot be read)" in slack.board_text()

    # operational again: one post, and the section goes.
    page.set("operational")
    slack.clock.advance(seconds=60 * 8)
    assert _poll(slack) == 1
    posts = _posts(slack)
    assert len(posts) == 3 and "is *operational* again (was unknown)" in posts[2]
    assert "Providers" not in slack.board_text()
    assert "All systems operational" in slack.board_text()
    assert no_outside_calls_in_transactions.violations == []


def test_provider_that_is_never_readable_becomes_unknown_without_a_post(
    slack: Slack, page: StatusPage
):
    page.set("error")
    slack.reconfigure(dependencies=(DependencyConfig(name="Twilio", url=page.url),))
    for wait in (0, 1, 2):
        slack.clock.advance(seconds=60 * wait)
        assert _poll(slack) == 1
    assert _posts(slack) == [], "the first state known is set silently"
    assert "Twilio" in slack.board_text() and "unknown" in slack.board_text()


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b"[]",
        b'{"status": {"indicator": "purple"}}',
        b'{"status": "none"}',
        b"not json",
    ],
)
def test_parse_summary_refuses_what_is_not_a_summary(body: bytes):
    with pytest.raises(ValueError):  # noqa: PT011
        parse_summary(body)


def test_parse_summary_drops_links_that_are_not_http():
    reading = parse_summary(
        b'{"status": {"indicator": "critical"}, "incidents": [{"name": "Down", '
        b'"status": "identified", "shortlink": "javascript:alert(1)"}]}'
    )
    assert (reading.state, reading.incident_name, reading.incident_url) == ("major", "Down", None)


def test_a_provider_that_trickles_its_answer_is_cut_at_the_total_deadline(
    page: StatusPage, monkeypatch: pytest.MonkeyPatch
):
    from bot.context import providers, summary

    monkeypatch.setattr(summary, "DEADLINE", 1.0)
    page.set("trickle")
    outcome = providers.fetch(DependencyConfig(name="Slowpoke", url=page.url), None)
    assert outcome.reading is None and outcome.error is not None
    assert "Timeout" in outcome.error
