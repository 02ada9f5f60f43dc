"""`/hooks/*`: what monitoring and CI tell Flare (alerts, deploys), behind one bearer token.

Every hook answers in the same order (README "Monitoring"): missing or wrong credentials →
401; a body over 1 MiB → 413, before it is read; a malformed one, or data the database
refuses, → 400 (Alertmanager does not retry a 4xx); the database unavailable → 503
(retried); otherwise 200 at once, with no outside call before answering. With
`FLARE_HOOK_TOKEN` unset the hooks do not exist (404).
Each hook module gives a path, a parser (bytes → payload, raising `BadPayload`) and an
`apply` that runs in the thread pool with the runtime and returns the JSON answer.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.runtime import Runtime
from web.http import read_body

log = logging.getLogger("flare.web.hooks")
BODY_LIMIT = 1024 * 1024


class BadPayload(ValueError):
    """The body is not what this hook takes; the message says what is wrong (answered 400)."""


@dataclass(frozen=True)
class Hook:
    path: str
    parse: Callable[[bytes], Any]
    apply: Callable[[Runtime, Any], dict[str, Any]]


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or BadPayload."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise BadPayload(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise BadPayload("the body must be a JSON object")
    return data


def authorized(request: Request, token: str) -> bool:
    """`Authorization: Bearer <token>`, or basic auth with the token as the password."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return hmac.compare_digest(value.encode(), token.encode())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        _, _, password = decoded.partition(":")
        return hmac.compare_digest(password.encode(), token.encode())
    return False


def _endpoint(runtime: Runtime, hook: Hook) -> Callable[[Request], Any]:
    token = runtime.settings.hook_token or ""

    async def handle(request: Request) -> Response:
        if not authorized(request, token):
            return JSONResponse(
                {"error": "missing or wrong credentials"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="flare"'},
            )
        try:
            body = await read_body(request, BODY_LIMIT)
        except HTTPException as error:
            return JSONResponse({"error": "body over 1 MiB"}, status_code=error.status_code)
        try:
            payload = hook.parse(body)
        except BadPayload as error:
            return JSONResponse({"error": str(error)[:500]}, status_code=400)
        try:
            answer = await run_in_threadpool(hook.apply, runtime, payload)
        except BadPayload as error:  # found when applied (a time in the future, …)
            return JSONResponse({"error": str(error)[:500]}, status_code=400)
        except OperationalError as error:
            log.warning("%s: database unavailable, answered 503: %s", hook.path, error.orig)
            return JSONResponse({"error": "database unavailable; retry"}, status_code=503)
        except (DataError, IntegrityError) as error:
            # Data the database refuses (a value the parser let through): the same body
            # would fail again, so 400 (not retried) rather than a 500 retried for ever.
            log.warning(
                "%s: the database refused the data, answered 400: %s", hook.path, error.orig
            )
            return JSONResponse({"error": "the database refused this data"}, status_code=400)
        return JSONResponse(answer)

    return handle


def routes(runtime: Runtime, hooks: list[Hook]) -> list[BaseRoute]:
    """The hooks' routes, or none at all while FLARE_HOOK_TOKEN is unset (404)."""
    if not runtime.settings.hooks_enabled:
        return []
    return [Route(hook.path, _endpoint(runtime, hook), methods=["POST"]) for hook in hooks]
