"""What a customer reads on the page, and that every user-supplied field is escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import timedelta

import feedparser

from bot import incidents as svc
from bot.config import ComponentConfig
from bot.incidents import CLI, maintenance
from bot.runtime import Runtime
from bot.text.status import ComponentStatus
from tests.conftest import Clock
from tests.support.factories import responder
from tests.support.publicdata import client, seed
from web.public import uptime

XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;"


def test_public_page_shows_what_customers_need(runtime: Runtime, clock: Clock) -> None:
    scenario = seed(runtime, clock)
    _, http = client(runtime)
    with http:
        html = http.get("/").text
    assert "Partial System Outage" in html
    assert "Partial outage: API, Dashboard" in html
    assert "The cause has been identified.<br>Dashboard pages load slowly too." in html
    assert html.index("The cause has been identified.") < html.index("We are investigating")
    assert "Next update by <strong><time" in html and scenario.promise in html
    assert "Database upgrade" in html and "Network maintenance" in html
    assert "In progress" in html and "Scheduled" in html
    # status words accompany every colour
    assert "Partial outage</span>" in html and "Degraded performance</span>" in html
    assert "Under maintenance</span>" in html
    assert "uptime over the past 90 days" in html
    assert html.count('<i class="d ') == 3 * uptime.DAYS + 5  # bars + legend
    recent = html[html.index("Past 7 days") :]
    assert "Webhook deliveries are back to normal." in recent  # the resolved one, in history
    assert "Webhook deliveries are back to normal." not in html[: html.index("Past 7 days")]
    assert 'action="/subscriptions"' not in html  # no SMTP: mail form hidden, link shown
    assert 'href="/subscriptions"' in html
    assert "<script" not in html


def test_public_page_subscribe_form_posts_email_when_mail_is_configured(
    runtime: Runtime,
) -> None:
    configured = replace(
        runtime, settings=replace(runtime.settings, smtp_url="smtp://mail.acme.test:25")
    )
    _, http = client(configured)
    with http:
        html = http.get("/").text
    assert re.search(r'<form class="subscribe" method="post" action="/subscriptions">', html)
    assert 'name="email"' in html


def test_public_page_only_show_if_degraded_hides_healthy_components(runtime: Runtime) -> None:
    components = (
        *runtime.settings.components,
        ComponentConfig(key="sms", name="SMS gateway", only_show_if_degraded=True),
    )
    changed = replace(runtime, settings=replace(runtime.settings, components=components))
    with changed.sessions.begin() as session:
        svc.sync_components(session, changed.settings, changed.now())
    _, http = client(changed)
    with http:
        assert "SMS gateway" not in http.get("/").text
        assert "SMS gateway" in http.get("/api/v2/components.json").text
    with changed.sessions.begin() as session:
        svc.set_manual_level(
            session, key="sms", level=ComponentStatus.MAJOR_OUTAGE, actor=CLI, now=changed.now()
        )
    _, http = client(changed)
    with http:
        assert "SMS gateway" in http.get("/").text


def test_public_every_user_field_is_escaped(runtime: Runtime, clock: Clock) -> None:
    components = (
        ComponentConfig(key="api", name=f"API {XSS}", group=f"Group {XSS}", description=XSS),
        *runtime.settings.components[1:],
    )
    hostile = replace(
        runtime,
        settings=replace(runtime.settings, components=components, page_name=f"Acme {XSS}"),
    )
    settings = hostile.settings
    with hostile.sessions.begin() as session:
        svc.sync_components(session, settings, clock())
        incident, _ = svc.declare(session, settings, title=XSS, actor=responder("U1"), now=clock())
        svc.set_public_title(
            session,
            settings,
            incident,
            title=f"Title {XSS}",
            actor=responder("U1"),
            now=clock(),
            force=True,
        )
        svc.publish_update(
            session,
            settings,
            incident,
            message=f"Body {XSS}\nline two {XSS}",
            actor=responder("U1"),
            now=clock(),
            components={"api": ComponentStatus.MAJOR_OUTAGE},
            force=True,
        )
        window = maintenance.schedule_maintenance(
            session,
            runtime.settings,
            title=f"Window {XSS}",
            starts_at=clock() + timedelta(hours=1),
            duration=timedelta(hours=1),
            keys=["api"],
            actor=responder("U1"),
            now=clock(),
            message=f"Message {XSS}",
        )
        ids = (incident.public_id, window.public_id)
    _, http = client(hostile)
    with http:
        pages = {
            path: http.get(path)
            for path in (
                "/",
                "/history",
                f"/incidents/{ids[0]}",
                f"/incidents/{ids[1]}",
                "/incidents/nosuch",
            )
        }
        feeds = {path: http.get(path) for path in ("/history.atom", "/history.rss")}
        docs = {path: http.get(path) for path in ("/api/v2/summary.json", "/api/v2/incidents.json")}
    for path, response in pages.items():
        html = response.text
        assert "<script>" not in html and "<img src=x" not in html, path
        assert "onerror=alert" not in html.replace("onerror=alert(2)&gt;", ""), path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    for path, response in feeds.items():
        ET.fromstring(response.content)  # well-formed
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo
        raw = response.text
        assert "<script>" not in raw and "<img src=x" not in raw, path
        # Entry HTML, once unescaped by the reader, still shows the text and runs nothing.
        for entry in parsed.entries:
            content = entry.content[0].value if "content" in entry else entry.description
            assert "<script>" not in content and "<img src=x" not in content
    for path, response in docs.items():
        assert b"<" not in response.content and b">" not in response.content, path
        assert response.json()["incidents"][0]["name"] == f"Title {XSS}", path  # kept verbatim


class _CountingTuple(tuple):
    scans = 0

    def __iter__(self):
        type(self).scans += 1
        return super().__iter__()


def test_public_page_incident_lookup_is_by_key_not_a_scan(runtime: Runtime, clock: Clock):
    from bot.db.engine import read_only
    from web.public.loading import load

    scenario = seed(runtime, clock)
    with read_only(runtime.sessions) as session:
        data = load(session, runtime.settings, clock())
    _CountingTuple.scans = 0
    counted = replace(data, incidents=_CountingTuple(data.incidents))
    wanted = [scenario.open_id, scenario.resolved_id, scenario.active_id]
    for _ in range(100):  # a hundred incident-page requests on one snapshot
        assert [counted.find(public_id).public_id for public_id in wanted] == wanted  # type: ignore[union-attr]
        assert counted.find("nosuchincident") is None
    assert _CountingTuple.scans == 1  # the index was built once, then looked up
