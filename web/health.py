"""/healthz (liveness, with what an operator wants to see) and /readyz (database answers)."""

from __future__ import annotations

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot import monitoring, outbox
from bot.db.engine import read_only
from bot.db.state import last_sweep
from bot.runtime import Runtime


def _ready(runtime: Runtime) -> str:
    try:
        with read_only(runtime.sessions) as session:
            session.execute(text("SELECT 1"))
    except Exception as error:  # any database failure is reported, not raised
        return f"unavailable: {error.__class__.__name__}"
    return "ok"


def _database_report(runtime: Runtime) -> dict[str, object]:
    try:
        with read_only(runtime.sessions) as session:
            session.execute(text("SELECT 1"))
            last = last_sweep(session)
            backlog = outbox.backlog(session)
            stale = monitoring.stale_checks(session, runtime.settings, runtime.now())
    except Exception as error:  # any database failure is reported, not raised
        return {"database": f"unavailable: {error.__class__.__name__}"}
    tick = runtime.settings.tick
    lag = (runtime.now() - last).total_seconds() if last else None
    stalled = lag is None or lag > 3 * tick.total_seconds()
    return {
        "database": "ok",
        "scheduler_lag_seconds": None if lag is None else round(lag, 1),
        "scheduler": "stalled: no sweep for three ticks" if stalled else "ok",
        "outbox_backlog": backlog,
        # [[checks]] with no result for 3 intervals: the worker or the check is stuck. Only
        # how many: /healthz is public and check names are internal (the board, `flare
        # checks` and `/incident signals` name them).
        "checks": f"stale: {len(stale)}" if stale else "ok",
    }


def routes(runtime: Runtime) -> list[Route]:
    async def healthz(request: Request) -> JSONResponse:
        # Liveness: 200 while this process serves; the body tells what is wrong elsewhere.
        return JSONResponse(await run_in_threadpool(_database_report, runtime))

    async def readyz(request: Request) -> JSONResponse:
        database = await run_in_threadpool(_ready, runtime)
        return JSONResponse({"database": database}, status_code=200 if database == "ok" else 503)

    return [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
    ]
