"""(being built)"""

from __future__ import annotations

from starlette.routing import BaseRoute

from bot.runtime import Runtime


def routes(runtime: Runtime) -> list[BaseRoute]:
    return []
