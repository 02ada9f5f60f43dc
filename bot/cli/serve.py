"""`flare run`, `flare web`, `flare worker` and `flare migrate`: the processes of the
Procfile."""

from __future__ import annotations

import argparse
import logging
import os

from bot.cli.database import prepare
from bot.cli.parsing import PORT, Subparsers, whole
from bot.config import Settings

log = logging.getLogger("flare")
# uvloop and httptools by name (not "auto", which falls back silently); logging and the access
# log are Flare's (bot/config/logs.py, web/access.py), so uvicorn configures none.
SERVER_SETTINGS = {"loop": "uvloop", "http": "httptools", "log_config": None, "access_log": False}


def cmd_serve(settings: Settings, *, mode: str, host: str, port: int, workers: int = 1) -> int:
    import uvicorn

    prepare(settings)
    if not settings.slack_enabled:
        log.warning(
            "Slack is off: SLACK_BOT_TOKEN is not set. To connect Slack, create the app from "
            "slack-app-manifest.yml, then set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or "
            "SLACK_APP_TOKEN for Socket Mode) and FLARE_INCIDENTS_CHANNEL. The page and the "
            "CLI work meanwhile."
        )
    # The web app reads its role from here: `run` also sweeps and drains in-process.
    os.environ["FLARE_PROCESS_MODE"] = mode
    # Logging in Flare's format and Flare's own access log (web/access.py): every request,
    # written off the request's path. uvicorn's loggers propagate to the same handler.
    os.environ["FLARE_ACCESS_LOG"] = "1"
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        **SERVER_SETTINGS,  # type: ignore[arg-type]
        # X-Forwarded-For is handled in web.app.create_app, trusting FORWARDED_ALLOW_IPS only.
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
    return 0


def cmd_worker(settings: Settings) -> int:
    from bot.worker import run_worker

    prepare(settings)
    run_worker(settings)
    return 0


def register(sub: Subparsers) -> None:
    run = sub.add_parser("run", help="everything in one process (SQLite out of the box)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=PORT)
    run.set_defaults(run=lambda s, a: cmd_serve(s, mode="all", host=a.host, port=a.port or s.port))
    web = sub.add_parser("web", help="serve HTTP: public page, API, feeds, Slack endpoint")
    web.add_argument("--host", default="0.0.0.0")
    web.add_argument("--port", type=PORT)
    web.add_argument("--workers", type=whole(1, 512), default=1)
    web.set_defaults(
        run=lambda s, a: cmd_serve(
            s, mode="web", host=a.host, port=a.port or s.port, workers=a.workers
        )
    )
    worker = sub.add_parser("worker", help="run the scheduler and drain the outbox")
    worker.set_defaults(run=lambda s, a: cmd_worker(s))
    migrate = sub.add_parser("migrate", help="alembic upgrade head")
    migrate.set_defaults(run=cmd_migrate)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.db.migrate import upgrade

    upgrade(settings.database_url)
    print("Database is at the latest schema.")
    return 0
