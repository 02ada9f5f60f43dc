"""The baseline: a plain Starlette route returning the bytes `flare web` served, with the same
headers. Nothing is computed per request beyond picking which captured answer to send
(304 if `If-None-Match` is sent, brotli or gzip if named in `Accept-Encoding`, else identity).

The captured answers are read at start from the JSON file named by `FLARE_BENCH_CAPTURE`:
{path: {variant: {"status": int, "headers": [[name, value], …], "body": base64}}}.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SKIP = {"date", "server", "connection", "transfer-encoding"}


def _response(answer: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in answer["headers"] if k.lower() not in SKIP}
    return answer["status"], headers, base64.b64decode(answer["body"])


def create_app() -> Starlette:
    with open(os.environ["FLARE_BENCH_CAPTURE"], encoding="utf-8") as handle:
        captured: dict[str, dict[str, Any]] = json.load(handle)
    routes = []
    for path, variants in captured.items():
        answers = {name: _response(answer) for name, answer in variants.items()}

        def endpoint(answers: dict[str, tuple[int, dict[str, str], bytes]]) -> Any:
            async def plain(request: Request) -> Response:
                accept = request.headers.get("accept-encoding", "")
                if "if-none-match" in request.headers:
                    status, headers, body = answers["not_modified"]
                elif "br" in accept:
                    status, headers, body = answers["br"]
                elif "gzip" in accept:
                    status, headers, body = answers["gzip"]
                else:
                    status, headers, body = answers["identity"]
                return Response(body, status_code=status, headers=headers)

            return plain

        routes.append(Route(path, endpoint(answers)))
    return Starlette(routes=routes)
