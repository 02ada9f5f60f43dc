"""Property: internal titles, notes, people and Slack links never reach a customer, on any
surface: the page, the API, the feeds, subscriber mail and webhook payloads."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import incidents as svc
from bot import monitoring
from bot.config import ComponentConfig
from bot.db.models import TimelineEvent
from bot.runtime import Runtime
from bot.subscribers.notices import incident_notice
from bot.text.status import ComponentStatus, EventKind, IncidentStatus
from tests.conftest import Clock
from tests.support.factories import responder
from tests.support.publicdata import client, outbound_bodies
from web.public.site import HOT_PATHS

canary = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=14, max_size=20)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(
    title=canary,
    note=canary,
    person=canary,
    channel=canary,
    codename=canary,
    signal=canary,
    public_title=st.booleans(),
    resolved=st.booleans(),
)
def test_public_never_shows_internal_fields(
    runtime: Runtime,
    clock: Clock,
    title: str,
    note: str,
    person: str,
    channel: str,
    codename: str,
    signal: str,
    public_title: bool,
    resolved: bool,
) -> None:
    settings_ = runtime.settings
    user = f"U0{person.upper()[:8]}"  # Slack IDs mix capitals and digits
    slack_link = f"https://acme.slack.com/archives/C{channel.upper()}/p1700000000"
    now = clock.advance(minutes=10)
    bodies: dict[str, str] = {}
    with runtime.sessions.begin() as session:
        incident, _ = svc.declare(session, settings_, title=title, actor=responder(user), now=now)
        incident.slack_channel = f"C{channel.upper()}"
        incident.slack_ts = channel
        svc.add_note(session, incident, text=f"{note} {slack_link}", actor=responder(user), now=now)
        svc.assign_role(
            session,
            incident,
            role="owner",
            user=f"W{person.upper()}",
            actor=responder(user),
            now=now,
        )
        channel_link = f"<#C{channel.upper()}|{codename}>"
        if public_title:
            svc.set_public_title(
                session,
                settings_,
                incident,
                title=f"Slow API responses {channel_link}",
                actor=responder(user),
                now=now,
                force=True,  # hygiene flags the link; published anyway, the scrubber holds
            )
        svc.publish_update(
            session,
            settings_,
            incident,
            message=f"We are investigating slow responses in {channel_link}. Thanks <@{user}> "
            f"and {user}, see {slack_link}.",
            actor=responder(user),
            now=now + timedelta(minutes=1),
            components={"api": ComponentStatus.DEGRADED_PERFORMANCE},
            status=IncidentStatus.INVESTIGATING,
            force=True,
        )
        svc.add_note(session, incident, text=f"after {note}", actor=responder(user), now=now)
        if resolved:
            svc.resolve(
                session, settings_, incident, actor=responder(user), now=now + timedelta(minutes=2)
            )
        public_id = incident.public_id
        # Monitoring: signals are internal; an `auto` component's level is all that shows.
        watched = replace(
            settings_,
            components=(
                *settings_.components[:1],
                ComponentConfig(key="dashboard", name="Dashboard", automation="auto"),
                *settings_.components[2:],
            ),
        )
        batch = monitoring.parse_payload(
            {
                "version": "4",
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {"alertname": f"{signal}A", "component": key, "x": signal},
                        "annotations": {"summary": f"{signal} summary"},
                        "fingerprint": f"{signal}{key}",
                    }
                    for key in ("api", "dashboard", "unmapped")
                ],
            }
        )
        monitoring.ingest(session, watched, batch, now)
        monitoring.sweep(session, watched, now)  # the worker's tick sees them
        monitoring.sweep(session, watched, now + timedelta(minutes=3))
        dashboard = svc.components_by_key(session)["dashboard"]
        assert dashboard.status == ComponentStatus.DEGRADED_PERFORMANCE  # through `auto`
        updates = session.scalars(
            select(TimelineEvent.id).where(
                TimelineEvent.incident_id == incident.id,
                TimelineEvent.kind == EventKind.PUBLIC_UPDATE,
            )
        ).all()
        for event_id in updates:
            notice = incident_notice(session, settings_, event_id)
            bodies.update(outbound_bodies(session, settings_, notice, str(event_id), now))
    _, http = client(runtime)
    with http:
        for path in (*HOT_PATHS, f"/incidents/{public_id}", "/history"):
            response = http.get(path)
            assert response.status_code == 200, path
            bodies[path] = response.text + "\n".join(
                f"{k}: {v}" for k, v in response.headers.items()
            )
    assert public_id in bodies["/api/v2/incidents.json"]
    first = min(updates)  # the update that carries the planted text, as every surface tells it
    assert "slow responses" in bodies[f"mail {first}"]
    assert "slow responses" in bodies[f"webhook {first}"]
    secrets = {
        user,
        title,
        note,
        person,
        person.upper(),
        channel,
        channel.upper(),
        codename,
        signal,
        "slack.com",
    }
    for path, body in bodies.items():
        for secret in secrets:
            assert secret not in body, (path, secret)
