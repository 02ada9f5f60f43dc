"""Snapshot rebuilds reuse the replay of incidents with no new public update, and the result
is the same as a rebuild from scratch."""

from __future__ import annotations

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
