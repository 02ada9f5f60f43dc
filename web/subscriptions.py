"""Subscription routes: the form, double opt-in confirmation, and unsubscribing.

`POST /subscriptions` answers the same page whether or not the address is already
subscribed, so nobody can learn who is. `GET /subscriptions/unsubscribe/<token>` only shows a
button: mail scanners that follow links unsubscribe nobody; the `POST` (the button, and the
RFC 8058 one-click target of `List-Unsubscribe-Post`) does it. Database work runs in the
thread pool, never on the event loop.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from bot import subscribers
from bot.db.models import Component
from bot.errors import InvalidInput
from bot.runtime import Runtime
from bot.text.render import render
from web.http import read_body

BODY_LIMIT = 16_384
HEADERS = {
    "Cache-Control": "no-store",
    # Tokens are in the URL: never hand them to another site in a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _page(runtime: Runtime, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = render(
        f"subscriptions/{template}.html",
        {
            "page_name": runtime.settings.page_name,
            "page_url": runtime.settings.public_url,
            **context,
        },
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


async def _form_fields(request: Request) -> dict[str, list[str]]:
    """The urlencoded form (what a plain HTML form sends), parsed without extra packages;
    413 past BODY_LIMIT, before the rest is read."""
    body = await read_body(request, BODY_LIMIT)
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=False)


def routes(runtime: Runtime) -> list[BaseRoute]:
    settings = runtime.settings

    def component_choices() -> list[tuple[str, str]]:
        with runtime.sessions.begin() as session:
            rows = session.execute(
                select(Component.key, Component.name)
                .where(Component.hidden.is_(False))
                .order_by(Component.position, Component.key)
            ).all()
        return [(key, name) for key, name in rows]

    async def form(request: Request) -> Response:
        choices = await run_in_threadpool(component_choices)
        return _page(runtime, "form", components=choices, mail=bool(settings.smtp_url))

    async def subscribe(request: Request) -> Response:
        fields = await _form_fields(request)
        email = (fields.get("email") or [""])[0].strip() or None
        webhook_url = (fields.get("webhook_url") or [""])[0].strip() or None
        keys = [k for value in fields.get("components", []) for k in value.split(",")]
        ip = request.client.host if request.client else None

        def work() -> Response:
            now = runtime.now()
            with runtime.sessions.begin() as session:
                allowed = subscribers.allow_ip(session, ip, now)
            if not allowed:
                return _page(runtime, "error", 429, message="Too many requests. Try again later.")
            try:
                # DNS before the transaction: a slow resolver must not hold the write lock.
                checked = webhook_url
                if webhook_url and not email:
                    checked = subscribers.check_webhook(settings, webhook_url)
                with runtime.sessions.begin() as session:
                    subscribers.subscribe(
                        session,
                        settings,
                        now=now,
                        email=email,
                        webhook_url=checked,
                        components=keys,
                    )
            except InvalidInput as error:
                return _page(runtime, "error", 400, message=error.message)
            return _page(runtime, "sent", webhook=bool(webhook_url))

        return await run_in_threadpool(work)

    async def confirm(request: Request) -> Response:
        token = request.path_params["token"]

        def work() -> Response:
            try:
                with runtime.sessions.begin() as session:
                    subscriber = subscribers.confirm(session, settings, token, runtime.now())
                    scope = list(subscriber.component_keys)
            except subscribers.BadToken:
                return _page(
                    runtime,
                    "error",
                    400,
                    message="This confirmation link is invalid or has expired. "
                    "Subscribe again to get a new one.",
                )
            return _page(runtime, "confirmed", scope=scope)

        return await run_in_threadpool(work)

    async def unsubscribe_form(request: Request) -> Response:
        token = request.path_params["token"]

        def work() -> Response:
            try:
                with runtime.sessions.begin() as session:
                    subscribers.check_unsubscribe_token(session, settings, token, runtime.now())
            except subscribers.BadToken:
                return _page(runtime, "error", 400, message="This unsubscribe link is invalid.")
            return _page(runtime, "unsubscribe", action=request.url.path)

        return await run_in_threadpool(work)

    async def unsubscribe(request: Request) -> Response:
        token = request.path_params["token"]
        # "List-Unsubscribe=One-Click" or the button; either will do, but not a flood.
        await read_body(request, BODY_LIMIT)

        def work() -> Response:
            try:
                with runtime.sessions.begin() as session:
                    subscribers.unsubscribe(session, settings, token, runtime.now())
            except subscribers.BadToken:
                return _page(runtime, "error", 400, message="This unsubscribe link is invalid.")
            return _page(runtime, "unsubscribed")

        return await run_in_threadpool(work)

    return [
        Route("/subscriptions", form, methods=["GET"]),
        Route("/subscriptions", subscribe, methods=["POST"]),
        Route("/subscriptions/confirm/{token}", confirm, methods=["GET"]),
        Route("/subscriptions/unsubscribe/{token}", unsubscribe_form, methods=["GET"]),
        Route("/subscriptions/unsubscribe/{token}", unsubscribe, methods=["POST"]),
    ]
