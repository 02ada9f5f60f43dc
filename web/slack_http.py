"""`POST /slack/events`: commands, interactivity and events, handed to Bolt off the loop.

The request goes to Bolt's `App.dispatch` in the thread pool as a `BoltRequest` (Bolt checks
the signature and timestamp: forged or stale requests get 401 and change nothing); the event
loop only moves bytes, so the public page never waits on a Slack listener.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.runtime import Runtime

log = logging.getLogger("flare.web.slack")
MAX_BODY = 1_000_000


def routes(runtime: Runtime) -> list[BaseRoute]:
    settings = runtime.settings
    if not settings.slack_enabled or not settings.slack_signing_secret:

        async def not_configured(request: Request) -> Response:
            return PlainTextResponse(
                "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.",
                status_code=503,
            )

        return [Route("/slack/events", not_configured, methods=["POST"])]

    from slack_bolt import BoltRequest
    from slack_sdk.signature import SignatureVerifier

    from bot.slack.app import build_app

    app = build_app(runtime)
    verifier = SignatureVerifier(settings.slack_signing_secret)

    async def events(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return PlainTextResponse("Request too large", status_code=413)
        stamp = request.headers.get("x-slack-request-timestamp", "")
        if not (stamp.isascii() and stamp.isdigit()):  # Bolt raises on it: answer as forged
            return PlainTextResponse("Invalid request signature", status_code=401)
        headers: dict[str, Any] = {}
        for name, value in request.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        body = raw.decode("utf-8", "replace")

        def reject() -> Response:
            """Malformed input Bolt cannot handle: 401 if unsigned, else 400; never a 500."""
            if not verifier.is_valid(body, stamp, request.headers.get("x-slack-signature", "")):
                return PlainTextResponse("Invalid request signature", status_code=401)
            return PlainTextResponse("Malformed request", status_code=400)

        try:  # Bolt parses `payload=` (and reads fields of it) before checking the signature
            bolt_request = BoltRequest(body=body, query=request.url.query, headers=headers)
        except Exception:  # noqa: BLE001 - JSON that is not an object, fields of odd types
            return reject()
        if not isinstance(bolt_request.body, dict):
            return reject()
        try:
            result = await run_in_threadpool(app.dispatch, bolt_request)
        except Exception:  # noqa: BLE001 - a malformed payload Bolt itself trips on
            log.exception("Slack request not handled")
            return reject()
        if result.status >= 500:  # Bolt's own error handler: the request did not make sense
            log.warning("Slack request not handled (Bolt answered %s)", result.status)
            return reject()
        response = Response(content=result.body, status_code=result.status)
        for name, values in result.headers.items():
            for value in values:
                if name.lower() != "content-length":
                    response.headers.append(name, value)
        return response

    return [Route("/slack/events", events, methods=["POST"])]


def start_socket_mode(runtime: Runtime) -> Any | None:
    """With SLACK_APP_TOKEN, take events over a Socket Mode connection instead of HTTP."""
    settings = runtime.settings
    if not settings.slack_enabled or not settings.slack_app_token:
        return None
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.slack.app import build_app

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
