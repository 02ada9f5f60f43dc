"""`flare backup` with awkward paths: whatever is at PATH is never replaced (a dangling
symlink included), a file beside it is never touched, a database path with `#`, `?` or `%`
is the database copied, and the printed pg_dump command keeps the URL's options, quoted."""

from __future__ import annotations

import shlex
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from bot import records
from bot.errors import InvalidInput


def _database(path: Path, rows: int = 3) -> str:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE marker (n INTEGER)")
        db.executemany("INSERT INTO marker VALUES (?)", [(i,) for i in range(rows)])
    db.close()
    # As an operator writes it for Flare (and SQLAlchemy reads it): the path URL-escaped.
    return URL.create("sqlite", database=str(path)).render_as_string()


def test_a_dangling_symlink_at_path_is_left_alone(tmp_path: Path):
    url = _database(tmp_path / "flare.db")
    target = tmp_path / "out.db"
    target.symlink_to(tmp_path / "nowhere")
    with pytest.raises(InvalidInput, match="already exists"):
        records.backup_sqlite(url, target)
    assert target.is_symlink() and not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flare.db", "out.db"]


def test_a_file_named_like_the_old_partial_is_never_touched(tmp_path: Path):
    url = _database(tmp_path / "flare.db")
    mine = tmp_path / ".b.db.partial"
    mine.write_text("the operator's own file")
    result = records.backup_sqlite(url, tmp_path / "b.db")
    assert result.integrity == "ok" and result.pages > 0
    assert mine.read_text() == "the operator's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.db.partial", "b.db", "flare.db"]


@pytest.mark.parametrize(
    "name", ["fl#are.db", "fl?are.db", "fl%23are.db", "fl are.db", "fl%are.db"]
)
def test_a_database_path_with_uri_characters_is_the_one_copied(tmp_path: Path, name: str):
    url = _database(tmp_path / name, rows=7)
    target = tmp_path / "copy.db"
    result = records.backup_sqlite(url, target)
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM marker").fetchone() == (7,)
    copy.close()
    assert records.verify(target) == "ok"
    assert result.pages > 0
    # No stray file was opened (and created) under a cut-off name.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "copy.db"])


def test_an_empty_database_file_is_refused_not_reported_ok(tmp_path: Path):
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty"):
        records.backup_sqlite(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "copy.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_pg_dump_keeps_the_query_drops_the_password_and_quotes():
    command = records.pg_dump_command(
        "postgresql+psycopg://flare:s3cret@db.internal:5432/flare?sslmode=require",
        Path("/backups/my dump;touch x"),
    )
    assert "s3cret" not in command
    assert shlex.split(command) == [
        "pg_dump",
        "--format=custom",
        "--file=/backups/my dump;touch x",
        "postgresql://flare@db.internal:5432/flare?sslmode=require",
    ]
    socket = records.pg_dump_command(
        "postgresql+psycopg://flare:s3cret@/flare?host=/var/run/postgresql&password=x",
        Path("x.dump"),
    )
    words = shlex.split(socket)
    assert words[-1].startswith("postgresql://flare@/flare?host=")
    assert "postgresql" in words[-1].split("host=")[1]
    assert "s3cret" not in socket and "password" not in socket
