"""The naive path, to show what the snapshot buys: every request opens a session, queries the
page data (`web.public.loading.load`) and renders the one representation asked for with the public
site's own template and JSON builder. No snapshot, no ETag, no gzip.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import load_settings
from bot.db.engine import read_only
from bot.runtime import Runtime
from bot.text.render import ENV
from web.public import api
from web.public import loading as views
from web.public.pagedata import PageData
from web.public.snapshot import HTML, JSON, Options, json_bytes


def create_app() -> Starlette:
    runtime = Runtime.create(load_settings())
    options = Options(mail_enabled=bool(runtime.settings.smtp_url))

    def load() -> PageData:
        with read_only(runtime.sessions) as session:
            return views.load(session, runtime.settings, runtime.now())

    def index(request: Request) -> Response:  # sync: Starlette runs it in the thread pool
        data = load()
        body = ENV.get_template("public/index.html").render(
            page=data,
            now=data.now,
            subscriptions_enabled=options.subscriptions_enabled,
            mail_enabled=options.mail_enabled,
        )
        return Response(body.encode(), media_type=HTML.decode())

    def summary(request: Request) -> Response:
        return Response(json_bytes(api.summary_doc(load())), media_type=JSON.decode())

    return Starlette(routes=[Route("/", index), Route("/api/v2/summary.json", summary)])
