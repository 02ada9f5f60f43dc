"""A correction committed by one process is served by another `flare web` process on every
surface within 2 s, and the original wording is gone from all of them."""

from __future__ import annotations

import time

import httpx
import pytest

from bot import incidents as svc
from bot import records
from bot.incidents import CLI
from bot.runtime import Runtime
from bot.text.status import ComponentStatus
from tests.web.test_public_propagation import web_process  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow  # a real server process (make test-fast skips it)

ORIGINAL = "We are investigating failed chekcouts."
FIXED = "We are investigating failed checkouts."


def _surfaces(base: str, public_id: str) -> dict[str, str]:
    paths = [
        "/",
        f"/incidents/{public_id}",
        "/api/v2/summary.json",
        "/api/v2/incidents.json",
        "/history.atom",
        "/history.rss",
    ]
    return {p: httpx.get(f"{base}{p}", timeout=2).text for p in paths}


def _wait(base: str, public_id: str, done, limit: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if all(done(body) for body in _surfaces(base, public_id).values()):
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def test_correction_reaches_every_surface_of_another_process_within_two_seconds(
    runtime: Runtime,
    web_process: str,  # noqa: F811
) -> None:
    with runtime.sessions.begin() as session:
        incident, _ = svc.declare(
            session, runtime.settings, title="x", actor=CLI, now=runtime.now()
        )
        svc.publish_update(
            session,
            runtime.settings,
            incident,
            message=ORIGINAL,
            actor=CLI,
            now=runtime.now(),
            components={"api": ComponentStatus.PARTIAL_OUTAGE},
        )
        public_id, number = incident.public_id, incident.number
    assert _wait(web_process, public_id, lambda body: ORIGINAL in body, 10) is not None
    with runtime.sessions.begin() as session:
        incident = svc.get_incident(session, number, for_update=True)
        latest = records.latest_public_update(session, incident)
        assert latest is not None
        records.correct_update(
            session,
            runtime.settings,
            incident,
            text=FIXED,
            event_id=latest.id,
            actor=CLI,
            now=runtime.now(),
        )
    stamp = f"(corrected {runtime.now().strftime('%H:%M UTC')})"
    seen = _wait(
        web_process,
        public_id,
        lambda body: FIXED in body and stamp in body and ORIGINAL not in body,
        5,
    )
    assert seen is not None, "the other process never served the correction everywhere"
    assert seen < 2.0, f"served after {seen:.2f} s"
