"""A provider page on 127.0.0.1 that answers whatever a test sets (status, body, headers,
ETag): the hostile or broken upstream the poller must survive. Records each request's
If-None-Match."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OPERATIONAL = b'{"status": {"indicator": "none"}}'


class RawPage:
    def __init__(self) -> None:
        self.status = 200
        self.body = OPERATIONAL
        self.headers: dict[str, str] = {}
        self.etag: str | None = None
        self.honour_etag = True
        self.requests: list[dict[str, str | None]] = []
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                asked = self.headers.get("If-None-Match")
                page.requests.append(
                    {
                        "if_none_match": asked,
                        "accept_encoding": self.headers.get("Accept-Encoding"),
                        "host": self.headers.get("Host"),
                    }
                )
                if page.honour_etag and page.etag and asked == page.etag:
                    self.send_response(304)
                    self.send_header("ETag", page.etag)
                    self.end_headers()
                    return
                self.send_response(page.status)
                for key, value in page.headers.items():
                    self.send_header(key, value)
                if page.etag:
                    self.send_header("ETag", page.etag)  # http.server sends it as latin-1
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RawPage:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
