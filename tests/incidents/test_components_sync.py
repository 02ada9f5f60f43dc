"""Processes that start at once on the same database each sync the configured components."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from sqlalchemy import select

from bot.config import ComponentConfig
from bot.db.models import Component
from bot.incidents import sync_components
from bot.runtime import Runtime
from tests.conftest import Clock


def test_components_two_syncs_at_once_both_succeed(runtime: Runtime, clock: Clock):
    # A component new to the database, synced by two processes at the same time: the second
    # must wait for the first and update its row, not insert the same key and die.
    settings = replace(
        runtime.settings,
        components=(*runtime.settings.components, ComponentConfig("search", "Search")),
    )
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with runtime.sessions.begin() as session:
                sync_components(session, settings, clock())
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    with runtime.sessions.begin() as session:
        sync_components(session, settings, clock())  # inserted, not yet committed
        other = threading.Thread(target=second)
        other.start()
        time.sleep(0.5)  # the second sync is now waiting on the first (lock or row)
    other.join(timeout=30)
    assert not other.is_alive()
    assert errors == []
    with runtime.sessions.begin() as session:
        keys = session.scalars(select(Component.key).where(Component.key == "search")).all()
    assert keys == ["search"]
