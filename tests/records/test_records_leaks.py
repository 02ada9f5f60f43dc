"""Property: the records features never carry internal data to a customer. A corrected-away
wording, the internal title, notes and people stay off the page, the API, the feeds and the
corrected notice (mail, webhook); a cancelled window's message shows, its author does not."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import incidents as svc
from bot import records
from bot.db.models import OutboxMessage
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.subscribers.fanout import load_notice
from bot.text.status import ComponentStatus
from tests.conftest import Clock
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
@given(title=canary, note=canary, wrong=canary, person=canary)
def test_records_never_leak(
    runtime: Runtime, clock: Clock, title: str, note: str, wrong: str, person: str
) -> None:
    conf = runtime.settings
    user = responder(f"U0{person.upper()[:8]}")
    now = clock.advance(minutes=10)
    bodies: dict[str, str] = {}
    with runtime.sessions.begin() as session:
        incident, _ = svc.declare(session, conf, title=title, actor=user, now=now)
        svc.publish_update(
            session, conf, incident, message=f"Errors on the API {wrong}.", actor=user, now=now,
            components={"api": ComponentStatus.PARTIAL_OUTAGE}, force=True,
        )  # fmt: skip
        svc.add_note(session, incident, text=note, actor=user, now=now)
        latest = records.latest_public_update(session, incident)
        assert latest is not None
        records.correct_update(
            session, conf, incident, text="Errors on the API.", event_id=latest.id,
            actor=user, now=now, notify=True,
        )  # fmt: skip
        window = svc.schedule_maintenance(
            session, conf, title="Network work", starts_at=now + timedelta(days=1),
            duration=timedelta(hours=1), keys=["api"], actor=user, now=now,
        )  # fmt: skip
        svc.cancel_maintenance(session, conf, window.id, actor=user, now=now, message="Called off.")
        public_id = incident.public_id
        fanouts = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kinds.FANOUT)
        ).all()
        for row in fanouts:
            notice = load_notice(session, conf, row.payload)
            bodies.update(outbound_bodies(session, conf, notice, row.key, now))
    _, http = client(runtime)
    with http:
        for path in (*HOT_PATHS, f"/incidents/{public_id}", "/history"):
            bodies[path] = http.get(path).text
    assert "Called off." in bodies["/api/v2/scheduled-maintenances.json"]
    corrected = [k for k in bodies if k.startswith("mail fanout:update:") and k.count(":") > 2]
    assert corrected and "Errors on the API. (corrected" in bodies[corrected[-1]]
    for path, body in bodies.items():
        if (
            path.startswith(("mail fanout:update", "webhook fanout:update"))
            and path.count(":") == 2
        ):
            continue  # the notice of the update as first published (sent before the fix)
        for secret in (title, note, wrong, person, person.upper()):
            assert secret not in body, (path, secret)
