"""`flare run`, `flare web` and `flare worker`: the processes of the Procfile."""

from __future__ import annotations

import logging
import os

from bot.cli.database import prepare
from bot.config import Settings

log = logging.getLogger("flare")


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
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
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
