"""The hook against hostile or careless monitors: control characters, fingerprints shared
across sources and components, alerts with thousands of labels. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from bot.db.models import Signal
from bot.monitoring.signals import MAX_ALERT_BYTES, MAX_LABELS
from bot.runtime import Runtime
from tests.conftest import Clock
from tests.monitoring.support import AUTH, alert, counts, monitored, payload
from tests.support.mailbox import TestClient
from web.app import create_app
from web.hooks import alertmanager

PATH = "/hooks/alertmanager"


@pytest.fixture
def hook(runtime: Runtime) -> Iterator[tuple[TestClient, Runtime]]:
    rt = monitored(runtime)
    yield TestClient(create_app(rt, mode="web"), raise_server_exceptions=False), rt


def rows(rt: Runtime) -> list[tuple[str, str, str | None, bool, str | None]]:
    with rt.sessions.begin() as session:
        return [
            (s.key, s.name, s.component_key, s.firing, s.summary)
            for s in session.scalars(select(Signal).order_by(Signal.key))
        ]


def test_control_characters_are_stored_as_spaces(hook: tuple[TestClient, Runtime]) -> None:
    client, rt = hook
    bad = alert("Bad\u0000Name\x1b[31m", fingerprint="f\u00001", component="api")
    bad["annotations"]["summary"] = "line\nbreak\u0000nul"
    body = payload(alert("Ok", fingerprint="ok", component="api"), bad)
    response = client.post(PATH, json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    assert rows(rt) == [
        ("alert:alertmanager:api:f 1", "Bad Name [31m", "api", True, "line break nul"),
        ("alert:alertmanager:api:ok", "Ok", "api", True, "Ok summary"),
    ]


def test_data_the_database_refuses_is_a_400_and_changes_nothing(
    hook: tuple[TestClient, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, rt = hook
    before = counts(rt)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise DataError("INSERT", {}, ValueError("invalid byte sequence"))

    monkeypatch.setattr(alertmanager.monitoring, "ingest", refuse)
    response = client.post(PATH, json=payload(alert("A", component="api")), headers=AUTH)
    assert response.status_code == 400
    assert "refused" in response.json()["error"]
    assert counts(rt) == before


def test_one_fingerprint_in_two_components_is_two_signals(
    hook: tuple[TestClient, Runtime],
) -> None:
    client, rt = hook
    client.post(PATH, json=payload(alert("A", fingerprint="f1", component="api")), headers=AUTH)
    cast(Clock, rt.clock).advance(minutes=30)
    other = payload(alert("B", "resolved", fingerprint="f1", component="dashboard"))
    assert client.post(PATH, json=other, headers=AUTH).status_code == 200
    other = payload(alert("B", fingerprint="f1", component="dashboard"))
    assert client.post(PATH, json=other, headers=AUTH).status_code == 200
    assert [r[:4] for r in rows(rt)] == [
        ("alert:alertmanager:api:f1", "A", "api", True),
        ("alert:alertmanager:dashboard:f1", "B", "dashboard", True),
    ]


def test_one_fingerprint_from_two_sources_is_two_signals(
    hook: tuple[TestClient, Runtime],
) -> None:
    client, rt = hook
    client.post(PATH, json=payload(alert("A", fingerprint="f1", component="api")), headers=AUTH)
    grafana = payload(alert("G", "resolved", fingerprint="f1", component="api"), version="1")
    assert client.post(PATH, json=grafana, headers=AUTH).status_code == 200
    assert [r[:4] for r in rows(rt)] == [("alert:alertmanager:api:f1", "A", "api", True)]


def test_labels_are_capped_per_alert(hook: tuple[TestClient, Runtime]) -> None:
    client, rt = hook
    many = alert("Many", fingerprint="m1", component="api")
    many["labels"].update({f"l{n:05d}": "v" for n in range(10_000)})
    big = alert("Big", fingerprint="b1", component="api")
    big["labels"].update({f"k{n}": "x" * 500 for n in range(40)})
    response = client.post(PATH, json=payload(many, big), headers=AUTH)
    assert response.status_code == 200
    with rt.sessions.begin() as session:
        labels = {s.name: s.labels for s in session.scalars(select(Signal))}
    assert len(labels["Many"]) == MAX_LABELS
    assert labels["Many"]["alertname"] == "Many" and labels["Many"]["component"] == "api"
    size = sum(len(k) + len(v) for k, v in labels["Big"].items())
    assert size <= MAX_ALERT_BYTES and len(labels["Big"]) < 40
