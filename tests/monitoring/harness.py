"""The Slack harness with monitoring switched on: alerts go through the real hook, the
monitoring tick runs on the injected clock, Slack effects land in the fake."""

# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot import monitoring
from bot.config import SignalMap
from bot.incidents import sync_components
from bot.runtime import Runtime
from tests.monitoring.support import AUTH, COMPONENTS, TOKEN
from tests.support.fakeslack import Message
from tests.support.mailbox import TestClient
from tests.support.slackutil import Slack, fake, slack  # noqa: F401
from web.app import create_app


class Monitored:
    def __init__(self, slack: Slack) -> None:
        self.slack = slack
        slack.reconfigure(
            hook_token=TOKEN,
            components=COMPONENTS,
            signal_maps=(SignalMap((("job", "checkout"),), "api"),),
        )
        with self.runtime.sessions.begin() as session:
            sync_components(session, self.runtime.settings, slack.clock())
        self.http = TestClient(create_app(self.runtime, mode="web"))

    @property
    def runtime(self) -> Runtime:
        return self.slack.runtime

    def reconfigure(self, **changes: Any) -> None:
        self.slack.reconfigure(**changes)
        self.http = TestClient(create_app(self.runtime, mode="web"))

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post("/hooks/alertmanager", json=body, headers=AUTH)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        # The worker ticks every few seconds: it sees the alert at once (its clock measures
        # FLARE_SIGNAL_CONFIRM from then).
        with self.runtime.sessions.begin() as session:
            monitoring.sweep(session, self.runtime.settings, self.runtime.now())
        return data

    def tick(self, **advance: float) -> None:
        if advance:
            self.slack.clock.advance(**advance)
        with self.runtime.sessions.begin() as session:
            monitoring.sweep(session, self.runtime.settings, self.runtime.now())
        self.slack.flush()

    def triage(self) -> list[Message]:
        return [
            m
            for m in self.slack.channel()
            if m.thread_ts is None
            and any(b.get("block_id", "").startswith("triage:") for b in (m.blocks or []))
            or ":rotating_light:" in m.text
            or "recovered at" in m.text
        ]


@pytest.fixture
def mon(slack: Slack) -> Iterator[Monitored]:  # noqa: F811
    yield Monitored(slack)
