"""Posting to Slack for the outbox: pacing per channel, message metadata carrying the outbox
key, and finding a message an ambiguous earlier attempt may already have posted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import outbox
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.slack.api import error_code, post_message
from bot.slack.delivery.board_sync import BoardSync

log = logging.getLogger("flare.slack.sender")

KINDS = kinds.SLACK_KINDS
METADATA_TYPE = "flare_outbox"
# Errors that retrying cannot fix: the message itself is wrong.
PERMANENT = {"invalid_blocks", "msg_too_long", "invalid_arguments", "no_text", "invalid_json"}
# Slack failing is transient (429, 5xx, timeouts, a misconfigured channel that someone
# fixes): keep retrying, never drop a message, and catch up within a minute of recovery.
MAX_BACKOFF = timedelta(seconds=60)


class Deferred(Exception):
    """Not now (pacing): put the row back without counting an attempt."""


class GiveUp(Exception):
    """This row can never be sent as it is (a refused upload URL): set it aside, with why."""


class Dropped(Exception):
    """Nothing to send any more (stale reminder, vanished incident): mark it done."""


@dataclass(frozen=True)
class SlackJob:
    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    last_error: str | None

    @property
    def ambiguous_before(self) -> bool:
        """An earlier attempt may have reached Slack (timeout, 5xx, dropped connection, or
        a post whose sent mark could not be recorded: "ambiguous:unrecorded")."""
        return (self.last_error or "").startswith("ambiguous:")


class Poster:
    """What every kind of Slack post needs; `SlackSender` adds the queue around it."""

    def __init__(
        self,
        runtime: Runtime,
        client: WebClient | None = None,
        *,
        post_interval: float = 1.0,
        batch: int = 50,  # rows per claim: one claim, one lease keeper, marks every 0.2 s
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.client = client or WebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            timeout=10,
            retry_handlers=[],
        )
        self.channel = settings.incidents_channel
        self.post_interval = post_interval
        self.batch = batch
        self._monotonic = monotonic
        self._last_post: dict[str, float] = {}
        # Each sender claims as itself, so a lapsed lease is noticed even within one process.
        self.worker = f"{outbox.WORKER_ID}:{id(self):x}"
        self.board = BoardSync(runtime, self.client, self.channel)

    def _pace(self, channel: str) -> None:
        """About one message a second per channel, as Slack asks for chat.postMessage."""
        if self.post_interval <= 0:
            return
        last = self._last_post.get(channel)
        if last is not None and self._monotonic() - last < self.post_interval:
            raise Deferred(channel)

    def _post(self, job: SlackJob, channel: str, **kwargs: Any) -> str:
        self._pace(channel)
        kwargs["metadata"] = {"event_type": METADATA_TYPE, "event_payload": {"key": job.key}}
        try:
            return self._post_now(channel, **kwargs)
        finally:
            self._last_post[channel] = self._monotonic()

    def _post_now(self, channel: str, **kwargs: Any) -> str:
        return post_message(self.client, channel, **kwargs)

    def _find_posted(self, job: SlackJob, channel: str, thread_ts: str | None) -> str | None:
        """The ts of a message this job already posted, if an ambiguous attempt got through."""
        if not job.ambiguous_before:
            return None
        try:
            if channel[:1] in ("U", "W"):  # a DM: its history lives under the D… channel
                opened = self.client.conversations_open(users=channel)
                channel = str((opened.get("channel") or {}).get("id") or channel)
            if thread_ts:
                response = self.client.conversations_replies(
                    channel=channel, ts=thread_ts, include_all_metadata=True, limit=200
                )
            else:
                response = self.client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=100
                )
        except SlackApiError as error:
            status = getattr(error.response, "status_code", 200)
            if status == 429 or status >= 500 or error_code(error) == "ratelimited":
                raise  # cannot tell yet: try again later rather than post a second copy
            return None
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            if (meta.get("event_payload") or {}).get("key") == job.key:
                return str(message["ts"])
        return None
