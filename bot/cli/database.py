"""The database as every `flare` command finds it: on SQLite the schema is built on first
use (a fresh checkout just works), and the configured components are upserted by key.

Only the processes (`run`, `web`, `worker`) apply `flare.toml` to a database that already has
components: a `flare incident` run from a shell whose directory holds another (or no)
`flare.toml` must never hide the live page's components."""

from __future__ import annotations

from bot.config import Settings
from bot.runtime import Runtime


def prepare_runtime(runtime: Runtime, *, first_run_only: bool = False) -> None:
    """Migrate SQLite to the latest schema, then upsert the configured components (with
    `first_run_only`, only into a database that has none yet)."""
    from bot.incidents import components_by_key, sync_components

    settings = runtime.settings
    if settings.is_sqlite:
        from bot.db.migrate import upgrade

        upgrade(settings.database_url)
    with runtime.sessions.begin() as session:
        if first_run_only and components_by_key(session):
            return
        sync_components(session, settings, runtime.now())


def component_keys(runtime: Runtime) -> set[str]:
    """The keys of the components the page shows now (what commands may name)."""
    from bot.db.engine import read_only
    from bot.incidents import components_by_key

    with read_only(runtime.sessions) as session:
        return set(components_by_key(session))


def prepare(settings: Settings) -> None:
    """`prepare_runtime` for a process that is about to build its own runtime (servers)."""
    runtime = Runtime.create(settings)
    try:
        prepare_runtime(runtime)
    finally:
        runtime.close()
