"""Starlette wiring: one app for the public site, the API, feeds and the Slack endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.config import configure_logging, load_settings
from bot.runtime import Runtime
from bot.slack import start_socket_mode, stop_socket_mode
from web import health, hooks, slack_http, subscriptions
from web.access import AccessLog
from web.front import Front
from web.hooks import alertmanager, deploy
from web.public import site as public
from web.slashes import relative_slash_redirect

log = logging.getLogger("flare.web")
# What monitoring and CI may POST to /hooks/* (web/hooks), one entry per hook module.
HOOKS: list[hooks.Hook] = [alertmanager.HOOK, deploy.HOOK]


class FlareApp(Starlette):
    """Starlette with the pure-ASGI front outermost (web/front.py): the snapshot routes and
    the access log, then the X-Forwarded-For rule and Starlette's own stack."""

    trusted: list[str] = ["127.0.0.1"]
    access: AccessLog | None = None
    public_url: str = "http://localhost"  # https: every response carries HSTS (web/headers.py)

    def build_middleware_stack(self) -> Any:
        inner = super().build_middleware_stack()
        proxied = ProxyHeadersMiddleware(inner, trusted_hosts=self.trusted)  # type: ignore[arg-type]
        if self.access is not None:  # the fast path's lines name the client by the same rule
            self.access.trusted = proxied.trusted_hosts
        return Front(proxied, public.site_of(self), self.access, self.public_url)


def create_app(
    runtime: Runtime | None = None,
    *,
    mode: str | None = None,
    access_log: AccessLog | None = None,
) -> Starlette:
    """`mode` "all" (flare run) also runs the scheduler and outbox in this process.

    Under `flare web`/`flare run` (FLARE_ACCESS_LOG=1, set by bot/cli/serve.py) logging is
    set up in Flare's format and every request goes to the access log (web/access.py)."""
    mode = mode or os.environ.get("FLARE_PROCESS_MODE", "web")
    owns_runtime = runtime is None
    runtime = runtime or Runtime.create(load_settings())
    if access_log is None and os.environ.get("FLARE_ACCESS_LOG") == "1":
        configure_logging(runtime.settings.log_format)
        access_log = AccessLog(runtime.settings.log_format)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        scheduler = None
        if access_log is not None:
            access_log.start()
            loop = type(asyncio.get_running_loop())
            log.info("serving on the %s event loop", f"{loop.__module__}.{loop.__qualname__}")
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
            if access_log is not None:
                access_log.stop()
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
    app = FlareApp(routes=routes, lifespan=lifespan)
    # A trailing-slash redirect names no host: Starlette's would echo the request's Host.
    app.router.redirect_slashes = False
    app.router.default = relative_slash_redirect(app.router)
    app.public_url = runtime.settings.public_url
    app.trusted = list(runtime.settings.forwarded_allow_ips)
    app.access = access_log
    app.state.runtime = runtime
    return app
