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
from bot.config import log_stamp as stamp

NAME = "flare.access"
INTERVAL = 0.1  # seconds between writes: lines appear at most this late


def forwarded_client(scope: dict[str, Any], trusted: Any) -> Any:
    """The client ProxyHeadersMiddleware would have put in `scope["client"]`: the
    X-Forwarded-For client when the peer is a trusted proxy, else the peer."""
    client = scope.get("client")
    if trusted is None or not client or client[0] not in trusted:
        return client
    return _forwarded(scope, trusted, client)


def _forwarded(scope: dict[str, Any], trusted: Any, client: Any) -> Any:
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
        self._targets: dict[tuple[Any, ...], str] = {}
        self._hosts: dict[str, bool] = {}
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
        batch = []
        while pending:
            batch.append(pending.popleft())
        if not batch:
            return 0
        lines = self._text(batch) if self.fmt == "text" else self._json(batch)
        self._write("\n".join(lines) + "\n")
        return len(lines)

    def _json(self, batch: list[tuple[float, dict[str, Any], int, bool]]) -> list[str]:
        lines = []
        for created, scope, status, raw in batch:
            message, fields = describe(scope, status, self.trusted if raw else None)
            lines.append(log_line("json", created, "INFO", NAME, message, **fields))
        return lines

    def _is_trusted(self, host: str) -> bool:
        """`host in self.trusted`, remembered (the check parses addresses)."""
        known = self._hosts.get(host)
        if known is None:
            if len(self._hosts) > 4096:
                self._hosts.clear()
            known = self._hosts[host] = self.trusted is not None and host in self.trusted
        return known

    def _text(self, batch: list[tuple[float, dict[str, Any], int, bool]]) -> list[str]:
        """The same lines as `log_line("text", …)`, with the request part of each line
        cached (a busy page asks for the same few targets over and over)."""
        targets = self._targets
        if len(targets) > 4096:
            targets.clear()
        trusted = self.trusted
        lines = []
        for created, scope, status, raw in batch:
            key = (
                scope["method"],
                scope.get("raw_path"),
                scope.get("query_string"),
                scope.get("http_version"),
            )
            request = targets.get(key)
            if request is None:
                request = describe(scope, status)[0].split(" - ", 1)[1].rsplit(" ", 1)[0]
                targets[key] = request
            client = scope.get("client")
            if raw and client and self._is_trusted(client[0]):
                client = _forwarded(scope, trusted, client)
            where = f"{client[0]}:{client[1]}" if client else "-"
            lines.append(f"{stamp(created)} INFO {NAME}: {where} - {request} {status}")
        return lines

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
