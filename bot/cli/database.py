"""The database as every `flare` command finds it: on SQLite the schema is built on first
use (a fresh checkout just works), and the configured components are upserted by key."""

from __future__ import annotations

from bot.config import Settings
from bot.runtime import Runtime


def prepare_runtime(runtime: Runtime) -> None:
    """Migrate SQLite to the latest schema, then upsert the configured components."""
    from bot.incidents import sync_components

    settings = runtime.settings
    if settings.is_sqlite:
        from bot.db.migrate import upgrade

        upgrade(settings.database_url)
    with runtime.sessions.begin() as session:
        sync_components(session, settings, runtime.now())


def prepare(settings: Settings) -> None:
    """`prepare_runtime` for a process that is about to build its own runtime (servers)."""
    runtime = Runtime.create(settings)
    try:
        prepare_runtime(runtime)
    finally:
        runtime.close()
