"""Test and benchmark support shared by tests/, tests/faults/ and bench/."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import Engine

from bot.db.engine import make_session_factory
from bot.db.migrate import upgrade
from bot.db.models import Incident
from bot.text.status import Severity


def admin_dsn(url: str) -> str:
    """The `postgres` maintenance database on the server of `url`, as a libpq DSN."""
    base = url.replace("postgresql+psycopg://", "postgresql://")
    return base.rsplit("/", 1)[0] + "/postgres"


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A fresh database on the server of `server_url`, at the latest schema, dropped after."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_dsn(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin_dsn(server_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed_due_incidents(
    engine: Engine,
    owners: Sequence[str],
    *,
    reminder_due: datetime,
    commander: str,
    channel: str,
    first_number: int = 1,
) -> None:
    """Open incidents, one per owner, whose reminders all fall due together."""
    now = datetime.now(UTC)
    with make_session_factory(engine).begin() as session:
        for offset, owner in enumerate(owners):
            number = first_number + offset
            session.add(
                Incident(
                    number=number,
                    title=f"Incident {number}",
                    severity=Severity.SEV2,
                    declared_by=commander,
                    commander_id=commander,
                    owner_id=owner,
                    declared_at=now - timedelta(minutes=20),
                    impact_started_at=now - timedelta(minutes=20),
                    reminder_due=reminder_due,
                    slack_channel=channel,
                    updated_at=now,
                )
            )
