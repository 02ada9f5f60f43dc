"""`flare backup PATH`: a consistent copy of the SQLite database while Flare keeps writing.

SQLite's online backup API (`sqlite3.Connection.backup`) copies every page in one step under
a read transaction, so the copy is the database as of one instant: every transaction
committed before it, none half-written. In WAL mode writers go on meanwhile. The copy is
written to a temporary file of its own beside PATH, checked (`PRAGMA integrity_check`, and
its page count equals the database's), then hard-linked into place, so PATH is either a
verified backup or absent, and whatever already is at PATH (a file, a dangling symlink) is
never replaced. PostgreSQL has its own tool: the command `pg_dump` would
run is printed instead (without the password).
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

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
    if not source_path.is_file():
        raise InvalidInput(f"There is no database at {source_path}.")
    # lexists: a dangling symlink at PATH is something there too, never to be replaced.
    if os.path.lexists(target):
        raise InvalidInput(f"{target} already exists; give a new path (nothing was written).")
    if not target.parent.is_dir():
        raise InvalidInput(f"The directory {target.parent} does not exist.")
    # A temporary name of our own beside PATH (never someone else's file), linked into place:
    # os.link refuses an existing PATH, so even one created meanwhile is never replaced.
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    partial = Path(name)
    try:
        integrity, pages = _copy(source_path, partial)
        if integrity != "ok":
            raise InvalidInput(f"The copy failed its integrity check ({integrity}); nothing kept.")
        os.link(partial, target)
    except sqlite3.Error as error:
        raise InvalidInput(f"The backup failed: {error}. Nothing was kept.") from error
    except FileExistsError as error:
        raise InvalidInput(f"{target} appeared meanwhile; it was left as it is.") from error
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, pages, target.stat().st_size, integrity)


def read_only_uri(path: Path) -> str:
    """A `file:` URI SQLite opens read-only: the path percent-encoded (a `#`, `?` or `%` in
    it is part of the name, not a fragment, query or escape)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _copy(source_path: Path, partial: Path) -> tuple[str, int]:
    source = sqlite3.connect(read_only_uri(source_path), uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        # One read transaction: the page count and the copy are of the same instant.
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        expected = int(source.execute("PRAGMA page_count").fetchone()[0])
        if expected == 0:
            raise InvalidInput(f"{source_path} is empty: there is no database to copy.")
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # pages=-1: all at once, one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            integrity = str(copy.execute("PRAGMA integrity_check").fetchone()[0])
            pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
        finally:
            copy.close()
        source.execute("COMMIT")
    finally:
        source.close()
    if pages != expected:
        raise InvalidInput(
            f"The copy has {pages} pages, the database {expected}; nothing was kept."
        )
    return integrity, pages


def verify(path: Path) -> str:
    """Open a backup and run PRAGMA integrity_check: "ok" when sound."""
    connection = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def pg_dump_command(database_url: str, target: Path) -> str:
    """The pg_dump command for a PostgreSQL database, shell-quoted. The URL keeps its query
    (sslmode, host=/socket/dir, …) but never a password (that is left to PGPASSWORD or
    ~/.pgpass)."""
    url = make_url(database_url)
    query = {k: v for k, v in url.query.items() if k.lower() != "password"}
    dsn = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=query,
    )
    rendered = dsn.render_as_string(hide_password=False)
    return shlex.join(["pg_dump", "--format=custom", f"--file={target}", rendered])
