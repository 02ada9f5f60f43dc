"""A local HTTP server whose answers the test scripts: it fails, then it recovers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Target:
    def __init__(self) -> None:
        self.status = 200
        self.body = b"all good"
        self.hits = 0
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with target.lock:
                    target.hits += 1
                self.send_response(target.status)
                self.send_header("Content-Length", str(len(target.body)))
                self.end_headers()
                self.wfile.write(target.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/healthz"


@pytest.fixture
def target() -> Iterator[Target]:
    server = Target()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
