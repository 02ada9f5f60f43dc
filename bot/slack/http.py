"""Slack's HTTP requests (commands, interactivity, events) handed to Bolt, and Socket Mode.

`SlackEndpoint.handle` takes the raw request and answers (status, headers, body) without
raising: Bolt checks the signature and timestamp (forged or stale requests get 401 and
change nothing), and input Bolt itself cannot parse gets 401 if unsigned, else 400, never
a 500. The web layer only moves bytes; nothing else outside bot/slack touches Bolt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.runtime import Runtime
from bot.slack.app import build_app

log = logging.getLogger("flare.slack.http")


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    headers: list[tuple[str, str]] = field(default_factory=lambda: [("content-type", PLAIN)])


PLAIN = "text/plain; charset=utf-8"


class SlackEndpoint:
    def __init__(self, runtime: Runtime) -> None:
        secret = runtime.settings.slack_signing_secret or ""
        self.app = build_app(runtime)
        self.verifier = SignatureVerifier(secret)

    def handle(self, raw: bytes, query: str, headers: Mapping[str, list[str]]) -> Answer:
        """One request, answered; runs in the thread pool (the listeners touch the database)."""
        first = {name: values[0] for name, values in headers.items() if values}
        stamp = first.get("x-slack-request-timestamp", "")
        if not (stamp.isascii() and stamp.isdigit()):  # Bolt raises on it: answer as forged
            return Answer(401, "Invalid request signature")
        body = raw.decode("utf-8", "replace")

        def reject() -> Answer:
            if not self.verifier.is_valid(body, stamp, first.get("x-slack-signature", "")):
                return Answer(401, "Invalid request signature")
            return Answer(400, "Malformed request")

        try:  # Bolt parses `payload=` (and reads fields of it) before checking the signature
            request = BoltRequest(body=body, query=query, headers=dict(headers))
        except Exception:  # noqa: BLE001 - JSON that is not an object, fields of odd types
            return reject()
        if not isinstance(request.body, dict):
            return reject()
        try:
            result = self.app.dispatch(request)
        except Exception:  # noqa: BLE001 - a malformed payload Bolt itself trips on
            log.exception("Slack request not handled")
            return reject()
        if result.status >= 500:  # Bolt's own error handler: the request did not make sense
            log.warning("Slack request not handled (Bolt answered %s)", result.status)
            return reject()
        out = [
            (name, value)
            for name, values in result.headers.items()
            for value in values
            if name.lower() != "content-length"
        ]
        return Answer(result.status, result.body, out)


def start_socket_mode(runtime: Runtime) -> Any | None:
    """With SLACK_APP_TOKEN, take events over a Socket Mode connection instead of HTTP."""
    settings = runtime.settings
    if not settings.slack_enabled or not settings.slack_app_token:
        return None
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(build_app(runtime), settings.slack_app_token)
    stop = threading.Event()

    def connect() -> None:
        # In the background: the web server starts even while Slack is unreachable.
        while not stop.is_set():
            try:
                handler.connect()  # the client reconnects by itself once connected
                log.info("Slack: Socket Mode connected")
                return
            except Exception as error:  # noqa: BLE001 - any failure: try again shortly
                log.warning("Slack: Socket Mode not connected yet (%s); retrying", error)
                stop.wait(10)

    threading.Thread(target=connect, name="slack-socket-mode", daemon=True).start()
    handler.flare_stop = stop  # type: ignore[attr-defined]
    return handler


def stop_socket_mode(handler: Any | None) -> None:
    if handler is None:
        return
    handler.flare_stop.set()
    try:
        handler.close()
    except Exception as error:  # noqa: BLE001 - closing a connection that never opened
        log.info("Slack: Socket Mode close: %s", error)
