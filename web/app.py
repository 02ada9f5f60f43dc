"""Starlette wiring: one app for the public site, the API, feeds and the Slack endpoint."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.config import load_settings
from bot.runtime import Runtime
from bot.slack import start_socket_mode, stop_socket_mode
from web import health, hooks, slack_http, subscriptions
from web.hooks import alertmanager
from web.public import site as public

log = logging.getLogger("flare.web")
# What monitoring and CI may POST to /hooks/* (web/hooks), one entry per hook module.
HOOKS: list[hooks.Hook] = [
    alertmanager.HOOK,
]


def create_app(runtime: Runtime | None = None, *, mode: str | None = None) -> Starlette:
    """`mode` "all" (flare run) also runs the scheduler and outbox in this process."""
    mode = mode or os.environ.get("FLARE_PROCESS_MODE", "web")
    owns_runtime = runtime is None
    runtime = runtime or Runtime.create(load_settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        scheduler = None
        await public.start(app, runtime)
        if mode == "all":
            from bot.worker import start_scheduler

            scheduler = start_scheduler(runtime)
        socket_mode = start_socket_mode(runtime)
        try:
            yield
        finally:
            stop_socket_mode(socket_mode)
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await public.stop(app)
            if owns_runtime:
                runtime.close()

    routes: list[BaseRoute] = [
        *health.routes(runtime),
        *hooks.routes(runtime, HOOKS),
        *slack_http.routes(runtime),
        *subscriptions.routes(runtime),
        *public.routes(runtime),  # last: it may hold catch-all page routes
    ]
    # X-Forwarded-For is believed only from the proxies in FORWARDED_ALLOW_IPS (uvicorn runs
    # with proxy_headers=False): any client can write that header, and the subscription rate
    # limit counts the address it names.
    trusted = list(runtime.settings.forwarded_allow_ips)
    proxies = Middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[proxies])
    app.state.runtime = runtime
    return app
