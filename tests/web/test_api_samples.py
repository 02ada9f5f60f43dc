"""Our documents against real Statuspage responses (tests/data/statuspage, sources in its
README): the same keys in the same order for every object, so strict clients parse both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.runtime import Runtime
from tests.conftest import Clock
from tests.support.publicdata import client, seed

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "statuspage"
ROUTES = {
    "summary": "/api/v2/summary.json",
    "status": "/api/v2/status.json",
    "components": "/api/v2/components.json",
    "incidents": "/api/v2/incidents.json",
    "unresolved": "/api/v2/incidents/unresolved.json",
    "scheduled_maintenances": "/api/v2/scheduled-maintenances.json",
    "upcoming": "/api/v2/scheduled-maintenances/upcoming.json",
    "active": "/api/v2/scheduled-maintenances/active.json",
}


def _shapes(
    doc: Any, path: str = "", out: dict[str, list[str]] | None = None
) -> dict[str, list[str]]:
    """Key order of every object kind in a document, by its path ("incidents[].components[]")."""
    out = {} if out is None else out
    if isinstance(doc, dict):
        keys = list(doc)
        kind = path + ("{group}" if doc.get("group") is True else "")
        out.setdefault(kind, keys)
        for key, value in doc.items():
            _shapes(value, f"{path}.{key}" if path else key, out)
    elif isinstance(doc, list):
        for item in doc:
            _shapes(item, path + "[]", out)
    return out


# Fields real pages added over the years (start_date ~2021, reminder_intervals ~2024): a
# sample from before them lacks them; we send today's shape.
NEWER = {"start_date", "reminder_intervals"}
MAIN = {
    "summary": "components[]",
    "status": "status",
    "components": "components[]{group}",
    "incidents": "incidents[].incident_updates[]",
    "unresolved": "incidents[]",
    "scheduled_maintenances": "scheduled_maintenances[]",
    "upcoming": "scheduled_maintenances[]",
    "active": "page",
}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_api_samples_same_keys_in_the_same_order(runtime: Runtime, clock: Clock, name: str):
    seed(runtime, clock)
    _, http = client(runtime)
    ours = _shapes(http.get(ROUTES[name]).json())
    theirs = _shapes(json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8")))
    common = set(ours) & set(theirs)
    assert MAIN[name] in common
    for kind in common:
        real = [k for k in theirs[kind] if k not in NEWER]
        mine = [k for k in ours[kind] if k not in NEWER]
        assert mine == real, (kind, mine, real)
