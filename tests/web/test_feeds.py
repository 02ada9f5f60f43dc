"""Atom and RSS history feeds, read by feedparser as a feed reader would."""

from __future__ import annotations

import feedparser

from bot.runtime import Runtime
from tests.conftest import Clock
from tests.support.publicdata import client, seed


def _feeds(runtime: Runtime) -> tuple[feedparser.FeedParserDict, feedparser.FeedParserDict]:
    _, http = client(runtime)
    with http:
        atom = http.get("/history.atom")
        rss = http.get("/history.rss")
    assert atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert rss.headers["content-type"] == "application/rss+xml; charset=utf-8"
    return feedparser.parse(atom.content), feedparser.parse(rss.content)


def test_feeds_one_entry_per_incident_with_updates_newest_first(
    runtime: Runtime, clock: Clock
) -> None:
    scenario = seed(runtime, clock)
    atom, rss = _feeds(runtime)
    for feed, version in ((atom, "atom10"), (rss, "rss20")):
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.version == version
        assert feed.feed.title == "Acme Status - Incident History"
        links = [e.link for e in feed.entries]
        expected = {
            f"https://status.acme.test/incidents/{i}"
            for i in (
                scenario.open_id,
                scenario.resolved_id,
                scenario.active_id,
                scenario.upcoming_id,
            )
        }
        assert set(links) == expected and len(links) == len(expected)
        entry = next(e for e in feed.entries if e.link.endswith(scenario.open_id))
        assert entry.title == "Partial outage: API, Dashboard"
        content = entry.content[0].value if version == "atom10" else entry.description
        newest = content.index("The cause has been identified.")
        oldest = content.index("We are investigating elevated errors on the API.")
        assert newest < oldest
        assert "Identified" in content and "Investigating" in content
        resolved = next(e for e in feed.entries if e.link.endswith(scenario.resolved_id))
        text = resolved.content[0].value if version == "atom10" else resolved.description
        assert text.index("Resolved") < text.index("Monitoring") < text.index("Investigating")
    assert atom.entries[0].id.startswith("https://status.acme.test/incidents/")
    assert atom.feed.updated_parsed is not None


def test_feeds_empty_page_are_valid(runtime: Runtime) -> None:
    atom, rss = _feeds(runtime)
    assert not atom.bozo and not rss.bozo
    assert atom.entries == [] and rss.entries == []
