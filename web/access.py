"""The access log: every request, one line each, at no cost on the request's path.

The request path only appends a few fields (time, method, target, version, client, the
`X-Forwarded-For` value when a trusted proxy sent it, status) to a deque: no formatting, no
lock, no I/O, and no reference to the request's scope. A writer thread wakes every
`interval`, formats what accumulated with the shared log format (bot/config/logs.py: text or
JSON lines) and writes it in one `write` under the log handler's lock, so access lines never
interleave with other log lines. `stop()` writes what is left: no request goes unlogged on a
clean shutdown.

Bounded and never silent: the queue holds at most MAX_PENDING lines (a writer that cannot
keep up, or a stalled stream, drops new lines and counts them); a write that fails is reported
through logging's `handleError` and the thread goes on; the count of lines lost either way is
logged as a warning with the next lines written. A request target is kept to MAX_TARGET bytes
(the rest is shown as a count), and only targets up to CACHE_TARGET bytes have their
formatted request part cached.

Lines cannot be forged or leak secrets: the request part is built from the request's own
fields (never parsed back out of a formatted line), the client and the target are escaped in
text lines (quotes, backslashes, control and non-ASCII bytes as `\\xNN`; a client that is not a
plain address is quoted), and the tokens of subscription links (`/subscriptions/confirm/…`,
`/subscriptions/unsubscribe/…`) and query values named `token` or `secret` are logged as
`[redacted]`.

The client is the one uvicorn's own access log named: the `X-Forwarded-For` client when the
peer is a trusted proxy (FORWARDED_ALLOW_IPS), else the peer. ProxyHeadersMiddleware has set
it for requests that went through the app; for the fast path's the writer applies the same
rule (`forwarded_client`).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections import deque
from typing import Any, TextIO

from bot.config import log_handler, log_line
from bot.config import log_stamp as stamp

NAME = "flare.access"
INTERVAL = 0.1  # seconds between writes: lines appear at most this late
MAX_PENDING = 50_000  # lines waiting for the writer; past it new lines are counted, dropped
MAX_TARGET = 1024  # bytes of a request target kept for its line
CACHE_TARGET = 256  # targets up to this long have their request part cached
MAX_FORWARDED = 1024  # bytes of X-Forwarded-For kept (its right end: the hops we trust)
REDACTED = "[redacted]"
_SECRET_PATH = re.compile(r"^(/subscriptions/(?:confirm|unsubscribe)/)[^/?]+")
_SECRET_QUERY = re.compile(r"(^|&)((?:token|secret)=)[^&]*", re.IGNORECASE)
_UNSAFE = re.compile(r"[^\x21\x23-\x5b\x5d-\x7e]")  # all but printable ASCII less " and \\
_PLAIN_HOST = re.compile(r"^[0-9A-Za-z.:%_\[\]-]*$")

# (time, method, path, query, size of the target, version, client, forwarded, status, raw)
Entry = tuple[float, str, bytes, bytes, int, str, Any, bytes | None, int, bool]


def forwarded_client(scope: dict[str, Any], trusted: Any) -> Any:
    """The client ProxyHeadersMiddleware would have put in `scope["client"]`: the
    X-Forwarded-For client when the peer is a trusted proxy, else the peer."""
    client = scope.get("client")
    if trusted is None or not client or client[0] not in trusted:
        return client
    return _forwarded(forwarded_header(scope["headers"]), trusted, client)


def forwarded_header(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """X-Forwarded-For, repeats joined, bounded to its right end (the nearest hops)."""
    values = [value for name, value in headers if name == b"x-forwarded-for"]
    if not values:
        return None
    value = values[0] if len(values) == 1 else b", ".join(values)
    if len(value) > MAX_FORWARDED:
        value = value[-MAX_FORWARDED:].partition(b",")[2]
    return value


def _forwarded(value: bytes | None, trusted: Any, client: Any) -> Any:
    if not value:
        return client
    host, port = trusted.get_trusted_client_address(value.decode("latin-1"))
    return (host, port) if host else client


def _escape(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def client_text(client: Any) -> str:
    """`host:port` for a line; a host that is not a plain address is quoted and escaped."""
    if not client:
        return "-"
    host, port = str(client[0]), client[1]
    if _PLAIN_HOST.match(host):
        return f"{host}:{port}"
    return f'"{_escape(host)}":{port}'


def target_text(path: bytes, query: bytes, size: int) -> str:
    """The request target for a line: tokens redacted, cut at MAX_TARGET (rest counted)."""
    text = _SECRET_PATH.sub(lambda m: m.group(1) + REDACTED, path.decode("latin-1"))
    if query:
        text += "?" + _SECRET_QUERY.sub(
            lambda m: m.group(1) + m.group(2) + REDACTED, query.decode("latin-1")
        )
    shown = len(path) + (len(query) + 1 if query else 0)
    return text if size <= shown else f"{text}...[+{size - shown}B]"


class AccessLog:
    """`record()` from the event loop; the lines are written by a background thread."""

    def __init__(
        self,
        fmt: str = "text",
        *,
        stream: TextIO | None = None,
        interval: float = INTERVAL,
        limit: int = MAX_PENDING,
    ) -> None:
        self.fmt = fmt
        self.stream = stream
        self.interval = interval
        self.limit = limit
        self._pending: deque[Entry] = deque()
        self.trusted: Any = None  # the proxies whose X-Forwarded-For names the client
        self._requests: dict[tuple[str, bytes, bytes, str], str] = {}
        self._hosts: dict[str, bool] = {}
        self.dropped = 0  # lines not queued (queue full); counted on the event loop
        self.failed = 0  # lines whose write failed; counted by the writer
        self._reported = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, scope: dict[str, Any], status: int, raw: bool = False) -> None:
        """`raw`: the scope did not go through ProxyHeadersMiddleware (the fast path)."""
        if len(self._pending) >= self.limit:
            self.dropped += 1
            return
        path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string") or b""
        size = len(path) + (len(query) + 1 if query else 0)
        if size > MAX_TARGET:
            path, query = path[:MAX_TARGET], query[: max(0, MAX_TARGET - len(path) - 1)]
        client = scope.get("client")
        forwarded = None
        if raw and client and self._is_trusted(client[0]):
            forwarded = forwarded_header(scope["headers"])
        version = scope.get("http_version", "1.1")
        entry = (time.time(), scope["method"], path, query, size, version, client, forwarded)
        self._pending.append((*entry, status, raw))

    def _is_trusted(self, host: str) -> bool:
        """`host in self.trusted`, remembered (the check parses addresses)."""
        known = self._hosts.get(host)
        if known is None:
            if len(self._hosts) > 4096:
                self._hosts.clear()
            known = self._hosts[host] = self.trusted is not None and host in self.trusted
        return known

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
        self._flush_safely()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._flush_safely()

    def _flush_safely(self) -> None:
        """A write that fails (a closed pipe, a full disk) is reported the way logging
        reports a handler's failure, and the writer carries on with the next lines."""
        try:
            self.flush()
        except Exception:
            record = logging.LogRecord(
                NAME, logging.ERROR, __file__, 0, "access log not written", None, sys.exc_info()
            )
            handler = log_handler() or logging.lastResort
            if handler is not None:
                handler.handleError(record)

    def flush(self) -> int:
        """Write every pending line now; returns how many."""
        pending = self._pending
        batch = []
        while pending:
            batch.append(pending.popleft())
        lost = self.dropped + self.failed - self._reported
        if not batch and not lost:
            return 0
        lines = [self._line(entry) for entry in batch]
        if lost:
            message = f"{lost} access log lines lost (queue full or write failed)"
            lines.insert(0, log_line(self.fmt, time.time(), "WARNING", NAME, message))
        try:
            self._write("\n".join(lines) + "\n")
        except Exception:
            self.failed += len(batch)
            raise
        self._reported += lost
        return len(batch)

    def _line(self, entry: Entry) -> str:
        created, method, path, query, size, version, client, forwarded, status, raw = entry
        if raw and forwarded is not None:
            client = _forwarded(forwarded, self.trusted, client)
        where = client_text(client)
        request = self._request(method, path, query, size, version)
        if self.fmt == "text":
            return f"{stamp(created)} INFO {NAME}: {where} - {request} {status}"
        target = target_text(path, query, size)
        fields = {"client": where, "method": method, "path": target, "status": status}
        return log_line("json", created, "INFO", NAME, f"{where} - {request} {status}", **fields)

    def _request(self, method: str, path: bytes, query: bytes, size: int, version: str) -> str:
        """`"GET /x?a=1 HTTP/1.1"`, escaped; cached for short targets (a busy page asks for
        the same few over and over; long ones would only fill the cache)."""
        cacheable = size <= CACHE_TARGET
        key = (method, path, query, version)
        if cacheable:
            known = self._requests.get(key)
            if known is not None:
                return known
        target = target_text(path, query, size)
        request = f'"{_escape(method)} {_escape(target)} HTTP/{_escape(version)}"'
        if cacheable:
            if len(self._requests) >= 4096:
                self._requests.clear()
            self._requests[key] = request
        return request

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
