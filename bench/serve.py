"""Run a bench app (the plain baseline route, the naive path) under uvicorn.

    python -m bench.serve MODULE:FACTORY --port N [--no-access-log]

Plain uvicorn, as anyone would run a Starlette app: its default loop and HTTP parser (uvloop
and httptools when installed, as they are here), `log_level="info"` with uvicorn's own access
log line per request, or none with `--no-access-log` (the baseline the page is held to).
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

# One worker, info logging, proxy headers off (as `flare web`), graceful shutdown.
SERVER_SETTINGS = {
    "factory": True,
    "workers": 1,
    "log_level": "info",
    "proxy_headers": False,
    "timeout_graceful_shutdown": 5,
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        args.app,
        host="127.0.0.1",
        port=args.port,
        access_log=not args.no_access_log,
        **SERVER_SETTINGS,  # type: ignore[arg-type]
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
