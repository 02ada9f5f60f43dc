"""The house keeps its shape and its docs stay honest, checked from inside the repository.

Layering (floors, Slack only in bot/slack, features meeting at their public faces) is
stated as import-linter contracts in pyproject.toml and checked by `make lint`. Here: the
migrations match the models, no module outgrows one idea, and the README documents every
setting, sub-command, CLI command and route the code has, read from the code itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from alembic import command

from bot.cli.main import build_parser
from bot.config import load_settings
from bot.db.migrate import alembic_config
from bot.text.grammar import USAGE

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MODULE_LIMIT = 400
TEST_ONLY = {"FLARE_TEST_PG_URL"}


class _RecordingEnv(Mapping[str, str]):
    """An empty environment that remembers every variable `load_settings` asks for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __getitem__(self, key: str) -> str:
        self.asked.append(key)
        raise KeyError(key)

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.append(key)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _readme_table(heading: str) -> str:
    start = README.index(f"\n## {heading}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_architecture_migrations_match_models(db_url: str):
    # `alembic check` raises if autogenerate would produce any operation.
    command.check(alembic_config(db_url))


def test_architecture_no_module_outgrows_one_idea():
    big = {
        str(path.relative_to(ROOT)): lines
        for folder in ("bot", "web")
        for path in (ROOT / folder).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LIMIT
    }
    assert big == {}


def test_architecture_every_setting_read_is_documented_and_every_documented_one_read(
    monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)  # no flare.toml here
    env = _RecordingEnv()
    load_settings(env)
    read = set(env.asked)
    assert len(read) >= 15
    table = _readme_table("Configuration")
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.MULTILINE))
    assert (sorted(read - documented), sorted(documented - read - TEST_ONLY)) == ([], [])


def test_architecture_every_sub_command_is_in_the_readme_table():
    table = _readme_table("Slack")
    documented = set(re.findall(r"`/incident ([a-z-]+)", table))
    assert sorted(set(USAGE) - documented - {"help"}) == []


def test_architecture_every_cli_command_is_in_the_readme_table():
    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices  # noqa: SLF001
    assert choices
    table = _readme_table("The CLI")
    assert sorted(c for c in choices if f"`flare {c}" not in table) == []


def test_architecture_every_route_is_documented():
    from bot.config import Settings
    from bot.runtime import Runtime
    from web.app import create_app

    runtime = Runtime.create(Settings(database_url="sqlite://"))
    try:
        app = create_app(runtime)
        paths = {route.path for route in app.routes if hasattr(route, "path")}
    finally:
        runtime.close()
    assert len(paths) >= 15
    readme_paths = {re.sub(r"<[^>]+>", "{}", p) for p in re.findall(r"`(/[^`]*)`", README)}
    missing = [p for p in paths if re.sub(r"\{[^}]+\}", "{}", p) not in readme_paths]
    assert sorted(missing) == []
