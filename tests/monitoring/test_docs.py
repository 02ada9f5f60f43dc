"""docs/monitoring.md stays true: its flare.toml examples load, and its payload examples
(the fixtures in tests/data/monitoring) parse."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.config.toml import load_checks, load_signal_maps

DOC = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(), re.S)


def test_docs_toml_examples_load():
    found = 0
    for text in blocks("toml"):
        data = tomllib.loads(text)
        if "checks" in data:
            [check] = load_checks(data, {"api"}, source="docs")
            assert (check.failure_threshold, check.success_threshold) == (3, 2)
            found += 1
        if "signals" in data:
            assert len(load_signal_maps(data, {"api"}, source="docs")) == 2
            found += 1
        if "page" in data:
            policies = [c["automation"] for c in data["page"]["components"]]
            assert policies == ["suggest", "auto", "off"]
            found += 1
    assert found == 3


def test_docs_alertmanager_example_uses_http_config_authorization():
    [yaml] = [b for b in blocks("yaml") if "webhook_configs" in b]
    assert "http_config:" in yaml and "authorization:" in yaml and "type: Bearer" in yaml
    assert "/hooks/alertmanager" in yaml
