"""Changes sent by a careless or hostile CI: times at the edge of datetime's range are refused
cleanly (400, exit 2), and change fields shown in Slack never mention anybody and never push
the other changes off the board or a thread past Slack's limits."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot import context
from bot.cli.main import main as flare_main
from bot.db.models import Change
from bot.runtime import Runtime
from bot.text.grammar import parse_time
from tests.conftest import with_settings
from tests.support.slackutil import Slack, TestClient, fake, slack  # noqa: F401
from web import hooks
from web.app import HOOKS

TOKEN = "hook-secret-token"
EDGES = [
    "0001-01-01T00:30:00+01:00",  # year 0 once in UTC
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",  # year 10000 once in UTC
    "1999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
]


@pytest.fixture
def hook(runtime: Runtime) -> Iterator[TestClient]:
    rt = with_settings(runtime, hook_token=TOKEN)
    routes = hooks.routes(rt, HOOKS)
    with TestClient(Starlette(routes=routes), raise_server_exceptions=False) as client:
        yield client


def _count(runtime: Runtime) -> int:
    with runtime.sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(Change)) or 0)


@pytest.mark.parametrize("at", EDGES)
def test_deploy_hook_refuses_times_outside_the_range_with_a_400(
    hook: TestClient, runtime: Runtime, at: str
):
    body = json.dumps({"service": "api", "version": "1", "at": at})
    answer = hook.post("/hooks/deploy", content=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 400, answer.text
    assert "`at`" in answer.json()["error"]
    assert _count(runtime) == 0


def test_deploy_hook_stores_an_offset_time_in_utc(hook: TestClient, runtime: Runtime):
    at = (runtime.now() - timedelta(minutes=5)).astimezone(UTC).replace(tzinfo=None)
    body = json.dumps({"service": "api", "version": "1", "at": at.isoformat() + "+02:00"})
    answer = hook.post("/hooks/deploy", content=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    with runtime.sessions.begin() as session:
        (change,) = session.scalars(select(Change)).all()
        assert change.at == at.replace(tzinfo=UTC) - timedelta(hours=2)


@pytest.mark.parametrize("at", EDGES[:3])
def test_flare_deploy_refuses_times_outside_the_range_with_exit_2(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], at: str
):
    monkeypatch.setenv("DATABASE_URL", runtime.settings.database_url)
    assert flare_main(["deploy", "api", "1", "--at", at]) == 2
    assert "`at`" in capsys.readouterr().err
    assert _count(runtime) == 0


@pytest.mark.parametrize("at", EDGES)
def test_slash_command_times_outside_the_range_are_not_times(at: str):
    assert parse_time(at) is None
    assert parse_time("2026-11-25T13:40:00+01:00") == datetime(2026, 11, 25, 12, 40, tzinfo=UTC)


def _record(runtime: Runtime, minutes_ago: int, service: str, version: str, **kw: Any) -> None:
    now = runtime.now()
    report = context.check_report(service=service, version=version, **kw)
    with runtime.sessions.begin() as session:
        context.record_change(
            session,
            context.ChangeReport(**{**report.__dict__, "at": now - timedelta(minutes=minutes_ago)}),
            now=now,
            source="hook",
        )


LIVE = re.compile(r"<[@#!]")


def test_change_fields_never_mention_anybody_in_show_changes_thread_or_board(slack: Slack):
    _record(
        slack.runtime,
        10,
        "api <!channel>",
        "<@U0BOB0001> <#C0SECRET1|general>",
        actor="<!subteam^S0OPS|@ops>",
        environment="<@W0EVE0001>",
    )
    slack.command("declare sev2 Checkout errors")
    slack.flush()
    (root,) = slack.roots()
    shown = [
        slack.command("show 1")["text"],
        slack.command("changes")["text"],
        slack.thread_of(root)[0].text,
        json.dumps([b for b in slack.board().blocks or [] if "Changes" in json.dumps(b)]),
    ]
    for text in shown:
        lines = [line for line in text.split("\n") if "api" in line]
        assert lines, text
        for line in lines:
            assert not LIVE.search(line.replace("<!date^", "")), line
            assert "&lt;@U0BOB0001&gt;" in line


def test_one_long_change_leaves_the_others_on_the_board_and_the_thread_bounded(slack: Slack):
    for n in range(5):
        _record(slack.runtime, 30 + n, f"svc{n}", f"v{n}")
    amp = "&" * 100
    url = "https://ci.example/" + "&" * 480
    _record(slack.runtime, 1, amp, amp, environment="&" * 50, actor=amp, url=url)
    for n in range(20):  # the thread lists up to 25: each of them as long as allowed
        _record(slack.runtime, 2 + n, "<" * 100, ">" * 100, actor="&" * 100, url=url)
    slack.command("declare sev2 Checkout errors")
    slack.flush()
    board = slack.board_text()
    (section,) = [
        b["text"]["text"]
        for b in slack.board().blocks or []
        if b.get("type") == "section" and "Changes" in b["text"]["text"]
    ]
    assert len(section) <= 3000
    assert "&amp;&amp;" in section, "the long change is shown, cut"
    assert "…and" in board
    lines = section.split("\n")[1:]
    assert len([line for line in lines if line.startswith("•")]) >= 2
    assert all(len(line) <= context.LINE_LIMIT for line in lines)
    for line in lines:  # a link is shown whole or not at all
        assert "https://ci.example/" not in line or url.replace("&", "&amp;") in line
    (root,) = slack.roots()
    opening = slack.thread_of(root)[0].text
    assert len(opening) <= 3000
    assert opening.startswith("*Changes in the 2 h before it:*")
    assert "more" in opening.split("\n")[-1] or "earlier" in opening.split("\n")[-1]
