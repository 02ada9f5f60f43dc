"""`flare backup PATH`: a consistent copy of the SQLite database while Flare keeps writing.

SQLite's online backup API (`sqlite3.Connection.backup`) copies every page in one step under
a read transaction, so the copy is the database as of one instant: every transaction
committed before it, none half-written. In WAL mode writers go on meanwhile. The copy is
written beside PATH, checked (`PRAGMA integrity_check`), then renamed into place, so PATH is
either a verified backup or absent. PostgreSQL has its own tool: the command `pg_dump` would
run is printed instead (without the password).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.errors import InvalidInput

BUSY_TIMEOUT_S = 30


@dataclass(frozen=True)
class BackupResult:
    path: Path
    pages: int
    size: int
    integrity: str


def sqlite_file(database_url: str) -> Path:
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        raise InvalidInput("Only a SQLite database in a file can be copied this way.")
    return Path(url.database)


def backup_sqlite(database_url: str, target: Path) -> BackupResult:
    source_path = sqlite_file(database_url)
    if not source_path.exists():
        raise InvalidInput(f"There is no database at {source_path}.")
    if target.exists():
        raise InvalidInput(f"{target} already exists; give a new path (nothing was written).")
    if not target.parent.is_dir():
        raise InvalidInput(f"The directory {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        integrity, pages = _copy(source_path, partial)
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise InvalidInput(f"The backup failed: {error}. Nothing was kept.") from error
    if integrity != "ok":
        partial.unlink(missing_ok=True)
        raise InvalidInput(f"The copy failed its integrity check ({integrity}); nothing kept.")
    os.replace(partial, target)
    return BackupResult(target, pages, target.stat().st_size, integrity)


def _copy(source_path: Path, partial: Path) -> tuple[str, int]:
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # pages=-1: all at once, one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            integrity = str(copy.execute("PRAGMA integrity_check").fetchone()[0])
            pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
        finally:
            copy.close()
    finally:
        source.close()
    return integrity, pages


def verify(path: Path) -> str:
    """Open a backup and run PRAGMA integrity_check: "ok" when sound."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def pg_dump_command(database_url: str, target: Path) -> str:
    """The pg_dump command for a PostgreSQL database (the password is left to PGPASSWORD
    or ~/.pgpass, never printed)."""
    url = make_url(database_url)
    host = url.host or "localhost"
    user = f"{url.username}@" if url.username else ""
    port = f":{url.port}" if url.port else ""
    dsn = f"postgresql://{user}{host}{port}/{url.database or ''}"
    return f"pg_dump --format=custom --file={target} '{dsn}'"
