"""Public page, API and feeds (being built: issue 5)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.runtime import Runtime


def routes(runtime: Runtime) -> list[BaseRoute]:
    return []


async def start(app: Starlette, runtime: Runtime) -> None:
    """Start the snapshot refresher."""


async def stop(app: Starlette) -> None:
    """Stop the snapshot refresher."""
