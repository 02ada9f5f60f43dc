"""What a process holds: settings, the engine, the session factory and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.db.engine import make_engine, make_session_factory


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def create(
        cls, settings: Settings, clock: Callable[[], datetime] = utcnow, **engine_kwargs: object
    ) -> Runtime:
        engine = make_engine(settings.database_url, **engine_kwargs)
        # The clock rides along in Session.info, for services that are handed only a session.
        sessions = make_session_factory(engine, info={"clock": clock})
        return cls(settings=settings, engine=engine, sessions=sessions, clock=clock)

    def now(self) -> datetime:
        return self.clock()

    def close(self) -> None:
        self.engine.dispose()
