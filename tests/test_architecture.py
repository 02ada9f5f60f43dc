"""The floors of STYLE.md hold, migrations match the models, and docs match SPEC.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from alembic import command

from bot.db.migrate import alembic_config

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT.parent / "shared" / "SPEC.md"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_architecture_bot_never_imports_web():
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imports(path) if n.split(".")[0] == "web")
        for path in (ROOT / "bot").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_architecture_domain_never_imports_slack():
    slack = ("slack_sdk", "slack_bolt", "bot.slack")
    offenders = {}
    for path in (ROOT / "bot").glob("*.py"):
        if path.name in {"worker.py"}:  # the process wiring starts the Slack sender
            continue
        bad = sorted(n for n in _imports(path) if n.startswith(slack))
        if bad:
            offenders[path.name] = bad
    assert offenders == {}


def test_architecture_migrations_match_models(db_url: str):
    # `alembic check` raises if autogenerate would produce any operation.
    command.check(alembic_config(db_url))


def _spec_section(number: int) -> str:
    text = SPEC.read_text(encoding="utf-8")
    start = text.index(f"## {number}.")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_architecture_every_spec_variable_is_documented_and_read():
    variables = re.findall(r"^\| `([A-Z_]+)` \|", _spec_section(3), flags=re.MULTILINE)
    assert len(variables) >= 15
    config = (ROOT / "bot" / "config.py").read_text(encoding="utf-8")
    missing_docs = [v for v in variables if f"`{v}`" not in README]
    missing_code = [v for v in variables if f'"{v}"' not in config]
    assert (missing_docs, missing_code) == ([], [])


def test_architecture_every_spec_command_is_documented():
    commands = re.findall(r"^\| `/incident ([a-z]+)", _spec_section(5), flags=re.MULTILINE)
    assert len(commands) >= 14
    assert [c for c in commands if f"/incident {c}" not in README] == []
    cli = re.findall(r"`flare ([a-z-]+)", _spec_section(2))
    assert [c for c in set(cli) if f"flare {c}" not in README] == []


def test_architecture_every_spec_route_is_documented():
    routes = re.findall(r"`(?:GET |POST |HEAD )?(/[a-z0-9/._<>-][^`]*)`", _spec_section(7))
    assert len(routes) >= 8
    for route in routes:
        first = route.split()[0].rstrip("*")
        assert first in README, first
