"""Changes: POST /hooks/deploy, `flare deploy`, the board, a new incident's thread, `show`
and `/incident changes`, observed on the fake Slack and in the database."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot import context
from bot.cli.main import main as flare_main
from bot.db.models import Change
from bot.runtime import Runtime
from tests.conftest import Clock, with_settings
from tests.support.slackutil import (  # noqa: F401
    Slack,
    TestClient,
    fake,
    multi_value,
    select_value,
    slack,
    text_value,
    user_value,
)
from web import hooks
from web.app import HOOKS

TOKEN = "hook-secret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _count(runtime: Runtime) -> int:
    with runtime.sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(Change)) or 0)


@pytest.fixture
def hook(runtime: Runtime) -> Iterator[TestClient]:
    rt = with_settings(runtime, hook_token=TOKEN)
    with TestClient(Starlette(routes=hooks.routes(rt, HOOKS))) as client:
        yield client


def post(client: TestClient, data: Any, headers: dict[str, str] | None = None) -> Any:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return client.post("/hooks/deploy", content=body, headers=AUTH if headers is None else headers)


def test_deploy_hook_records_a_change(hook: TestClient, runtime: Runtime, clock: Clock):
    answer = post(
        hook,
        {
            "service": "checkout",
            "version": "v1.4.2",
            "url": "https://ci.acme.test/builds/4411",
            "actor": "alice",
            "at": "2026-11-25T13:40:00Z",
        },
    )
    assert answer.status_code == 200, answer.text
    with runtime.sessions.begin() as session:
        (row,) = session.scalars(select(Change)).all()
        assert (row.service, row.version, row.environment) == ("checkout", "v1.4.2", "production")
        assert row.url == "https://ci.acme.test/builds/4411" and row.actor == "alice"
        assert row.at == clock() - timedelta(minutes=20) and row.source == "hook"
    assert (
        post(hook, {"service": "api", "version": "2", "environment": "staging"}).status_code == 200
    )
    with runtime.sessions.begin() as session:
        staged = session.scalars(select(Change).where(Change.service == "api")).one()
        assert staged.environment == "staging" and staged.at == clock()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        ({"version": "1"}, "service"),
        ({"service": "api"}, "version"),
        ({"service": " ", "version": "1"}, "service"),
        ({"service": 7, "version": "1"}, "string"),
        ({"service": "a" * 101, "version": "1"}, "limit"),
        ({"service": "api", "version": "1", "environment": "e" * 51}, "limit"),
        ({"service": "api", "version": "1", "actor": "x" * 101}, "limit"),
        ({"service": "api", "version": "1", "url": "javascript:alert(1)"}, "http"),
        ({"service": "api", "version": "1", "url": "ftp://ci.acme.test/x"}, "http"),
        ({"service": "api", "version": "1", "url": "https://a.test/<!channel>"}, "link"),
        ({"service": "api", "version": "1", "url": "https://" + "a" * 500}, "limit"),
        ({"service": "api", "version": "1", "at": "yesterday"}, "RFC 3339"),
        ({"service": "api", "version": "1", "at": "2026-11-25T13:40:00"}, "offset"),
        ({"service": "api", "version": "1", "at": "2026-11-25"}, "offset"),
        ({"service": "api", "version": "1", "at": "2026-11-26T13:40:00Z"}, "future"),
        ({"service": "api", "version": "1", "at": 1700000000}, "RFC 3339"),
        ({"service": "api\n<!channel>", "version": "1"}, "control"),
        ({"service": "api", "version": "1", "sevice": "x"}, "unknown field"),
    ],
)
def test_deploy_hook_refuses_a_bad_payload_and_changes_nothing(
    hook: TestClient, runtime: Runtime, body: Any, why: str
):
    answer = post(hook, body)
    assert answer.status_code == 400
    assert why in answer.json()["error"]
    assert _count(runtime) == 0


def test_deploy_hook_needs_the_token_and_bounds_the_body(hook: TestClient, runtime: Runtime):
    good = {"service": "api", "version": "1"}
    assert post(hook, good, {}).status_code == 401
    assert post(hook, good, {"Authorization": "Bearer wrong"}).status_code == 401
    big = json.dumps({"service": "api", "version": "1", "actor": "x" * (1024 * 1024)}).encode()
    assert post(hook, big).status_code == 413
    assert _count(runtime) == 0


def test_deploy_hook_is_absent_without_a_token(runtime: Runtime):
    with TestClient(Starlette(routes=hooks.routes(runtime, HOOKS))) as client:
        assert post(client, {"service": "api", "version": "1"}).status_code == 404


def test_flare_deploy_records_and_refuses(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("DATABASE_URL", runtime.settings.database_url)
    code = flare_main(
        ["deploy", "checkout", "v7", "--env", "canary", "--url", "https://ci.acme.test/7"]
    )
    assert code == 0, capsys.readouterr()
    assert "Recorded checkout v7 (canary)" in capsys.readouterr().out
    assert flare_main(["deploy", "checkout", "v8", "--url", "file:///etc/passwd"]) == 2
    assert "http" in capsys.readouterr().err
    assert flare_main(["deploy", "checkout", "v9", "--at", "noon"]) == 2
    with runtime.sessions.begin() as session:
        rows = session.scalars(select(Change)).all()
        assert [(r.service, r.version, r.environment, r.source) for r in rows] == [
            ("checkout", "v7", "canary", "cli")
        ]


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


def test_slack_thread_board_show_and_changes_list_recent_changes(slack: Slack):
    _record(slack.runtime, 30, "checkout", "v1.4.2", actor="alice")
    _record(slack.runtime, 90, "api", "<@U0BOB0001> & <!channel>")
    _record(slack.runtime, 180, "search", "v0.9")  # older than 2 h: not listed
    slack.command("declare sev2 Checkout errors")
    slack.flush()

    (root,) = slack.roots()
    thread = [m.text for m in slack.thread_of(root)]
    assert len(thread) == 1, "the thread opens with the changes before it"
    assert "Changes in the 2 h before it" in thread[0]
    assert "checkout v1.4.2 by alice" in thread[0]
    assert "&lt;@U0BOB0001&gt; &amp; &lt;!channel&gt;" in thread[0], "data never mentions"
    assert "search" not in thread[0]

    board = slack.board_text()
    assert "Changes in the last 2 h" in board and "checkout v1.4.2" in board
    assert board.index("INC-1") < board.index("Changes in the last 2 h"), "incidents first"
    assert "search" not in board

    shown = slack.command("show 1")["text"]
    assert "Changes in the 2 h before it" in shown and "checkout v1.4.2" in shown
    listed = slack.command("changes")["text"]
    assert "Changes in the last 2 h" in listed and "api" in listed and "search" not in listed
    assert "search v0.9" in slack.command("changes 4h")["text"]
    assert "Usage: /incident changes" in slack.command("changes soon")["text"]


def test_slack_thread_without_recent_changes_has_no_changes_post(slack: Slack):
    _record(slack.runtime, 300, "search", "v0.9")
    slack.command("declare Login slow")
    slack.flush()
    (root,) = slack.roots()
    assert slack.thread_of(root) == []
    assert "Changes" not in slack.board_text()
    assert "No changes recorded in the last 2 h" in slack.command("changes")["text"]


def test_board_drops_changes_once_they_are_two_hours_old(slack: Slack):
    _record(slack.runtime, 100, "checkout", "v2")
    slack.flush()
    assert "checkout v2" in slack.board_text()
    slack.clock.advance(minutes=25)
    slack.flush()
    assert "checkout v2" not in slack.board_text()
    assert "All systems operational" in slack.board_text()


def test_slack_declare_form_with_a_public_message_still_opens_with_the_changes(slack: Slack):
    _record(slack.runtime, 10, "checkout", "v3")
    slack.click("declare_open", "board")
    view = slack.opened_view()
    values = {
        "title": text_value("Checkout errors"),
        "severity": select_value("sev2"),
        "components": multi_value("api"),
        "level": select_value("partial_outage"),
        "commander": user_value(None),
        "owner": user_value(None),
        "public_title": text_value(None),
        "message": text_value("We are investigating failed checkouts."),
        "force": multi_value(),
    }
    slack.submit(view, values)
    slack.flush()
    (root,) = slack.roots()
    thread = [m.text for m in slack.thread_of(root)]
    assert "Changes in the 2 h before it" in thread[0] and "checkout v3" in thread[0]
    assert any("[public] investigating" in t for t in thread[1:])
