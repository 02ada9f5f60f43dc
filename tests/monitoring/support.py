"""Shared set-up for the monitoring tests: components with each policy, a hook token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.config import ComponentConfig, SignalMap
from bot.db.models import Base
from bot.runtime import Runtime
from tests.conftest import with_settings

DATA = Path(__file__).resolve().parents[1] / "data" / "monitoring"
TOKEN = "hook-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHANNEL = "C0INCIDENTS"
COMPONENTS = (
    ComponentConfig(key="api", name="API", automation="suggest"),
    ComponentConfig(key="dashboard", name="Dashboard", automation="auto"),
    ComponentConfig(key="webhooks", name="Webhooks", automation="off"),
)


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def monitored(runtime: Runtime, **changes: object) -> Runtime:
    from bot.incidents import sync_components

    rt = with_settings(
        runtime,
        hook_token=TOKEN,
        components=COMPONENTS,
        incidents_channel=CHANNEL,
        signal_maps=(SignalMap((("job", "checkout"),), "api"),),
        **changes,
    )
    with rt.sessions.begin() as session:
        sync_components(session, rt.settings, rt.now())
    return rt


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions.begin() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def alert(
    name: str, status: str = "firing", fingerprint: str | None = None, **labels: str
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} summary"},
        "startsAt": "2026-11-25T13:58:45.828Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.org:9090/graph",
    }
    if fingerprint:
        item["fingerprint"] = fingerprint
    return item


def payload(*alerts: dict[str, Any], version: str = "4") -> dict[str, Any]:
    return {
        "receiver": "flare",
        "status": "firing",
        "alerts": list(alerts),
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.org:9093",
        "version": version,
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
    }
