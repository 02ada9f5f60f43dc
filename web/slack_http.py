"""`POST /slack/events`: commands, interactivity and events, handed to bot.slack off the loop.

The request goes to `SlackEndpoint.handle` in the thread pool; the event loop only moves
bytes, so the public page never waits on a Slack listener.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.runtime import Runtime
from web.http import read_body

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

    from bot.slack import SlackEndpoint

    endpoint = SlackEndpoint(runtime)

    async def events(request: Request) -> Response:
        raw = await read_body(request, MAX_BODY)  # 413 past 1 MB, before reading it all
        headers: dict[str, Any] = {}
        for name, value in request.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        answer = await run_in_threadpool(endpoint.handle, raw, request.url.query, headers)
        response = Response(content=answer.body, status_code=answer.status)
        for name, value in answer.headers:
            response.headers.append(name, value)
        return response

    return [Route("/slack/events", events, methods=["POST"])]
