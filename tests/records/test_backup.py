"""`flare backup`: a consistent, verified SQLite copy while updates keep being written; the
PostgreSQL answer; retention never touches incidents or their public record."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import incidents as svc
from bot import records, worker
from bot.config import Settings
from bot.db.migrate import upgrade
from bot.db.models import Promise, TimelineEvent
from bot.errors import InvalidInput
from bot.runtime import Runtime
from bot.text.status import EventKind
from tests.conftest import COMPONENTS, Clock
from tests.records.sample import postmortem, seed_incident
from tests.support.factories import responder

UPDATES = 50


@pytest.fixture
def sqlite_runtime(tmp_path: Path, clock: Clock):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    upgrade(url)
    runtime = Runtime.create(Settings(database_url=url, components=COMPONENTS), clock=clock)
    with runtime.sessions.begin() as session:
        svc.sync_components(session, runtime.settings, clock())
    yield runtime
    runtime.close()


def test_backup_while_updates_are_written(sqlite_runtime: Runtime, tmp_path: Path):
    runtime = sqlite_runtime
    with runtime.sessions.begin() as session:
        incident, _ = svc.declare(
            session, runtime.settings, title="Busy", actor=responder("U0A"), now=runtime.now()
        )
        number = incident.number
    committed: list[int] = []
    in_flight = threading.Event()  # the writer holds an uncommitted update
    backed_up = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for i in range(UPDATES):
                with runtime.sessions.begin() as session:
                    found = svc.get_incident(session, number, for_update=True)
                    svc.publish_update(
                        session,
                        runtime.settings,
                        found,
                        message=f"Update number {i}.",
                        actor=responder("U0A"),
                        now=runtime.now() + timedelta(seconds=i),
                        force=True,
                    )
                    if i == UPDATES // 3:  # the backup runs while this one is being written
                        session.flush()
                        in_flight.set()
                        backed_up.wait(60)
                committed.append(i)
        except BaseException as error:  # reported by the test below
            failures.append(error)
            in_flight.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert in_flight.wait(60)
    before = len(committed)  # every one of these was committed before the backup began
    target = tmp_path / "copy.db"
    try:
        result = records.backup_sqlite(runtime.settings.database_url, target)
    finally:
        backed_up.set()
    writer.join(60)
    assert not failures and len(committed) == UPDATES
    assert result.integrity == "ok" and records.verify(target) == "ok"
    copy = Runtime.create(Settings(database_url=f"sqlite:///{target}", components=COMPONENTS))
    try:
        with copy.sessions.begin() as session:
            bodies = session.scalars(
                select(TimelineEvent.body).where(TimelineEvent.kind == EventKind.PUBLIC_UPDATE)
            ).all()
    finally:
        copy.close()
    numbers = sorted(int(b.split()[-1].rstrip(".")) for b in bodies if b)
    # Exactly what was committed when it began: not the update still being written.
    assert before == UPDATES // 3
    assert numbers == list(range(before))


def test_backup_refuses_to_overwrite_and_postgres_gets_pg_dump(
    sqlite_runtime: Runtime, tmp_path: Path
):
    target = tmp_path / "exists.db"
    target.write_bytes(b"keep me")
    with pytest.raises(InvalidInput, match="already exists"):
        records.backup_sqlite(sqlite_runtime.settings.database_url, target)
    assert target.read_bytes() == b"keep me"
    with pytest.raises(InvalidInput, match="does not exist"):
        records.backup_sqlite(sqlite_runtime.settings.database_url, tmp_path / "no" / "x.db")
    command = records.pg_dump_command(
        "postgresql+psycopg://flare:s3cret@db.example:5432/flare", Path("/backups/flare.dump")
    )
    assert command == (
        "pg_dump --format=custom --file=/backups/flare.dump "
        "postgresql://flare@db.example:5432/flare"
    )
    assert "s3cret" not in command


def test_retention_keeps_incidents_and_their_public_record(runtime: Runtime, clock: Clock):
    number = seed_incident(runtime)
    before = postmortem(runtime, number)
    with runtime.sessions.begin() as session:
        counts = (
            session.scalar(select(func.count()).select_from(TimelineEvent)),
            session.scalar(select(func.count()).select_from(Promise)),
        )
    clock.advance(days=400)
    worker.prune(runtime)
    with runtime.sessions.begin() as session:
        assert counts == (
            session.scalar(select(func.count()).select_from(TimelineEvent)),
            session.scalar(select(func.count()).select_from(Promise)),
        )
    assert postmortem(runtime, number) == before


def test_backup_of_something_that_is_not_a_database_keeps_nothing(tmp_path: Path):
    fake = tmp_path / "not.db"
    fake.write_bytes(b"this is not a database" * 100)
    target = tmp_path / "copy.db"
    with pytest.raises(InvalidInput, match="backup failed"):
        records.backup_sqlite(f"sqlite:///{fake}", target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not.db"]
