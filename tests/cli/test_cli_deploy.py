"""`flare deploy` as a CI job runs it: a real process against SQLite and PostgreSQL."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import cli_env, flare  # noqa: F401

pytestmark = pytest.mark.slow  # real `flare` processes


def test_cli_deploy_records_a_change_that_incident_changes_lists(
    cli_env: dict[str, str], tmp_path: Path
):
    ok = flare(
        "deploy", "checkout", "v1.4.2", "--url", "https://ci.acme.test/4411", "--actor", "ci",
        cwd=tmp_path, env=cli_env,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "Recorded checkout v1.4.2 (production)." in ok.stdout
    bad = flare(
        "deploy", "checkout", "v2", "--url", "javascript:alert(1)", cwd=tmp_path, env=cli_env
    )
    assert bad.returncode == 2 and "http" in bad.stderr
    missing = flare("deploy", "checkout", cwd=tmp_path, env=cli_env)
    assert missing.returncode == 2
    listed = flare("incident", "changes", "2h", cwd=tmp_path, env=cli_env)
    assert listed.returncode == 0, listed.stderr
    assert "checkout v1.4.2 by ci" in listed.stdout and "https://ci.acme.test/4411" in listed.stdout
    assert "v2" not in listed.stdout
