"""Property: the internal dashboard's data (changes, on-call people, providers and their
incidents) never reaches a customer: page, API, feeds, subscriber mail and webhooks."""

from __future__ import annotations

from datetime import time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import context
from bot import incidents as svc
from bot.config import DependencyConfig, OnCallConfig
from bot.context.providers import Outcome, Reading, claim, record
from bot.db.models import TimelineEvent
from bot.runtime import Runtime
from bot.subscribers.notices import incident_notice
from bot.text.status import ComponentStatus, EventKind, IncidentStatus
from tests.conftest import Clock, with_settings
from tests.support.factories import responder
from tests.support.publicdata import client, outbound_bodies
from web.public.site import HOT_PATHS

canary = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=14, max_size=20)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(service=canary, version=canary, actor=canary, person=canary, provider=canary, trouble=canary)
def test_public_never_shows_changes_oncall_or_providers(
    runtime: Runtime,
    clock: Clock,
    service: str,
    version: str,
    actor: str,
    person: str,
    provider: str,
    trouble: str,
) -> None:
    on_call = f"U0{person.upper()[:8]}"
    dependency = DependencyConfig(
        name=provider, url=f"https://{provider}.test", components=("api",)
    )
    rt = with_settings(
        runtime,
        oncall=OnCallConfig(rotation=(on_call,), handoff_time=time(9, 0)),
        dependencies=(dependency,),
    )
    settings_ = rt.settings
    now = clock.advance(minutes=10)
    bodies: dict[str, str] = {}
    with rt.sessions.begin() as session:
        report = context.check_report(
            service=service, version=version, actor=actor, url=f"https://ci.test/{version}"
        )
        context.record_change(session, report, now=now - timedelta(minutes=5), source="hook")
        for indicator in ("none", "critical"):  # known, then in trouble (a post is queued)
            claim(session, dependency, now)
            record(
                session,
                settings_,
                dependency,
                Outcome(reading=Reading(indicator, trouble, f"https://stspg.io/{trouble}")),
                now,
            )
        incident, _ = svc.declare(
            session,
            settings_,
            title="Checkout errors",
            actor=responder("U0DECLARER"),
            now=now,
            on_call=context.on_call(session, settings_, now).commander,  # type: ignore[union-attr]
        )
        assert incident.commander_id == on_call
        svc.publish_update(
            session,
            settings_,
            incident,
            message="We are investigating elevated errors on checkout.",
            actor=responder("U0DECLARER"),
            now=now + timedelta(minutes=1),
            components={"api": ComponentStatus.PARTIAL_OUTAGE},
            status=IncidentStatus.INVESTIGATING,
            force=True,
        )
        public_id = incident.public_id
        updates = session.scalars(
            select(TimelineEvent.id).where(
                TimelineEvent.incident_id == incident.id,
                TimelineEvent.kind == EventKind.PUBLIC_UPDATE,
            )
        ).all()
        for event_id in updates:
            notice = incident_notice(session, settings_, event_id)
            bodies.update(outbound_bodies(session, settings_, notice, str(event_id), now))
    _, http = client(rt)
    with http:
        for path in (*HOT_PATHS, f"/incidents/{public_id}", "/history"):
            response = http.get(path)
            assert response.status_code == 200, path
            bodies[path] = response.text + "\n".join(
                f"{k}: {v}" for k, v in response.headers.items()
            )
    assert "elevated errors" in bodies[f"/incidents/{public_id}"]
    secrets = {service, version, actor, person, on_call, provider, trouble, "stspg.io", "ci.test"}
    for path, body in bodies.items():
        for secret in secrets:
            assert secret not in body, (path, secret)
