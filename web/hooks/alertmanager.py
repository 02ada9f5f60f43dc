"""`POST /hooks/alertmanager`: Prometheus Alertmanager (payload version "4") and Grafana's
webhook contact point (version "1"). One short transaction stores the alerts and nothing
else: episodes, triage messages and `auto` levels move on the worker's next tick (every
FLARE_TICK), so a storm of alerts never waits on a component's lock and the answer goes out
before anything is sent anywhere."""

from __future__ import annotations

from typing import Any

from bot import monitoring
from bot.errors import InvalidInput
from bot.runtime import Runtime
from web.hooks import BadPayload, Hook, json_object


def parse(body: bytes) -> monitoring.Batch:
    try:
        return monitoring.parse_payload(json_object(body))
    except InvalidInput as error:
        raise BadPayload(error.message) from None


def apply(runtime: Runtime, batch: monitoring.Batch) -> dict[str, Any]:
    settings = runtime.settings
    now = runtime.now()
    with runtime.sessions.begin() as session:
        result = monitoring.ingest(session, settings, batch, now)
    return result.answer(batch.truncated)


HOOK = Hook(path="/hooks/alertmanager", parse=parse, apply=apply)
