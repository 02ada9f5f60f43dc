"""The records from a shell: correct, maintenance changes, export, stats and backup, as real
`flare` processes against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_cli import cli_env, flare  # noqa: F401  (the fixture is used by name)

pytestmark = pytest.mark.slow  # real `flare` processes (make test-fast skips them)


def test_cli_records(cli_env: dict[str, str], tmp_path: Path):  # noqa: F811
    def run(*args: str, code: int = 0) -> str:
        result = flare(*args, cwd=tmp_path, env=cli_env)
        assert result.returncode == code, result.stdout + result.stderr
        return result.stdout + result.stderr

    run("incident", "declare", "sev2", "Checkout errors")
    run("incident", "update", "1", "api=partial", "We are investigating failed chekcouts.")
    out = run("incident", "correct", "1", "--notify", "We are investigating failed checkouts.")
    assert "Corrected the latest public update of INC-1" in out and "told again" in out
    assert "(as first published; corrected since)" in run("incident", "show", "1")
    run("incident", "title", "1", "Checkout problems")
    run("incident", "resolve", "1")
    assert "/incident correct INC-1 --title" in run("incident", "title", "1", "New", code=1)

    out = run("incident", "maintenance", "2027-06-01T02:00Z", "2h", "api", "DB upgrade")
    assert "Scheduled maintenance MNT-1" in out
    assert "2027-06-01 05:00 UTC" in run("incident", "maintenance", "extend", "MNT-1", "1h")
    assert "Cancelled maintenance MNT-1" in run("incident", "maintenance", "cancel", "mnt-1")

    document = json.loads(run("incident", "export", "INC-1", "--format", "json"))
    assert document["incident"]["ref"] == "INC-1" and document["schema"] == 1
    assert any(e["kind"] == "correction" for e in document["timeline"])
    markdown = run("incident", "export", "1")
    assert markdown.startswith("# Postmortem INC-1: Checkout errors")
    assert "Usage: flare incident export" in run("incident", "export", code=2)
    assert "--format is md or json" in run("incident", "export", "1", "--format", "pdf", code=2)
    assert "no incident INC-7" in run("incident", "export", "7", code=1)

    stats = json.loads(run("stats", "--since", "30d", "--json"))
    assert stats["incidents"] == 1 and stats["by_severity"] == {"sev2": 1}
    assert "1 incident(s)" in run("stats")
    assert "--since" in run("stats", "--since", "forever", code=2)

    target = tmp_path / "backup.db"
    if cli_env["DATABASE_URL"].startswith("sqlite"):
        assert "integrity check: ok" in run("backup", str(target))
        with sqlite3.connect(target) as copy:
            assert copy.execute("SELECT count(*) FROM incidents").fetchone() == (1,)
        assert "already exists" in run("backup", str(target), code=1)
    else:
        out = run("backup", str(target), code=2)
        assert f"pg_dump --format=custom --file={target}" in out
        assert not target.exists()
