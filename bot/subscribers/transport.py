"""Outbound HTTP for webhooks with a total deadline per request, not only per socket call.

httpx's timeouts bound each connect, read and write; an endpoint that trickles a byte every
few seconds never trips them and holds a send (and the lease on its outbox row) for as long
as it likes. Here every socket operation is given at most the time left until the deadline
set with `deadline(seconds)` in the sending thread, so a request ends when its time is up,
whatever the other end does. Connections are never kept alive: each request connects to the
address it was checked against, with its own TLS server name.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

_local = threading.local()
_WRITE_PIECE = 65_536


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every request made by this thread inside the block ends within `seconds` in total."""
    previous = getattr(_local, "ends", None)
    _local.ends = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.ends = previous


def time_left() -> float | None:
    """Seconds left before this thread's deadline (None when no deadline is set)."""
    ends = getattr(_local, "ends", None)
    return None if ends is None else ends - time.monotonic()


def _clamp(timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
    left = time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the request's total deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), _WRITE_PIECE):
            piece = buffer[start : start + _WRITE_PIECE]
            self._stream.write(piece, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(
            ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout)
        )
        return _Stream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host,
            port,
            _clamp(timeout, httpcore.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _Stream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks are sent over TCP only")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport, on a connection pool whose sockets obey `deadline()`."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(verify=verify, trust_env=False, retries=0)
        context = (
            verify
            if isinstance(verify, ssl.SSLContext)
            else httpx.create_ssl_context(verify=verify, trust_env=False)
        )
        # httpx takes no network backend, so its pool is replaced by an identical one that
        # has ours (httpx keeps the pool in `_pool`; pinned in requirements.lock and covered
        # by the tests that trickle bytes at the sender).
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_keepalive_connections=0,
            network_backend=_Backend(),
        )
