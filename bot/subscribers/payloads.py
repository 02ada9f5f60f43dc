"""Webhook bodies: Statuspage's incident webhook shape for a notice, and the confirmation
request a new webhook subscriber receives (with its signing secret).
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.config import Settings
from bot.subscribers.notices import Notice
from bot.text.times import iso


def webhook_payload(
    notice: Notice,
    settings: Settings,
    *,
    indicator: tuple[str, str],
    unsubscribe_url: str,
    now: datetime,
) -> bytes:
    """Statuspage's incident webhook shape: {meta, page, incident{…, incident_updates}}."""
    body = {
        "meta": {
            "unsubscribe": unsubscribe_url,
            "documentation": f"{settings.public_url}/subscriptions",
            "generated_at": iso(now),
        },
        "page": {
            "id": settings.page_id,
            "status_indicator": indicator[0],
            "status_description": indicator[1],
        },
        "incident": {
            "id": notice.public_id,
            "name": notice.name,
            "status": notice.status,
            "impact": notice.impact,
            "impact_override": None,
            "backfilled": False,
            "created_at": iso(notice.created_at),
            "updated_at": iso(notice.at),
            "monitoring_at": iso(notice.monitoring_at),
            "resolved_at": iso(notice.resolved_at),
            "scheduled_for": iso(notice.scheduled_for),
            "scheduled_until": iso(notice.scheduled_until),
            "shortlink": notice.url,
            "page_id": settings.page_id,
            "components": [
                {"id": c.id, "name": c.name, "status": c.level.value} for c in notice.components
            ],
            "incident_updates": list(notice.updates),
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


def webhook_confirmation(
    settings: Settings,
    *,
    confirm_url: str,
    unsubscribe_url: str,
    signing_secret: str,
    components: list[str],
    now: datetime,
) -> bytes:
    body = {
        "meta": {
            "unsubscribe": unsubscribe_url,
            "documentation": f"{settings.public_url}/subscriptions",
            "generated_at": iso(now),
        },
        "page": {"id": settings.page_id, "name": settings.page_name},
        "subscription_confirmation": {
            "confirm_url": confirm_url,
            "signing_secret": signing_secret,
            "signature_header": "X-Flare-Signature",
            "components": components,
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()
