"""Snapshot rebuilds reuse the replay of incidents with no new public update, and the result
is the same as a rebuild from scratch."""

from __future__ import annotations

from sqlalchemy import select

from bot import incidents as svc
from bot.db.engine import read_only
from bot.runtime import Runtime
from bot.text.status import ComponentStatus
from tests.conftest import Clock
from tests.support.factories import make_incident, responder
from web.public import loading as views


def _load(runtime: Runtime, clock: Clock, cache: views.ReplayCache | None) -> views.PageData:
    with read_only(runtime.sessions) as session:
        return views.load(session, runtime.settings, clock(), cache)


def test_public_replays_match_a_rebuild_from_scratch(runtime: Runtime, clock: Clock):
    cache = views.ReplayCache()
    with runtime.sessions.begin() as session:
        first = make_incident(session, runtime.settings, clock(), public=True)
        make_incident(session, runtime.settings, clock(), title="Second", public=True)
    assert _load(runtime, clock, cache).incidents == _load(runtime, clock, None).incidents
    kept = dict(cache.entries)
    clock.advance(minutes=5)
    with runtime.sessions.begin() as session:
        svc.publish_update(
            session,
            runtime.settings,
            svc.get_incident(session, 1),
            message="Fix deployed.",
            actor=responder("U1"),
            now=clock(),
            components={"api": ComponentStatus.PARTIAL_OUTAGE},
        )
        svc.add_note(
            session, svc.get_incident(session, 2), text="secret", actor=responder("U1"), now=clock()
        )
    cached = _load(runtime, clock, cache)
    assert cached.incidents == _load(runtime, clock, None).incidents
    assert cache.entries[first.id] != kept[first.id]  # replayed: it has a new public update
    assert [i for i in cache.entries if cache.entries[i] == kept[i]] == [
        i for i in kept if i != first.id
    ]  # the other one was reused (a note is not public)
    assert cached.find(first.public_id).updates[0].body == "Fix deployed."  # type: ignore[union-attr]
    with runtime.sessions.begin() as session:
        svc.mark_internal(session, svc.get_incident(session, 1), actor=responder("U1"), now=clock())
    hidden = _load(runtime, clock, cache)
    assert hidden.find(first.public_id) is None and first.id not in cache.entries


def test_public_snapshot_is_rebuilt_when_the_day_turns_without_new_data(
    runtime: Runtime, clock: Clock
):
    import asyncio

    from web.public.site import PublicSite

    site = PublicSite(runtime)

    async def scenario() -> list[bool]:
        await site.refresh(force=True)
        same_day = await site.refresh()
        clock.advance(hours=11)  # 14:00 → 01:00 the next day; nothing changed in the data
        next_day = await site.refresh()
        return [same_day, next_day]

    assert asyncio.run(scenario()) == [False, True]
    assert site.snapshot is not None and site.snapshot.data.now == clock()


def test_public_replays_a_component_removed_later_does_not_rewrite_history(
    runtime: Runtime, clock: Clock
):
    """Removing a component from flare.toml hides it; what customers were told stays true,
    and the page, the API and subscriber notices name the incident alike."""
    from dataclasses import replace

    from bot.db.models import TimelineEvent
    from bot.subscribers.notices import incident_notice
    from bot.text.status import EventKind

    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, clock())
        svc.publish_update(
            session,
            runtime.settings,
            incident,
            message="Webhooks are down, the API is slow.",
            actor=responder("U1"),
            now=clock(),
            components={
                "api": ComponentStatus.DEGRADED_PERFORMANCE,
                "webhooks": ComponentStatus.MAJOR_OUTAGE,
            },
        )
        svc.resolve(session, runtime.settings, incident, actor=responder("U1"), now=clock())
        public_id = incident.public_id
    before = _load(runtime, clock, None).find(public_id)
    assert before is not None and before.name == "Major outage: API, Webhooks"
    smaller = replace(
        runtime.settings,
        components=tuple(c for c in runtime.settings.components if c.key != "webhooks"),
    )
    with runtime.sessions.begin() as session:
        svc.sync_components(session, smaller, clock())
    after = _load(runtime, clock, None).find(public_id)
    assert after is not None and after.name == before.name
    assert [c.name for c in after.components] == ["API"]
    with runtime.sessions.begin() as session:
        first = session.scalars(
            select(TimelineEvent.id).where(TimelineEvent.kind == EventKind.PUBLIC_UPDATE)
        ).first()
        assert first is not None
        notice = incident_notice(session, runtime.settings, first)
    assert notice is not None and notice.name == after.name
    assert [c.name for c in notice.components] == ["API"]
