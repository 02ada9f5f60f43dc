"""The Statuspage v2 public API, field by field, as real Statuspage pages send it."""

from __future__ import annotations

import re
from typing import Any

from bot.runtime import Runtime
from tests.conftest import Clock
from tests.support.factories import responder
from tests.support.publicdata import client, seed

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PAGE_KEYS = ["id", "name", "url", "time_zone", "updated_at"]
COMPONENT_KEYS = [
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
]
GROUP_KEYS = [*COMPONENT_KEYS, "components"]
INCIDENT_KEYS = [
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
]
MAINTENANCE_KEYS = [*INCIDENT_KEYS, "scheduled_for", "scheduled_until"]
INCIDENT_KEYS = [*INCIDENT_KEYS, "reminder_intervals"]
UPDATE_KEYS = [
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
]
AFFECTED_KEYS = ["code", "name", "old_status", "new_status"]
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
INDICATORS = {"none", "minor", "major", "critical", "maintenance"}
ENDPOINTS = {
    "summary.json": ["page", "components", "incidents", "scheduled_maintenances", "status"],
    "status.json": ["page", "status"],
    "components.json": ["page", "components"],
    "incidents.json": ["page", "incidents"],
    "incidents/unresolved.json": ["page", "incidents"],
    "scheduled-maintenances.json": ["page", "scheduled_maintenances"],
    "scheduled-maintenances/upcoming.json": ["page", "scheduled_maintenances"],
    "scheduled-maintenances/active.json": ["page", "scheduled_maintenances"],
}


def _time(value: Any, nullable: bool = False) -> None:
    if nullable and value is None:
        return
    assert isinstance(value, str) and ISO.match(value), value


def check_page(page: dict[str, Any]) -> None:
    assert list(page) == PAGE_KEYS
    assert page["name"] == "Acme"
    assert page["url"] == "https://status.acme.test"
    assert page["time_zone"] == "Etc/UTC"
    assert re.fullmatch(r"[a-z2-7]{12}", page["id"])
    _time(page["updated_at"])


def check_component(row: dict[str, Any], page_id: str) -> None:
    assert list(row) == (GROUP_KEYS if row["group"] else COMPONENT_KEYS)
    assert isinstance(row["id"], str) and isinstance(row["name"], str)
    assert row["status"] in COMPONENT_STATUSES
    _time(row["created_at"])
    _time(row["updated_at"])
    assert isinstance(row["position"], int) and row["position"] >= 1
    assert row["description"] is None or isinstance(row["description"], str)
    assert isinstance(row["showcase"], bool)
    assert row["start_date"] is None or re.fullmatch(r"\d{4}-\d\d-\d\d", row["start_date"])
    assert row["group_id"] is None or isinstance(row["group_id"], str)
    assert row["page_id"] == page_id
    assert isinstance(row["only_show_if_degraded"], bool)
    if row["group"]:
        assert row["group_id"] is None
        assert all(isinstance(i, str) for i in row["components"])


def check_incident(doc: dict[str, Any], page_id: str, *, maintenance: bool = False) -> None:
    assert list(doc) == (MAINTENANCE_KEYS if maintenance else INCIDENT_KEYS)
    assert doc["status"] in (MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES)
    assert doc["impact"] in (
        {"maintenance"} if maintenance else {"none", "minor", "major", "critical"}
    )
    for key in ("created_at", "updated_at", "started_at"):
        _time(doc[key])
    _time(doc["monitoring_at"], nullable=True)
    _time(doc["resolved_at"], nullable=True)
    assert doc["shortlink"] == f"https://status.acme.test/incidents/{doc['id']}"
    assert doc["page_id"] == page_id
    times = [u["display_at"] for u in doc["incident_updates"]]
    assert times == sorted(times, reverse=True), "updates newest first"
    for update in doc["incident_updates"]:
        assert list(update) == UPDATE_KEYS
        assert update["incident_id"] == doc["id"]
        assert isinstance(update["body"], str)
        for key in ("created_at", "updated_at", "display_at"):
            _time(update[key])
        if update["affected_components"] is not None:
            for change in update["affected_components"]:
                assert list(change) == AFFECTED_KEYS
                assert change["old_status"] in COMPONENT_STATUSES
                assert change["new_status"] in COMPONENT_STATUSES
        assert update["deliver_notifications"] is True
        assert update["custom_tweet"] is None and update["tweet_id"] is None
    for component in doc["components"]:
        check_component(component, page_id)
    if maintenance:
        _time(doc["scheduled_for"])
        _time(doc["scheduled_until"])


def check_document(name: str, doc: dict[str, Any]) -> None:
    assert list(doc) == ENDPOINTS[name]
    check_page(doc["page"])
    page_id = doc["page"]["id"]
    if "status" in doc:
        assert list(doc["status"]) == ["indicator", "description"]
        assert doc["status"]["indicator"] in INDICATORS
    for row in doc.get("components", []):
        check_component(row, page_id)
    for incident in doc.get("incidents", []):
        check_incident(incident, page_id)
    for window in doc.get("scheduled_maintenances", []):
        check_incident(window, page_id, maintenance=True)


def _documents(runtime: Runtime) -> dict[str, dict[str, Any]]:
    _, http = client(runtime)
    with http:
        out = {}
        for name in ENDPOINTS:
            response = http.get(f"/api/v2/{name}")
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json; charset=utf-8"
            assert response.headers["access-control-allow-origin"] == "*"
            out[name] = response.json()
        return out


def test_api_empty_page_has_the_full_shape(runtime: Runtime) -> None:
    docs = _documents(runtime)
    for name, doc in docs.items():
        check_document(name, doc)
    assert docs["status.json"]["status"] == {
        "indicator": "none",
        "description": "All Systems Operational",
    }
    assert docs["summary.json"]["incidents"] == []
    assert docs["summary.json"]["scheduled_maintenances"] == []
    assert docs["incidents.json"]["incidents"] == []
    rows = docs["components.json"]["components"]
    assert [(r["name"], r["group"], r["position"]) for r in rows] == [
        ("Platform", True, 1),
        ("API", False, 1),
        ("Dashboard", False, 2),
        ("Webhooks", False, 2),
    ]
    group = rows[0]
    assert group["components"] == [rows[1]["id"], rows[2]["id"]]
    assert rows[1]["group_id"] == rows[2]["group_id"] == group["id"]
    assert rows[3]["group_id"] is None
    assert rows[1]["description"] == "Public REST API"
    assert group["status"] == "operational"


def test_api_outage_documents_field_by_field(runtime: Runtime, clock: Clock) -> None:
    scenario = seed(runtime, clock)
    docs = _documents(runtime)
    for name, doc in docs.items():
        check_document(name, doc)

    summary = docs["summary.json"]
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    assert [i["id"] for i in summary["incidents"]] == [scenario.open_id]
    incident = summary["incidents"][0]
    assert incident["name"] == "Partial outage: API, Dashboard"
    assert incident["status"] == "identified"
    assert incident["impact"] == "major"
    assert incident["resolved_at"] is None and incident["monitoring_at"] is None
    assert [u["status"] for u in incident["incident_updates"]] == ["identified", "investigating"]
    newest, first = incident["incident_updates"]
    assert newest["body"] == "The cause has been identified.\nDashboard pages load slowly too."
    assert [
        (a["name"], a["old_status"], a["new_status"]) for a in first["affected_components"]
    ] == [("API", "operational", "partial_outage")]
    assert [(c["name"], c["status"]) for c in incident["components"]] == [
        ("API", "partial_outage"),
        ("Dashboard", "degraded_performance"),
    ]
    components = {c["name"]: c for c in summary["components"]}
    assert components["Platform"]["status"] == "partial_outage"
    assert components["Webhooks"]["status"] == "under_maintenance"

    # summary.json lists open maintenance (active first), never completed ones
    windows = summary["scheduled_maintenances"]
    assert [(w["id"], w["status"]) for w in windows] == [
        (scenario.active_id, "in_progress"),
        (scenario.upcoming_id, "scheduled"),
    ]
    active = windows[0]
    assert active["name"] == "Database upgrade" and active["impact"] == "maintenance"
    assert [u["status"] for u in active["incident_updates"]] == ["in_progress", "scheduled"]
    assert active["incident_updates"][1]["body"] == "Webhooks may be delayed during the upgrade."
    assert [c["name"] for c in active["components"]] == ["Webhooks"]
    assert active["scheduled_until"] > active["scheduled_for"]

    # incidents.json includes resolved incidents; never internal or unpublished ones
    listed = [i["id"] for i in docs["incidents.json"]["incidents"]]
    assert listed == [scenario.open_id, scenario.resolved_id]
    assert scenario.internal_id not in str(docs) and scenario.unpublished_id not in str(docs)
    resolved = docs["incidents.json"]["incidents"][1]
    assert resolved["status"] == "resolved" and resolved["impact"] == "minor"
    _time(resolved["resolved_at"])
    _time(resolved["monitoring_at"])
    assert resolved["incident_updates"][0]["body"] == "Webhook deliveries are back to normal."
    assert [i["id"] for i in docs["incidents/unresolved.json"]["incidents"]] == [scenario.open_id]

    upcoming = docs["scheduled-maintenances/upcoming.json"]["scheduled_maintenances"]
    assert [w["id"] for w in upcoming] == [scenario.upcoming_id]
    active_only = docs["scheduled-maintenances/active.json"]["scheduled_maintenances"]
    assert [w["id"] for w in active_only] == [scenario.active_id]
    every = docs["scheduled-maintenances.json"]["scheduled_maintenances"]
    assert {w["id"] for w in every} == {scenario.active_id, scenario.upcoming_id}


def test_api_maintenance_alone_sets_the_maintenance_indicator(
    runtime: Runtime, clock: Clock
) -> None:
    from datetime import timedelta

    from bot.incidents import maintenance

    with runtime.sessions.begin() as session:
        maintenance.schedule_maintenance(
            session,
            runtime.settings,
            title="Upgrade",
            starts_at=clock() + timedelta(minutes=1),
            duration=timedelta(hours=1),
            keys=["api"],
            actor=responder("U1"),
            now=clock(),
        )
    clock.advance(minutes=2)
    with runtime.sessions.begin() as session:
        maintenance.advance(session, clock())
    docs = _documents(runtime)
    assert docs["status.json"]["status"] == {
        "indicator": "maintenance",
        "description": "Service Under Maintenance",
    }
    check_document("summary.json", docs["summary.json"])


def test_api_head_sends_headers_without_body(runtime: Runtime) -> None:
    _, http = client(runtime)
    with http:
        get = http.get("/api/v2/status.json", headers={"accept-encoding": "identity"})
        head = http.head("/api/v2/status.json", headers={"accept-encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["access-control-allow-origin"] == "*"
