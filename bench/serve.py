"""Run a bench app under uvicorn with exactly the settings `flare web` uses (bot/cli/serve.py
`cmd_serve`), so a comparison differs only in the application.

    python -m bench.serve MODULE:FACTORY --port N
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

# Keep in step with bot/cli/serve.py cmd_serve: one worker, info logging (access log on),
# proxy headers off (the app trusts FORWARDED_ALLOW_IPS itself), graceful shutdown.
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
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(args.app, host="127.0.0.1", port=args.port, **SERVER_SETTINGS)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
