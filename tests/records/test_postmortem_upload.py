"""The postmortem upload: only to Slack's own upload URL, one on its way per incident, never
shared twice after an ambiguous failure, rendered when sent (the row holds no document)."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from bot.db.models import OutboxMessage
from bot.outbox import kinds
from bot.slack.urls import refusal
from tests.support.slackutil import BOB, Slack, fake, slack  # noqa: F401


def _file_rows(slack: Slack) -> list[OutboxMessage]:
    with slack.runtime.sessions.begin() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kinds.SLACK_FILE)
        ).all()
        session.expunge_all()
        return list(rows)


def test_an_upload_url_off_slack_gets_nothing_and_the_row_is_given_up(slack: Slack, monkeypatch):
    got: list[bytes] = []

    class Catcher(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Catcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    original = slack.fake._files_get_upload_url_external

    def elsewhere(args):
        answer = original(args)
        answer["upload_url"] = f"http://127.0.0.1:{server.server_port}/steal"
        return answer

    monkeypatch.setitem(slack.fake._api, "files.getUploadURLExternal", elsewhere)
    try:
        slack.command("declare sev2 Checkout errors")
        slack.command("note 1 SECRET-INTERNAL root password rotated on db-prod-3")
        slack.command("postmortem 1", user=BOB)
        slack.flush()
        slack.clock.advance(minutes=10)
        slack.flush()
    finally:
        server.shutdown()
        server.server_close()
    assert got == []
    assert not [f for f in slack.fake.files.values() if f.shared]
    [row] = _file_rows(slack)
    assert row.dead and row.attempts == 1
    assert "upload URL Slack gave is refused: it is not https" in (row.last_error or "")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://files.slack.com/upload/v1/abc", True),
        ("https://slack.com/upload", True),
        ("https://files.slack-gov.com/upload/v1/abc", True),
        ("http://files.slack.com/upload/v1/abc", False),
        ("https://slack.com.evil.example/upload", False),
        ("https://evilslack.com/upload", False),
        ("https://user:pw@files.slack.com/upload", False),
        ("http://127.0.0.1:9999/api/upload", True),  # the configured API's own origin
        ("http://127.0.0.1:9998/upload", False),
        ("file:///etc/passwd", False),
    ],
)
def test_which_urls_are_slack(url: str, allowed: bool):
    assert (refusal(url, "http://127.0.0.1:9999/api/") is None) is allowed


def test_one_postmortem_on_its_way_per_incident(slack: Slack):
    slack.command("declare sev2 Checkout errors")
    slack.command("note 1 " + "n" * 9000)
    first = slack.command("postmortem 1", user=BOB)["text"]
    assert "on its way" in first and "already" not in first
    for _ in range(5):
        slack.clock.advance(minutes=1)
        assert "already on its way" in slack.command("postmortem 1", user=BOB)["text"]
    [row] = _file_rows(slack)
    assert set(row.payload) == {"incident_id", "filename", "title", "asked_at"}
    slack.flush()
    [stored] = [f for f in slack.fake.files.values() if f.shared]
    assert "n" * 9000 in stored.text  # rendered when sent
    # Once sent, asking again sends a new one.
    assert "already" not in slack.command("postmortem 1", user=BOB)["text"]
    assert len(_file_rows(slack)) == 2


def test_a_timeout_on_complete_never_shares_the_file_twice(slack: Slack):
    slack.command("declare sev2 Checkout errors")
    slack.flush()
    slack.fake.delay("files.completeUploadExternal", 11, times=1, phase="after")
    slack.command("postmortem 1")
    slack.flush()
    slack.clock.advance(minutes=10)
    slack.flush()
    [root] = slack.roots()
    shares = [m for m in slack.thread_of(root) if m.subtype == "file_share"]
    assert len(shares) == 1
    assert len(slack.fake.calls_to("files.getUploadURLExternal")) == 1
    [row] = _file_rows(slack)
    assert row.sent_at is not None and row.payload["uploaded"] is True


def test_an_uploaded_file_not_yet_shared_is_shared_on_retry_not_uploaded_again(slack: Slack):
    slack.command("declare sev2 Checkout errors")
    slack.flush()
    slack.fake.server_error("files.completeUploadExternal")
    slack.command("postmortem 1")
    slack.flush()
    assert not [f for f in slack.fake.files.values() if f.shared]
    slack.clock.advance(minutes=10)
    slack.flush()
    assert len(slack.fake.calls_to("files.getUploadURLExternal")) == 1
    [stored] = slack.fake.files.values()
    assert stored.shared
