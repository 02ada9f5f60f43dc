"""Corrections: the new wording on every public surface, "(corrected HH:MM UTC)", the
original only in the internal timeline; refusals change nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot import incidents as svc
from bot.commands import PlainStyle, execute
from bot.db.models import Incident, OutboxMessage
from bot.errors import FlareError, NotAllowed
from bot.incidents import CLI
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.text.grammar import parse
from bot.text.hygiene import HygieneBlocked
from tests.conftest import Clock
from tests.support.factories import member
from tests.support.publicdata import HOT, client, seed, site

OPEN_ORIGINAL = "Dashboard pages load slowly too."
FIXED = "The cause has been identified: a configuration change. We are reverting it."


def run(runtime: Runtime, text: str, *, actor=CLI, force: bool = False) -> str:
    with runtime.sessions.begin() as session:
        command = parse(text, runtime.settings.component_keys())
        reply = execute(
            session,
            runtime.settings,
            command,
            actor=actor,
            now=runtime.now(),
            style=PlainStyle(),
            force=force,
        )
        return reply.text


def _number(runtime: Runtime, public_id: str) -> int:
    with runtime.sessions.begin() as session:
        return int(
            session.scalar(select(Incident.number).where(Incident.public_id == public_id)) or 0
        )


def _fanouts(runtime: Runtime) -> int:
    with runtime.sessions.begin() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == kinds.FANOUT)
            )
            or 0
        )


def test_correction_shows_everywhere_and_the_original_only_in_show(
    runtime: Runtime, clock: Clock
) -> None:
    scenario = seed(runtime, clock)
    open_no = _number(runtime, scenario.open_id)
    resolved_no = _number(runtime, scenario.resolved_id)
    app, http = client(runtime)
    with http:
        before = http.get("/").text
        assert OPEN_ORIGINAL in before
        fanouts = _fanouts(runtime)
        clock.advance(minutes=3)
        stamp = clock().strftime("%H:%M UTC")
        reply = run(runtime, f"correct INC-{open_no} {FIXED}")
        assert "Corrected the latest public update" in reply
        assert "not re-sent" in reply
        assert _fanouts(runtime) == fanouts, "no --notify: subscribers are not told again"
        title_reply = run(runtime, f"correct {resolved_no} --title Delayed webhook deliveries")
        assert "public title" in title_reply
        assert http.portal is not None
        http.portal.call(site(app).refresh)
        pages = {path: http.get(path).text for path in [*HOT, f"/incidents/{scenario.open_id}"]}
    expected = f"(corrected {stamp})"
    for path in [
        "/",
        f"/incidents/{scenario.open_id}",
        "/api/v2/summary.json",
        "/api/v2/incidents.json",
        "/history.atom",
        "/history.rss",
    ]:
        body = pages[path]
        assert "a configuration change" in body, path
        assert expected in body, path
        assert OPEN_ORIGINAL not in body, path
    assert "Delayed webhook deliveries" in pages["/api/v2/incidents.json"]
    # The incident counts as updated when corrected (feed readers and API clients see it).
    summary = json.loads(pages["/api/v2/summary.json"])
    [listed] = [i for i in summary["incidents"] if i["id"] == scenario.open_id]
    assert listed["updated_at"].startswith(clock().strftime("%Y-%m-%dT%H:%M"))
    assert "Delayed webhook deliveries" in pages["/history.atom"]
    shown = run(runtime, f"show {open_no}")
    assert OPEN_ORIGINAL in shown and "[correction]" in shown and FIXED in shown


def test_correction_notify_tells_subscribers_once_more(runtime: Runtime, clock: Clock) -> None:
    scenario = seed(runtime, clock)
    number = _number(runtime, scenario.open_id)
    fanouts = _fanouts(runtime)
    run(runtime, f"correct {number} --notify {FIXED}")
    assert _fanouts(runtime) == fanouts + 1
    with runtime.sessions.begin() as session:
        from bot.subscribers.fanout import load_notice

        row = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == kinds.FANOUT)
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert row is not None
        notice = load_notice(session, runtime.settings, row.payload)
        assert notice is not None and notice.body.startswith(FIXED)
        assert "(corrected " in notice.body


def test_correction_refusals_change_nothing(runtime: Runtime, clock: Clock) -> None:
    scenario = seed(runtime, clock)
    number = _number(runtime, scenario.open_id)
    unpublished = _number(runtime, scenario.unpublished_id)
    internal = _number(runtime, scenario.internal_id)
    resolved = _number(runtime, scenario.resolved_id)
    with pytest.raises(NotAllowed):
        run(runtime, f"correct {number} {FIXED}", actor=member("U0NOBODY"))
    with pytest.raises(HygieneBlocked):
        run(runtime, f"correct {number} We think db-prod-3 at 10.0.0.12 fell over")
    with pytest.raises(FlareError, match="no public update yet"):
        run(runtime, f"correct {unpublished} {FIXED}")
    with pytest.raises(FlareError, match="internal-only"):
        run(runtime, f"correct {internal} {FIXED}")
    with pytest.raises(FlareError, match="5,000"):
        run(runtime, f"correct {number} {'x' * 5001}")
    # After resolution, title and internal point at `correct`.
    for words in (f"title {resolved} New title", f"internal {resolved}"):
        with pytest.raises(FlareError, match="/incident correct"):
            run(runtime, words)
    shown = run(runtime, f"show {number}")
    assert "[correction]" not in shown
    # Hygiene can be overridden, like any public text.
    assert "Corrected" in run(runtime, f"correct {number} We think it is fixed", force=True)
    with runtime.sessions.begin() as session:
        incident = svc.get_incident(session, number)
        assert incident.public_title is None
