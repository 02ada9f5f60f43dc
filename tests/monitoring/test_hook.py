"""POST /hooks/alertmanager with Alertmanager's and Grafana's real payloads: mapping, levels,
idempotence, and every refusal in its order (401, 413, 400, 503) changing nothing."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from typing import cast

import pytest
from sqlalchemy import select

from bot.db.models import Component, Episode, OutboxMessage, Signal
from bot.runtime import Runtime
from bot.text.status import ComponentStatus
from tests.conftest import Clock
from tests.monitoring.support import AUTH, TOKEN, alert, counts, fixture, monitored, payload
from tests.support.mailbox import TestClient
from web.app import create_app

PATH = "/hooks/alertmanager"


@pytest.fixture
def hook(runtime: Runtime) -> Iterator[tuple[TestClient, Runtime]]:
    rt = monitored(runtime)
    yield TestClient(create_app(rt, mode="web")), rt


def signals(runtime: Runtime) -> dict[str, tuple[str | None, ComponentStatus, bool, str]]:
    with runtime.sessions.begin() as session:
        return {
            s.key: (s.component_key, s.level, s.firing, s.source)
            for s in session.scalars(select(Signal))
        }


def test_alertmanager_firing_maps_by_label_and_by_signals_map(hook):
    client, runtime = hook
    response = client.post(PATH, json=fixture("alertmanager_firing.json"), headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "firing": 2, "resolved": 0, "unmapped": 0, "changed": 2, "truncated": 0
    }  # fmt: skip
    assert signals(runtime) == {
        # component=api label, severity critical → major
        "alert:alertmanager:api:1a30ba71cca2921f": (
            "api",
            ComponentStatus.MAJOR_OUTAGE,
            True,
            "alertmanager",
        ),
        # no component label; [[signals.map]] job=checkout → api; severity warning → degraded
        "alert:alertmanager:api:b2c4e6a8d0f21357": (
            "api",
            ComponentStatus.DEGRADED_PERFORMANCE,
            True,
            "alertmanager",
        ),
    }


def test_alertmanager_resolved_ends_the_signals(hook):
    client, runtime = hook
    client.post(PATH, json=fixture("alertmanager_firing.json"), headers=AUTH)
    response = client.post(PATH, json=fixture("alertmanager_resolved.json"), headers=AUTH)
    assert response.status_code == 200
    assert response.json()["resolved"] == 2
    assert {v[2] for v in signals(runtime).values()} == {False}


def test_grafana_grouped_payload_maps_service_label_and_shows_unmapped(hook):
    client, runtime = hook
    response = client.post(PATH, json=fixture("grafana_firing.json"), headers=AUTH)
    assert response.status_code == 200
    assert response.json()["unmapped"] == 1
    assert signals(runtime) == {
        "alert:grafana:dashboard:c6eadffa33fcdf37": (
            "dashboard",
            ComponentStatus.DEGRADED_PERFORMANCE,
            True,
            "grafana",
        ),
        "alert:grafana:-:bc97ff14869b13e3": (
            None,
            ComponentStatus.DEGRADED_PERFORMANCE,
            True,
            "grafana",
        ),
    }


def test_truncated_alerts_are_counted_in_the_answer(hook):
    client, runtime = hook
    response = client.post(PATH, json=fixture("alertmanager_truncated.json"), headers=AUTH)
    assert response.status_code == 200
    assert response.json()["truncated"] == 3
    assert len(signals(runtime)) == 1


def test_a_repeated_payload_changes_nothing(hook):
    client, runtime = hook
    body = fixture("alertmanager_firing.json")
    client.post(PATH, json=body, headers=AUTH)
    with runtime.sessions.begin() as session:
        before = [(s.key, s.updated_at, s.since) for s in session.scalars(select(Signal))]
    tables = counts(runtime)
    cast(Clock, runtime.clock).advance(seconds=30)
    response = client.post(PATH, json=body, headers=AUTH)
    assert response.json()["changed"] == 0
    assert counts(runtime) == tables
    with runtime.sessions.begin() as session:
        after = [(s.key, s.updated_at, s.since) for s in session.scalars(select(Signal))]
    assert after == before


def test_levels_from_flare_level_then_severity(hook):
    client, runtime = hook
    body = payload(
        alert("A", fingerprint="a1", component="api", flare_level="partial", severity="critical"),
        alert("B", fingerprint="b1", component="api", severity="page"),
        alert("C", fingerprint="c1", component="api", severity="error"),
        alert("D", fingerprint="d1", component="api", severity="high"),
        alert("E", fingerprint="e1", component="api", severity="info"),
        alert("F", fingerprint="f1", component="api", flare_level="nonsense"),
    )
    assert client.post(PATH, json=body, headers=AUTH).status_code == 200
    levels = {k: v[1] for k, v in signals(runtime).items()}
    assert levels == {
        "alert:alertmanager:api:a1": ComponentStatus.PARTIAL_OUTAGE,
        "alert:alertmanager:api:b1": ComponentStatus.MAJOR_OUTAGE,
        "alert:alertmanager:api:c1": ComponentStatus.PARTIAL_OUTAGE,
        "alert:alertmanager:api:d1": ComponentStatus.PARTIAL_OUTAGE,
        "alert:alertmanager:api:e1": ComponentStatus.DEGRADED_PERFORMANCE,
        "alert:alertmanager:api:f1": ComponentStatus.DEGRADED_PERFORMANCE,
    }


def test_an_alert_without_fingerprint_is_keyed_by_its_sorted_labels(hook):
    client, runtime = hook
    first = payload(alert("NoPrint", component="api", zone="a"))
    client.post(PATH, json=first, headers=AUTH)
    reordered = payload({**alert("NoPrint", component="api", zone="a")})
    reordered["alerts"][0]["labels"] = dict(reversed(reordered["alerts"][0]["labels"].items()))
    client.post(PATH, json=reordered, headers=AUTH)
    assert len(signals(runtime)) == 1


def test_unknown_component_is_unmapped_and_acts_on_nothing(hook):
    client, runtime = hook
    runtime = monitored(runtime, signal_confirm=replace(runtime.settings).signal_confirm * 0)
    client = TestClient(create_app(runtime, mode="web"))
    response = client.post(
        PATH, json=payload(alert("X", fingerprint="x1", component="nosuch")), headers=AUTH
    )
    assert response.status_code == 200
    assert response.json()["unmapped"] == 1
    with runtime.sessions.begin() as session:
        assert session.scalars(select(Episode)).all() == []
        assert session.scalars(select(OutboxMessage)).all() == []
        assert {c.status for c in session.scalars(select(Component))} == {
            ComponentStatus.OPERATIONAL
        }


def test_basic_auth_with_the_token_as_password_is_accepted(hook):
    client, _ = hook
    basic = base64.b64encode(f"alertmanager:{TOKEN}".encode()).decode()
    response = client.post(PATH, json=payload(), headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": "Token x"}],
)
def test_missing_or_wrong_credentials_get_401_and_change_nothing(hook, headers):
    client, runtime = hook
    before = counts(runtime)
    response = client.post(PATH, json=fixture("alertmanager_firing.json"), headers=headers)
    assert response.status_code == 401
    assert counts(runtime) == before


def test_auth_is_checked_before_size_and_size_before_parsing(hook):
    client, runtime = hook
    before = counts(runtime)
    huge = b"{" + b" " * (1024 * 1024 + 1)
    assert client.post(PATH, content=huge).status_code == 401
    assert client.post(PATH, content=huge, headers=AUTH).status_code == 413
    assert counts(runtime) == before


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"version": "4"}',
        b'{"version": "3", "alerts": []}',
        b'{"alerts": []}',
        b'{"version": "4", "alerts": [{"status": "pending", "labels": {}}]}',
        b'{"version": "4", "alerts": [{"status": "firing", "labels": ["x"]}]}',
        b'{"version": "4", "alerts": [], "truncatedAlerts": -1}',
        b'{"version": "1", "alerts": ["x"]}',
    ],
)
def test_malformed_or_unknown_shapes_get_400_and_change_nothing(hook, body):
    client, runtime = hook
    before = counts(runtime)
    response = client.post(PATH, content=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]
    assert counts(runtime) == before


def test_an_empty_alert_list_is_not_malformed(hook):
    client, _ = hook
    assert client.post(PATH, json=payload(), headers=AUTH).status_code == 200


def test_database_unavailable_gets_503(hook, tmp_path):
    _, runtime = hook
    broken = Runtime.create(
        replace(runtime.settings, database_url=f"sqlite:///{tmp_path}/missing/dir/flare.db")
    )
    client = TestClient(create_app(broken, mode="web"))
    body = payload(alert("A", fingerprint="a1", component="api"))
    response = client.post(PATH, json=body, headers=AUTH)
    assert response.status_code == 503
    broken.close()


def test_hooks_do_not_exist_without_a_token(runtime):
    client = TestClient(create_app(runtime, mode="web"))
    assert client.post(PATH, json=payload(), headers=AUTH).status_code in (404, 405)


def test_a_firing_alert_whose_ends_at_has_passed_has_stopped(hook):
    client, runtime = hook
    body = payload(alert("A", fingerprint="a1", component="api"))
    client.post(PATH, json=body, headers=AUTH)
    body["alerts"][0]["endsAt"] = "2026-11-25T13:59:59.123456789Z"  # nanoseconds, as Go writes
    response = client.post(PATH, json=body, headers=AUTH)
    assert response.json()["resolved"] == 1
    assert signals(runtime)["alert:alertmanager:api:a1"][2] is False


def test_payloads_captured_from_alertmanager_0_25(hook):
    client, runtime = hook
    firing = fixture("alertmanager-0.25-captured-firing.json")
    answer = client.post(PATH, json=firing, headers=AUTH).json()
    assert (answer["firing"], answer["changed"]) == (2, 2)
    assert signals(runtime) == {
        "alert:alertmanager:api:2fb10662a320fc21": (
            "api",
            ComponentStatus.MAJOR_OUTAGE,
            True,
            "alertmanager",
        ),
        "alert:alertmanager:api:d7e68278b0dffb64": (
            "api",
            ComponentStatus.MAJOR_OUTAGE,
            True,
            "alertmanager",
        ),
    }
    assert client.post(PATH, json=firing, headers=AUTH).json()["changed"] == 0
    resolved = fixture("alertmanager-0.25-captured-resolved.json")
    assert client.post(PATH, json=resolved, headers=AUTH).json()["resolved"] == 2
    assert {v[2] for v in signals(runtime).values()} == {False}
