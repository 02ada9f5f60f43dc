"""A public-site scenario for tests: an open incident, a resolved one, hidden ones, and
maintenance windows, written through the real services with the injected clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot import incidents as svc
from bot.config import Settings
from bot.db.models import Incident, Maintenance
from bot.incidents import maintenance
from bot.runtime import Runtime
from bot.subscribers.mail import update_mail
from bot.subscribers.notices import Notice, page_indicator
from bot.subscribers.payloads import webhook_payload
from bot.text.status import ComponentStatus, IncidentStatus, Severity
from tests.conftest import Clock
from tests.support.factories import responder
from web.app import create_app
from web.public import site as public

# The routes served straight from the in-memory snapshot.
HOT = [
    "/",
    "/history.atom",
    "/history.rss",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
]


@dataclass(frozen=True)
class Scenario:
    open_id: str
    resolved_id: str
    internal_id: str
    unpublished_id: str
    active_id: str
    upcoming_id: str
    promise: str  # "HH:MM UTC" customers were promised for the open incident


def seed(runtime: Runtime, clock: Clock) -> Scenario:
    settings = runtime.settings
    start = clock()
    with runtime.sessions.begin() as session:
        resolved, _ = svc.declare(
            session, settings, title="Old internal title", actor=responder("U0OLD"), now=start
        )
        svc.publish_update(
            session,
            settings,
            resolved,
            message="Webhook deliveries are delayed.",
            actor=responder("U0OLD"),
            now=start + timedelta(minutes=1),
            components={"webhooks": ComponentStatus.DEGRADED_PERFORMANCE},
        )
        svc.publish_update(
            session,
            settings,
            resolved,
            message="A fix has been implemented and we are monitoring the results.",
            actor=responder("U0OLD"),
            now=start + timedelta(minutes=20),
            status=IncidentStatus.MONITORING,
        )
        svc.resolve(
            session,
            settings,
            resolved,
            actor=responder("U0OLD"),
            now=start + timedelta(minutes=40),
            message="Webhook deliveries are back to normal.",
        )
        internal, _ = svc.declare(
            session, settings, title="Quiet internal thing", actor=responder("U0INT"), now=start
        )
        svc.publish_update(
            session,
            settings,
            internal,
            message="We are looking into reports of slow logins.",
            actor=responder("U0INT"),
            now=start + timedelta(minutes=2),
        )
        svc.mark_internal(
            session, internal, actor=responder("U0INT"), now=start + timedelta(minutes=3)
        )
        unpublished, _ = svc.declare(
            session, settings, title="Not yet public", actor=responder("U0UNP"), now=start
        )
    clock.advance(hours=2)
    now = clock()
    with runtime.sessions.begin() as session:
        incident, _ = svc.declare(
            session,
            settings,
            title="db-prod-3 fell over (internal)",
            actor=responder("U0COMMAND"),
            now=now,
            severity=Severity.SEV2,
        )
        svc.publish_update(
            session,
            settings,
            incident,
            message="We are investigating elevated errors on the API.",
            actor=responder("U0COMMAND"),
            now=now + timedelta(minutes=1),
            components={"api": ComponentStatus.PARTIAL_OUTAGE},
        )
        svc.publish_update(
            session,
            settings,
            incident,
            message="The cause has been identified.\nDashboard pages load slowly too.",
            actor=responder("U0COMMAND"),
            now=now + timedelta(minutes=5),
            status=IncidentStatus.IDENTIFIED,
            components={"dashboard": ComponentStatus.DEGRADED_PERFORMANCE},
        )
        svc.add_note(
            session, incident, text="Rolled back deploy 1234", actor=responder("U0COMMAND"), now=now
        )
        active = maintenance.schedule_maintenance(
            session,
            settings,
            title="Database upgrade",
            starts_at=now + timedelta(minutes=2),
            duration=timedelta(hours=2),
            keys=["webhooks"],
            actor=responder("U0MAINT"),
            now=now,
            message="Webhooks may be delayed during the upgrade.",
        )
        upcoming = maintenance.schedule_maintenance(
            session,
            settings,
            title="Network maintenance",
            starts_at=now + timedelta(days=2),
            duration=timedelta(hours=1),
            keys=["api", "dashboard"],
            actor=responder("U0MAINT"),
            now=now,
        )
        ids = (incident.id, resolved.id, internal.id, unpublished.id, active.id, upcoming.id)
    clock.advance(minutes=6)
    with runtime.sessions.begin() as session:
        maintenance.advance(session, clock())
        found = [session.get(Incident, i) for i in ids[:4]]
        windows = [session.get(Maintenance, i) for i in ids[4:]]
        public_ids = [i.public_id for i in found if i] + [m.public_id for m in windows if m]
        due = found[0].next_update_due if found[0] else None
    assert due is not None
    open_id, resolved_id, internal_id, unpublished_id, active_id, upcoming_id = public_ids
    return Scenario(
        open_id,
        resolved_id,
        internal_id,
        unpublished_id,
        active_id,
        upcoming_id,
        promise=due.strftime("%H:%M UTC"),
    )


def client(runtime: Runtime) -> tuple[Starlette, TestClient]:
    """An app on this runtime and a client that ran its lifespan (first snapshot built)."""
    app = create_app(runtime)
    return app, TestClient(app)


def site(app: Starlette) -> public.PublicSite:
    found = public.site_of(app)
    assert found is not None
    return found


def outbound_bodies(
    session: Session, settings: Settings, notice: Notice | None, label: str, now: datetime
) -> dict[str, str]:
    """What one notice sends subscribers, by channel: the mail (subject and every part) and
    the webhook payload, for the canary tests."""
    assert notice is not None
    mail = update_mail(notice, settings, to="a@example.com", unsubscribe_url="u", scope=[], now=now)
    parts = [part.get_content() for part in mail.walk() if not part.is_multipart()]
    payload = webhook_payload(
        notice, settings, indicator=page_indicator(session), unsubscribe_url="u", now=now
    )
    return {
        f"mail {label}": "\n".join([str(mail["Subject"]), *parts]),
        f"webhook {label}": payload.decode(),
    }
