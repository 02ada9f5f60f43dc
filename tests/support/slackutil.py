"""Drive the Slack surface as Slack does: signed HTTP requests to /slack/events, and observe
only what the fake Slack Web API recorded."""

from __future__ import annotations

import json
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

from bot.runtime import Runtime
from bot.slack.delivery.sender import SlackSender
from tests.conftest import Clock, with_settings
from tests.support.fakeslack import FakeSlack, Message
from web import slack_http

with warnings.catch_warnings():
    # Starlette nags once, at import, that it prefers httpx2 (a UserWarning subclass that
    # pyproject's DeprecationWarning filter does not cover). The client works as documented.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
CHANNEL = "C0INCIDENTS"
ALICE = "U0ALICE01"
BOB = "U0BOB0001"
CAROL = "U0CAROL01"


def sign(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def text_value(value: str | None) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def select_value(value: str | None) -> dict[str, Any]:
    option = {"value": value, "text": {"type": "plain_text", "text": value}} if value else None
    return {"value": {"type": "static_select", "selected_option": option}}


def multi_value(*values: str) -> dict[str, Any]:
    return {
        "value": {
            "type": "multi_static_select",
            "selected_options": [
                {"value": v, "text": {"type": "plain_text", "text": v}} for v in values
            ],
        }
    }


def user_value(user: str | None) -> dict[str, Any]:
    return {"value": {"type": "users_select", "selected_user": user}}


class Slack:
    """The app under test, the fake Slack and the outbox sender, wired together."""

    def __init__(self, runtime: Runtime, fake: FakeSlack, clock: Clock) -> None:
        self.runtime = runtime
        self.fake = fake
        self.clock = clock
        self.http = TestClient(Starlette(routes=slack_http.routes(runtime)))
        self.sender = SlackSender(runtime, post_interval=0)

    def reconfigure(self, **changes: Any) -> None:
        """The same database and fake with other settings (responders, …)."""
        self.runtime = with_settings(self.runtime, **changes)
        app = self.http.app
        assert isinstance(app, Starlette)
        app.router.routes[:] = slack_http.routes(self.runtime)
        self.sender = SlackSender(self.runtime, post_interval=0)

    # --- requests -----------------------------------------------------------------------

    def post(self, body: str, headers: dict[str, str] | None = None) -> Any:
        return self.http.post("/slack/events", content=body, headers=headers or sign(body))

    def command(
        self, text: str, *, user: str = ALICE, trigger_id: str | None = None, **headers: str
    ) -> dict[str, Any]:
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T0FAKE0001",
                "channel_id": CHANNEL,
                "user_id": user,
                "command": "/incident",
                "text": text,
                "trigger_id": trigger_id or f"trig-{uuid.uuid4().hex}",
                "response_url": self.fake.response_url(f"cmd-{uuid.uuid4().hex[:8]}"),
            }
        )
        response = self.post(body, {**sign(body), **headers})
        assert response.status_code == 200, response.text
        return response.json() if response.content else {}

    def payload(self, data: dict[str, Any]) -> Any:
        return self.post(urlencode({"payload": json.dumps(data)}))

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = ALICE,
        trigger_id: str | None = None,
        response_key: str | None = None,
    ) -> str:
        """Click a button; returns the response_url key its answer goes to."""
        key = response_key or f"click-{uuid.uuid4().hex[:8]}"
        response = self.payload(
            {
                "type": "block_actions",
                "team": {"id": "T0FAKE0001"},
                "user": {"id": user},
                "trigger_id": trigger_id or f"trig-{uuid.uuid4().hex}",
                "response_url": self.fake.response_url(key),
                "container": {"type": "message", "channel_id": CHANNEL},
                "actions": [
                    {"type": "button", "action_id": action_id, "value": value, "block_id": "b"}
                ],
            }
        )
        assert response.status_code == 200, response.text
        return key

    def opened_view(self, count: int = 1) -> dict[str, Any]:
        calls = self.fake.wait_for_calls("views.open", count)
        return dict(calls[count - 1].response["view"])

    def submit(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str = ALICE
    ) -> dict[str, Any]:
        response = self.payload(
            {
                "type": "view_submission",
                "team": {"id": "T0FAKE0001"},
                "user": {"id": user},
                "trigger_id": f"trig-{uuid.uuid4().hex}",
                "view": {
                    "id": view["id"],
                    "hash": view["hash"],
                    "callback_id": view["callback_id"],
                    "private_metadata": view.get("private_metadata", ""),
                    "type": "modal",
                    "state": {"values": values},
                },
            }
        )
        assert response.status_code == 200, response.text
        return response.json() if response.content else {}

    # --- the outbox ---------------------------------------------------------------------

    def flush(self, *, board: bool = True) -> None:
        """Drain the outbox until nothing more goes out, then refresh the board."""
        for _ in range(200):
            if self.sender.drain() == 0:
                break
        if board:
            self.clock.advance(seconds=1)
            self.sender.refresh_board()

    # --- observations -------------------------------------------------------------------

    def channel(self) -> list[Message]:
        return [m for m in self.fake.channel_messages(CHANNEL) if not m.deleted]

    def roots(self) -> list[Message]:
        return [m for m in self.channel() if m.thread_ts is None and m.text.startswith("INC-")]

    def thread_of(self, root: Message) -> list[Message]:
        return self.fake.thread(CHANNEL, root.ts)

    def board(self) -> Message:
        pinned = [m for m in self.channel() if self.fake.is_pinned(CHANNEL, m.ts)]
        assert len(pinned) == 1, pinned
        return pinned[0]

    def board_text(self) -> str:
        return json.dumps(self.board().blocks, ensure_ascii=False)

    def responses(self, key: str) -> list[dict[str, Any]]:
        return list(self.fake.responses.get(key, []))

    def dms(self, user: str) -> list[Message]:
        return self.fake.channel_messages("D" + user)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def slack(runtime: Runtime, fake: FakeSlack, clock: Clock) -> Iterator[Slack]:
    rt = with_settings(
        runtime,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=fake.url,
        incidents_channel=CHANNEL,
    )
    harness = Slack(rt, fake, clock)
    with harness.http:
        yield harness


def client_for(fake: FakeSlack, timeout: int = 5) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.url, timeout=timeout, retry_handlers=[])
