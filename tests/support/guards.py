"""A guard for the house rule "no outside call inside a write transaction".

While a thread holds a database transaction that is not read-only open (on SQLite that is
the write lock every other writer waits for), `socket.getaddrinfo` and
`socket.create_connection` — DNS, and every client Flare uses: httpx, smtplib, the Slack
SDK — fail in that thread and the call is recorded. Transactions are seen through
SQLAlchemy's engine events (from their first statement, when the database has begun them
and SQLite holds its write lock), so the guard covers every session and engine without
knowing them. Read-only sessions (`bot.db.engine.read_only`) are exempt.
"""

from __future__ import annotations

import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, event


class OutsideCallInTransaction(BaseException):
    """Not an Exception: the code under test catches those, and must not hide this."""


@dataclass
class Guard:
    violations: list[str] = field(default_factory=list)
    calls: int = 0  # outside calls made (allowed ones): the flow under test did call out


@pytest.fixture
def no_outside_calls_in_transactions(monkeypatch: pytest.MonkeyPatch) -> Iterator[Guard]:
    guard = Guard()
    local = threading.local()

    def open_transactions() -> set[int]:
        if not hasattr(local, "open"):
            local.open = set()
        return local.open  # type: ignore[no-any-return]

    def on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get("flare_readonly", False):
            open_transactions().add(id(conn))

    def on_end(conn: Any) -> None:
        open_transactions().discard(id(conn))

    def guarded(real: Callable[..., Any], name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if open_transactions():
                where = "".join(traceback.format_stack(limit=12)[:-1])
                guard.violations.append(f"{name}{args[:2]!r} in a write transaction\n{where}")
                raise OutsideCallInTransaction(f"{name} inside a write transaction")
            guard.calls += 1
            return real(*args, **kwargs)

        return call

    listeners = [("begin", on_begin), ("commit", on_end), ("rollback", on_end)]
    for name, listener in listeners:
        event.listen(Engine, name, listener)
    monkeypatch.setattr(socket, "getaddrinfo", guarded(socket.getaddrinfo, "getaddrinfo"))
    monkeypatch.setattr(
        socket, "create_connection", guarded(socket.create_connection, "create_connection")
    )
    try:
        yield guard
    finally:
        for name, listener in listeners:
            event.remove(Engine, name, listener)
    assert guard.violations == [], "\n\n".join(guard.violations)
