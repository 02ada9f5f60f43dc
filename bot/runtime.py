"""What a process holds: settings, the engine, the session factory and the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.db.engine import make_engine, make_session_factory

# Session.info key: measure outbox leases by the database's clock (bot/outbox/queue.py).
DATABASE_LEASES = "database_leases"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = field(default=utcnow)
    # Seconds that only ever move forward, for intervals (a wall clock can step back). A
    # clock that carries its own `monotonic` (a test's) lends it, so tests stay in control.
    monotonic: Callable[[], float] = field(default=time.monotonic)

    @classmethod
    def create(
        cls,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        *,
        database_leases: bool | None = None,
        **engine_kwargs: object,
    ) -> Runtime:
        """`database_leases`: measure outbox leases by PostgreSQL's clock, not this process's
        (default: whenever the clock is the real one; a test that moves its own clock keeps
        leases on it)."""
        engine = make_engine(settings.database_url, **engine_kwargs)
        if database_leases is None:
            database_leases = clock is utcnow
        # The clock rides along in Session.info, for services that are handed only a session.
        info = {"clock": clock, DATABASE_LEASES: database_leases}
        sessions = make_session_factory(engine, info=info)
        monotonic = getattr(clock, "monotonic", time.monotonic)
        return cls(
            settings=settings, engine=engine, sessions=sessions, clock=clock, monotonic=monotonic
        )

    def now(self) -> datetime:
        return self.clock()

    def close(self) -> None:
        self.engine.dispose()
