"""A provider's Statuspage-compatible page on 127.0.0.1 for the poller's tests: serves
`/api/v2/summary.json` in the state a test sets, with an ETag, and counts requests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StatusPage:
    def __init__(self) -> None:
        self.mode = "operational"  # operational, major, unreadable, error
        self.incident = "Elevated API errors"
        self.requests: list[dict[str, str | None]] = []
        self.lock = threading.Lock()
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                with page.lock:
                    page.requests.append(
                        {"path": self.path, "if_none_match": self.headers.get("If-None-Match")}
                    )
                    mode = page.mode
                    body = page.body()
                if self.path != "/api/v2/summary.json":
                    self.send_response(404)
                    self.end_headers()
                    return
                if mode == "trickle":  # headers at once, then a byte every 0.2 s
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    for _ in range(50):
                        try:
                            self.wfile.write(b" ")
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.2)
                    return
                if mode == "error":
                    self.send_response(503)
                    self.end_headers()
                    return
                etag = f'"{mode}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def body(self) -> bytes:
        if self.mode == "unreadable":
            return b"<html>Service Unavailable</html>"
        incidents = []
        indicator = "none"
        if self.mode == "major":
            indicator = "major"
            incidents = [
                {
                    "name": self.incident,
                    "status": "investigating",
                    "shortlink": "https://stspg.io/abc123",
                }
            ]
        return json.dumps(
            {
                "page": {"id": "x", "name": "Stripe", "url": self.url},
                "status": {"indicator": indicator, "description": "…"},
                "components": [],
                "incidents": incidents,
                "scheduled_maintenances": [],
            }
        ).encode()

    def set(self, mode: str) -> None:
        with self.lock:
            self.mode = mode

    def __enter__(self) -> StatusPage:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
