"""The access log: every request, one line each, at no cost on the request's path.

The request path only appends `(time, scope, status)` to a deque (a few hundred nanoseconds,
no formatting, no lock, no I/O). A writer thread wakes every `interval`, formats what
accumulated with the shared log format (bot/config/logs.py: text or JSON lines) and writes
it in one `write` under the log handler's lock, so access lines never interleave with other
log lines. `stop()` writes what is left: no request goes unlogged on a clean shutdown.

The client is the one uvicorn's own access log named: the `X-Forwarded-For` client when the
peer is a trusted proxy (FORWARDED_ALLOW_IPS), else the peer. ProxyHeadersMiddleware has set
it for requests that went through the app; for the fast path's the writer applies the same
rule (`forwarded_client`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, TextIO

from bot.config import log_handler, log_line

NAME = "flare.access"
INTERVAL = 0.1  # seconds between writes: lines appear at most this late


def forwarded_client(scope: dict[str, Any], trusted: Any) -> Any:
    """The client ProxyHeadersMiddleware would have put in `scope["client"]`: the
    X-Forwarded-For client when the peer is a trusted proxy, else the peer."""
    client = scope.get("client")
    if trusted is None or not client or client[0] not in trusted:
        return client
    values = [value for name, value in scope["headers"] if name == b"x-forwarded-for"]
    if not values:
        return client
    host, port = trusted.get_trusted_client_address(b", ".join(values).decode("latin-1"))
    return (host, port) if host else client


def describe(scope: dict[str, Any], status: int, trusted: Any = None) -> tuple[str, dict[str, Any]]:
    """uvicorn's access line (`1.2.3.4:5678 - "GET /?a=1 HTTP/1.1" 200`) and its fields;
    `trusted` (the proxies) for a scope that did not go through ProxyHeadersMiddleware."""
    client = forwarded_client(scope, trusted)
    where = f"{client[0]}:{client[1]}" if client else "-"
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string")
    target = (path + b"?" + query if query else path).decode("latin-1")
    method = scope["method"]
    version = scope.get("http_version", "1.1")
    fields = {"client": where, "method": method, "path": target, "status": status}
    return f'{where} - "{method} {target} HTTP/{version}" {status}', fields


class AccessLog:
    """`record()` from the event loop; the lines are written by a background thread."""

    def __init__(
        self,
        fmt: str = "text",
        *,
        stream: TextIO | None = None,
        interval: float = INTERVAL,
    ) -> None:
        self.fmt = fmt
        self.stream = stream
        self.interval = interval
        self._pending: deque[tuple[float, dict[str, Any], int, bool]] = deque()
        self.trusted: Any = None  # the proxies whose X-Forwarded-For names the client
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, scope: dict[str, Any], status: int, raw: bool = False) -> None:
        """`raw`: the scope did not go through ProxyHeadersMiddleware (the fast path)."""
        self._pending.append((time.time(), scope, status, raw))

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="flare-access-log", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> int:
        """Write every pending line now; returns how many."""
        pending = self._pending
        lines = []
        while pending:
            created, scope, status, raw = pending.popleft()
            message, fields = describe(scope, status, self.trusted if raw else None)
            lines.append(log_line(self.fmt, created, "INFO", NAME, message, **fields))
        if lines:
            self._write("\n".join(lines) + "\n")
        return len(lines)

    def _write(self, text: str) -> None:
        if self.stream is not None:
            self.stream.write(text)
            self.stream.flush()
            return
        handler = log_handler()
        stream = getattr(handler, "stream", None)
        if handler is None or stream is None:  # no Flare handler: hand each line to logging
            for each in text.splitlines():
                logging.getLogger(NAME).info("%s", each)
            return
        handler.acquire()
        try:
            stream.write(text)
            stream.flush()
        finally:
            handler.release()
