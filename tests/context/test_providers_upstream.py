"""Providers against a broken or hostile upstream: whatever a page answers, the poller counts
a failed poll (so the provider becomes unknown), stores nothing PostgreSQL refuses, never
sends an ETag it cannot send, and one provider never stops the others being polled."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import DependencyConfig
from bot.context import poll_due, providers, summary
from bot.context.providers import parse_summary
from bot.db.models import Provider
from tests.context.rawpage import RawPage
from tests.support.slackutil import Slack, fake, slack  # noqa: F401

MAJOR = b'{"status": {"indicator": "major"}}'


@pytest.fixture
def page() -> Iterator[RawPage]:
    with RawPage() as server:
        yield server


def _poll(slack: Slack, times: int = 1, minutes: float = 10) -> None:
    """`times` polls, each far enough apart to be due whatever the backoff."""
    for _ in range(times):
        slack.clock.advance(minutes=minutes)
        rt = slack.runtime
        poll_due(rt.sessions, rt.settings, rt.now())
    slack.flush()


def _row(slack: Slack, name: str) -> Provider:
    with slack.runtime.sessions.begin() as session:
        row = session.get(Provider, name)
        assert row is not None
        session.expunge(row)
        return row


@pytest.mark.parametrize(
    "body",
    [
        b'{"status": {"indicator": []}}',
        b'{"status": {"indicator": {"x": 1}}}',
        b'{"status": {"indicator": 1}}',
        b'{"status": []}',
        b"[" * 100_000,
        b"\xff\xfe",
    ],
)
def test_parse_summary_refuses_wrong_types_with_a_value_error(body: bytes):
    with pytest.raises(ValueError):  # noqa: PT011
        parse_summary(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"status": {"indicator": "minor"}, "incidents": [{"status": ["x"], "name": "n"}]}',
        b'{"status": {"indicator": "minor"}, "incidents": [{"status": {}, "name": 7}, 3]}',
        b'{"status": {"indicator": "minor"}, "incidents": {"name": "n"}}',
    ],
)
def test_parse_summary_reads_odd_incident_lists_without_raising(body: bytes):
    reading = parse_summary(body)
    assert reading.state == "degraded"
    assert reading.incident_name in {None, "n"}


def test_a_malformed_provider_becomes_unknown_and_the_next_one_is_still_polled(
    slack: Slack, page: RawPage
):
    with RawPage() as good:
        slack.reconfigure(
            dependencies=(
                DependencyConfig(name="Bad", url=page.url),
                DependencyConfig(name="Good", url=good.url),
            )
        )
        _poll(slack)
        assert _row(slack, "Bad").state == "operational"
        page.body = b'{"status": {"indicator": {"x": 1}}}'
        good.body = MAJOR
        _poll(slack)
        assert _row(slack, "Good").state == "major", "the provider after it is polled"
        _poll(slack, times=2)
    bad = _row(slack, "Bad")
    assert (bad.state, bad.failures) == ("unknown", 3)
    assert bad.last_error is not None and "indicator" in bad.last_error
    assert any("*Bad* could not be read for 3 polls in a row" in m.text for m in slack.channel())


def test_a_poll_whose_record_fails_counts_as_a_failure_and_the_others_go_on(
    slack: Slack, page: RawPage, monkeypatch: pytest.MonkeyPatch
):
    with RawPage() as good:
        slack.reconfigure(
            dependencies=(
                DependencyConfig(name="Bad", url=page.url),
                DependencyConfig(name="Good", url=good.url),
            )
        )
        _poll(slack)
        real = providers.change_post

        def broken(settings: Any, dependency: DependencyConfig, *args: Any) -> str:
            if dependency.name == "Bad":
                raise RuntimeError("cannot write the post")
            return real(settings, dependency, *args)

        monkeypatch.setattr(providers, "change_post", broken)
        page.body = good.body = MAJOR
        _poll(slack)
    bad, good_row = _row(slack, "Bad"), _row(slack, "Good")
    assert (bad.state, bad.failures) == ("operational", 1), "rolled back, then counted"
    assert bad.last_error == "not recorded: RuntimeError"
    assert bad.etag is None
    assert good_row.state == "major"


@pytest.mark.parametrize(
    "name", ["Outage\\u0000 in EU", "Outage\\n in EU", "Outage\\ud800 in EU", "\\u0000"]
)
def test_control_characters_from_upstream_are_never_stored(slack: Slack, page: RawPage, name: str):
    slack.reconfigure(dependencies=(DependencyConfig(name="Nul", url=page.url),))
    _poll(slack)
    page.body = (
        b'{"status": {"indicator": "major"}, "incidents": [{"name": "'
        + name.encode()
        + b'", "status": "investigating", "shortlink": "https://stspg.io/a\\u0000b"}]}'
    )
    _poll(slack)
    row = _row(slack, "Nul")
    assert (row.state, row.failures) == ("major", 0)
    expected = None if name == "\\u0000" else "Outage in EU"
    assert (row.incident_name, row.incident_url) == (expected, None)
    posts = [m.text for m in slack.channel() if "*Nul* is now *major*" in m.text]
    assert len(posts) == 1 and "\x00" not in posts[0] and "\n in EU" not in posts[0]


@pytest.mark.parametrize("etag", ['"v\u00e9"', '"' + "x" * 300 + '"', '"a\tb"'])
def test_an_etag_that_cannot_be_sent_back_is_not_kept(slack: Slack, page: RawPage, etag: str):
    page.etag = etag
    slack.reconfigure(dependencies=(DependencyConfig(name="Etag", url=page.url),))
    _poll(slack)
    assert _row(slack, "Etag").etag is None
    page.etag, page.body = '"v2"', MAJOR
    _poll(slack, times=3)
    row = _row(slack, "Etag")
    assert (row.state, row.failures, row.etag) == ("major", 0, '"v2"')
    assert len(page.requests) == 4, "every poll reached the page"
    assert page.requests[-1]["if_none_match"] == '"v2"'


def test_unknown_recovers_when_the_page_comes_back_with_the_same_etag(slack: Slack, page: RawPage):
    page.etag = '"v1"'
    slack.reconfigure(dependencies=(DependencyConfig(name="Stripe", url=page.url),))
    _poll(slack)
    page.status, page.honour_etag = 503, False
    _poll(slack, times=3)
    assert _row(slack, "Stripe").state == "unknown"
    assert page.requests[-1]["if_none_match"] is None, "a failed poll forgets the ETag"
    page.status, page.honour_etag = 200, True
    _poll(slack)
    assert _row(slack, "Stripe").state == "operational"
    assert any("*Stripe* is *operational* again" in m.text for m in slack.channel())


def test_a_304_never_stands_for_a_reading_we_do_not_have(slack: Slack, page: RawPage):
    page.status, page.body = 304, b""
    slack.reconfigure(dependencies=(DependencyConfig(name="Mute", url=page.url),))
    _poll(slack, times=3)
    row = _row(slack, "Mute")
    assert (row.state, row.failures) == ("unknown", 3)
    assert row.last_error is not None and "304" in row.last_error


def test_a_slow_poll_is_not_recorded_over_a_later_one(slack: Slack):
    dependency = DependencyConfig(name="Slow", url="https://status.slow.test")
    slack.reconfigure(dependencies=(dependency,))
    rt, now = slack.runtime, slack.clock()
    with rt.sessions.begin() as session:
        assert providers.claim(session, dependency, now)[0]
    first = providers.slot_of(dependency, now)
    later = slack.clock.advance(minutes=1)
    with rt.sessions.begin() as session:
        assert providers.claim(session, dependency, later)[0]
        providers.record(
            session,
            rt.settings,
            dependency,
            providers.Outcome(reading=providers.Reading("major")),
            later,
            slot=providers.slot_of(dependency, later),
        )
    with rt.sessions.begin() as session:
        stale = providers.Outcome(reading=providers.Reading("none"))
        assert providers.record(session, rt.settings, dependency, stale, later, slot=first) is None
    assert _row(slack, "Slow").state == "major"


def _bomb(megabytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(megabytes)) + packer.flush()


def test_a_compressed_body_is_inflated_only_up_to_the_limit(page: RawPage):
    page.body, page.headers = _bomb(256), {"Content-Encoding": "gzip"}
    tracemalloc.start()
    try:
        outcome = providers.fetch(DependencyConfig(name="Bomb", url=page.url), None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert outcome.error is not None and "over 1 MiB" in outcome.error
    assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MiB held for a 1 MiB limit"
    assert page.requests[-1]["accept_encoding"] == "identity"


@pytest.mark.parametrize(
    ("encoding", "body", "ok"),
    [
        ("gzip", gzip.compress(MAJOR), True),
        ("deflate", zlib.compress(MAJOR), True),
        ("br", MAJOR, False),
        ("gzip", MAJOR, False),  # says gzip, is not
    ],
)
def test_a_body_in_another_encoding_is_read_or_refused(
    page: RawPage, encoding: str, body: bytes, ok: bool
):
    page.body, page.headers = body, {"Content-Encoding": encoding}
    outcome = providers.fetch(DependencyConfig(name="Enc", url=page.url), None)
    if ok:
        assert outcome.reading is not None and outcome.reading.state == "major"
    else:
        assert outcome.reading is None and outcome.error is not None


def test_the_worker_reads_the_clock_for_each_provider(slack: Slack, page: RawPage):
    slack.reconfigure(
        dependencies=tuple(DependencyConfig(name=f"P{n}", url=page.url) for n in range(3))
    )
    ticks = iter(range(100))
    start = slack.clock()

    def clock() -> Any:
        return start.replace(second=next(ticks))

    assert poll_due(slack.runtime.sessions, slack.runtime.settings, clock) == 3
    polled = [_row(slack, f"P{n}").polled_at for n in range(3)]
    assert len(set(polled)) == 3


def test_the_name_is_resolved_within_the_deadline_and_the_host_kept(
    page: RawPage, monkeypatch: pytest.MonkeyPatch
):
    port = page.url.rsplit(":", 1)[1]
    named = DependencyConfig(name="Named", url=f"http://status.example.test:{port}")
    answers = {"status.example.test": ["::1", "127.0.0.1"]}  # ::1 does not answer here
    outcome = providers.fetch(named, None, resolve=lambda host, _port: answers[host])
    assert outcome.reading is not None and outcome.reading.state == "operational"
    assert page.requests[-1]["host"] == f"status.example.test:{port}"

    def hanging(host: str, port: int) -> list[str]:
        time.sleep(3)
        return ["127.0.0.1"]

    monkeypatch.setattr(summary, "RESOLVE_TIMEOUT", 0.2)
    outcome = providers.fetch(named, None, resolve=hanging)
    assert outcome.error is not None and "does not resolve" in outcome.error
    assert len(page.requests) == 1


def test_a_provider_with_a_long_incident_name_leaves_room_for_the_others(
    slack: Slack, page: RawPage
):
    with RawPage() as other:
        slack.reconfigure(
            dependencies=(
                DependencyConfig(name="Long", url=page.url),
                DependencyConfig(name="Other", url=other.url),
            )
        )
        _poll(slack)
        page.body = (
            b'{"status": {"indicator": "major"}, "incidents": [{"name": "'
            + b"&" * 400
            + b'", "status": "investigating", "shortlink": "https://stspg.io/'
            + b"x" * 480
            + b'"}]}'
        )
        other.body = MAJOR
        _poll(slack)
    (section,) = [
        b["text"]["text"]
        for b in slack.board().blocks or []
        if b.get("type") == "section" and "Providers" in b["text"]["text"]
    ]
    assert "*Long*" in section and "*Other*" in section
    assert "&amp;…" in section
