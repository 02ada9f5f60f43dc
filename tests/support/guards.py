"""A guard for the house rule "no outside call inside a write transaction".

While a thread holds a database transaction that is not read-only open (on SQLite that is
the write lock every other writer waits for), `socket.getaddrinfo` and
`socket.create_connection` — DNS, and every client Flare uses: httpx, smtplib, the Slack
SDK — fail in that thread and the call is recorded. Transactions are seen through
SQLAlchemy's session events (from `sessions.begin()`, before any statement) and engine
events (Core connections), so the guard covers every session and engine without knowing
them. Read-only sessions (`bot.db.engine.read_only`) are exempt.
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
from sqlalchemy.orm import Session


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
        return local.open

    def holders() -> list[set[int]]:
        """This thread's open transactions, then those of the threads that started it."""
        started_by = getattr(threading.current_thread(), "_flare_open_chain", [])
        return [open_transactions(), *started_by]

    real_start = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        thread._flare_open_chain = holders()  # type: ignore[attr-defined]
        real_start(thread)

    def on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get("flare_readonly", False):
            open_transactions().add(id(conn))

    def on_end(conn: Any) -> None:
        open_transactions().discard(id(conn))

    def on_session_transaction(session: Session, transaction: Any) -> None:
        if transaction.parent is None:  # the session's own transaction, not a savepoint
            open_transactions().add(id(transaction))

    def on_session_begin(session: Session, transaction: Any, connection: Any) -> None:
        if connection.get_execution_options().get("flare_readonly", False):
            open_transactions().discard(id(transaction))  # read_only(): no write lock

    def on_session_end(session: Session, transaction: Any) -> None:
        open_transactions().discard(id(transaction))

    def guarded(real: Callable[..., Any], name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if any(holders()):
                where = "".join(traceback.format_stack(limit=12)[:-1])
                guard.violations.append(f"{name}{args[:2]!r} in a write transaction\n{where}")
                raise OutsideCallInTransaction(f"{name} inside a write transaction")
            guard.calls += 1
            return real(*args, **kwargs)

        return call

    listeners: list[tuple[type, str, Callable[..., None]]] = [
        (Engine, "begin", on_begin),
        (Engine, "commit", on_end),
        (Engine, "rollback", on_end),
        (Session, "after_transaction_create", on_session_transaction),
        (Session, "after_begin", on_session_begin),
        (Session, "after_transaction_end", on_session_end),
    ]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    monkeypatch.setattr(threading.Thread, "start", start)
    monkeypatch.setattr(socket, "getaddrinfo", guarded(socket.getaddrinfo, "getaddrinfo"))
    monkeypatch.setattr(
        socket, "create_connection", guarded(socket.create_connection, "create_connection")
    )
    try:
        yield guard
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
    assert guard.violations == [], "\n\n".join(guard.violations)
