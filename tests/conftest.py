"""Shared fixtures: every database test runs on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import ComponentConfig, Settings
from bot.db.engine import make_engine
from bot.db.migrate import upgrade
from bot.db.models import Base
from bot.incidents import sync_components
from bot.runtime import Runtime
from tests.support.db import scratch_database

PG_URL = os.environ.get("FLARE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
COMPONENTS = (
    ComponentConfig(key="api", name="API", group="Platform", description="Public REST API"),
    ComponentConfig(key="dashboard", name="Dashboard", group="Platform"),
    ComponentConfig(key="webhooks", name="Webhooks"),
)


class Clock:
    """An injected clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime = START) -> None:
        self._value = start
        self._elapsed = 0.0  # seconds moved forward: a step back moves the wall clock only

    @property
    def value(self) -> datetime:
        return self._value

    @value.setter
    def value(self, value: datetime) -> None:
        self._elapsed += max(0.0, (value - self._value).total_seconds())
        self._value = value

    def __call__(self) -> datetime:
        return self.value

    def monotonic(self) -> float:
        """The runtime's monotonic clock in tests (bot.runtime.Runtime.monotonic)."""
        return self._elapsed

    def advance(self, **kwargs: float) -> datetime:
        self.value += timedelta(**kwargs)
        return self.value


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A test that runs `flare …` in-process installs Flare's log handler on the stderr pytest
    captured for that test; put logging back, or later threads write to a closed stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database on the shared server for this run, built by `alembic upgrade head`."""
    with scratch_database(PG_URL, f"flare_test_{os.getpid()}") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "flare.db"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate_pg(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "flare.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_url")
    _truncate_pg(url)
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        components=COMPONENTS,
        public_url="https://status.acme.test",
        page_name="Acme",
    )


@pytest.fixture
def runtime(settings: Settings, clock: Clock) -> Iterator[Runtime]:
    rt = Runtime.create(settings, clock=clock)
    with rt.sessions.begin() as session:
        sync_components(session, settings, clock())
    yield rt
    rt.close()


def with_settings(runtime: Runtime, **changes: object) -> Runtime:
    """The same database with other settings (responders, cadence, …)."""
    return replace(runtime, settings=replace(runtime.settings, **changes))  # type: ignore[arg-type]
