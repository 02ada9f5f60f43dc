"""Property: internal titles, notes, people and Slack links never reach a public response."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import incidents as svc
from bot.runtime import Runtime
from bot.text.status import ComponentStatus, IncidentStatus
from tests.conftest import Clock
from tests.support.factories import responder
from tests.support.publicdata import client
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
    public_title: bool,
    resolved: bool,
) -> None:
    settings_ = runtime.settings
    user = f"U{person.upper()}"
    slack_link = f"https://acme.slack.com/archives/C{channel.upper()}/p1700000000"
    now = clock.advance(minutes=10)
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
        if public_title:
            svc.set_public_title(
                session,
                settings_,
                incident,
                title="Slow API responses",
                actor=responder(user),
                now=now,
            )
        svc.publish_update(
            session,
            settings_,
            incident,
            message=f"We are investigating slow responses. Thanks <@{user}>.",
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
    _, http = client(runtime)
    bodies: dict[str, str] = {}
    with http:
        for path in (*HOT_PATHS, f"/incidents/{public_id}", "/history"):
            response = http.get(path)
            assert response.status_code == 200, path
            bodies[path] = response.text + "\n".join(
                f"{k}: {v}" for k, v in response.headers.items()
            )
    assert public_id in bodies["/api/v2/incidents.json"]
    secrets = {
        title,
        note,
        person,
        person.upper(),
        channel,
        channel.upper(),
        "slack.com",
    }
    for path, body in bodies.items():
        for secret in secrets:
            assert secret not in body, (path, secret)
