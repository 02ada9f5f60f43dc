"""Component episodes and what each automation policy does with them.

A component's episode starts when one of its signals has held FLARE_SIGNAL_CONFIRM (Flare's
own clock) and ends when all of its signals have been quiet for FLARE_SIGNAL_RECOVER.
`suggest` posts one triage message per episode (when the page says operational and no human
is in charge) and edits it as the episode evolves; `auto` makes monitoring a holding source
of the one level rule (bot.incidents.levels), recorded with the actor `monitoring`; `off`
only shows the signals on the board. `evaluate` runs after every ingest and on every tick.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot import incidents, outbox
from bot.config import Settings
from bot.db.models import Component, Episode, Signal
from bot.outbox import kinds
from bot.text.status import LEVEL_LABELS, ComponentStatus, worst

ACTING = ("suggest", "auto")
log = logging.getLogger("flare.monitoring")


def open_episodes(session: Session, component_ids: Iterable[str] | None = None) -> list[Episode]:
    query = select(Episode).where(Episode.ended_at.is_(None)).order_by(Episode.id)
    if component_ids is not None:
        query = query.where(Episode.component_id.in_(list(component_ids)))
    return list(session.scalars(query))


# What the tick needs of a signal, read as plain rows (a storm leaves thousands per tick).
SIGNAL_FIELDS = (
    Signal.key,
    Signal.name,
    Signal.level,
    Signal.firing,
    Signal.since,
    Signal.ended_at,
    Signal.summary,
    Signal.id,
    Signal.seen_at,
)


def episode_signals(session: Session, key: str, since: datetime | None) -> list[Any]:
    """The component's signals that fire now or fired during the episode (rows with the
    fields of SIGNAL_FIELDS, oldest first)."""
    query = select(*SIGNAL_FIELDS).where(Signal.component_key == key)
    if since is not None:
        query = query.where(or_(Signal.firing.is_(True), Signal.ended_at >= since))
    else:
        query = query.where(Signal.firing.is_(True))
    return list(session.execute(query.order_by(Signal.since, Signal.id)))


def evaluate(
    session: Session,
    settings: Settings,
    now: datetime,
    keys: Iterable[str] | None = None,
    *,
    skip_locked: bool = False,
) -> list[Episode]:
    """Start, update and end episodes of the components named by `keys` (None = every one
    with a firing signal or an open episode) and apply their policies. `skip_locked` (the
    tick) passes over a component another transaction holds: that one evaluates it."""
    if keys is None:
        keys = active_keys(session)
    # Components whose policy acts, and any with an open episode (to end it once its
    # policy was switched to `off`).
    opened = open_keys(session)
    wanted = sorted(k for k in set(keys) if settings.automation_of(k) in ACTING or k in opened)
    if not wanted:
        return []
    # Locked in id order (the level rule's order): two processes evaluating one component
    # take turns, so an episode is never opened twice.
    query = (
        select(Component)
        .where(Component.key.in_(wanted), Component.hidden.is_(False))
        .order_by(Component.id)
        .with_for_update(of=Component, skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    components = {c.key: c for c in session.scalars(query)}
    episodes = {
        e.component_id: e for e in open_episodes(session, [c.id for c in components.values()])
    }
    touched = []
    for key in wanted:
        component = components.get(key)
        if component is None:
            continue
        try:
            # Each component in a savepoint: one that raises (a bug, a row nobody expected)
            # is logged and skipped, and the others still move. The database failing is
            # not swallowed: the tick is retried.
            with session.begin_nested():
                episode = _step(session, settings, component, episodes.get(component.id), now)
        except OperationalError:
            raise
        except Exception:
            log.exception("monitoring: component %s not evaluated", key)
            continue
        if episode is not None:
            touched.append(episode)
    return touched


def open_keys(session: Session) -> set[str]:
    return set(
        session.scalars(
            select(Component.key)
            .join(Episode, Episode.component_id == Component.id)
            .where(Episode.ended_at.is_(None))
        )
    )


def active_keys(session: Session) -> set[str]:
    """Components with a firing signal or an open episode: the only ones time can move."""
    firing = session.scalars(select(Signal.component_key).where(Signal.firing.is_(True)).distinct())
    return {k for k in firing if k} | open_keys(session)


def _step(
    session: Session,
    settings: Settings,
    component: Component,
    episode: Episode | None,
    now: datetime,
) -> Episode | None:
    policy = settings.automation_of(component.key)
    if episode is not None and policy != episode.policy:
        # The configuration changed under an open episode: `off` ends it; a move between
        # `auto` and `suggest` releases monitoring's hold and goes on under the new policy.
        if episode.holding is not None:
            episode.ended_at = now
            _hold(session, component, episode, now)
            episode.ended_at = None
        episode.policy = policy
        if policy not in ACTING:
            episode.ended_at = now
            return episode
    signals = episode_signals(session, component.key, episode.started_at if episode else None)
    firing = [s for s in signals if s.firing]
    # Measured from when the worker first saw it (bot.monitoring.expiry): one clock.
    confirmed = [
        s
        for s in firing
        if not settings.signal_confirm
        or (s.seen_at is not None and now - s.seen_at >= settings.signal_confirm)
    ]
    if episode is None:
        if not confirmed:
            return None
        episode = Episode(
            component_id=component.id,
            policy=policy,
            level=worst(s.level for s in confirmed) or ComponentStatus.DEGRADED_PERFORMANCE,
            started_at=now,
            triage=False,
            revision=0,
        )
        session.add(episode)
        session.flush()
    elif firing:
        episode.quiet_since = None
        if confirmed:
            episode.level = worst(s.level for s in confirmed) or episode.level
    else:
        ended = [s.ended_at for s in signals if s.ended_at is not None]
        episode.quiet_since = episode.quiet_since or max(ended, default=now)
        if now - episode.quiet_since >= settings.signal_recover:
            episode.ended_at = now
    if episode.policy == "auto":
        _hold(session, component, episode, now)
    else:
        _triage(session, settings, component, episode, signals, now)
    return episode


def _hold(session: Session, component: Component, episode: Episode, now: datetime) -> None:
    """`auto`: monitoring holds the episode's level until it ends; the rule decides."""
    holding = None if episode.ended_at is not None else episode.level
    if holding == episode.holding:
        return
    episode.holding = holding
    session.flush()
    cause = (
        f"monitoring: {LEVEL_LABELS[holding]} from firing signals"
        if holding is not None
        else "monitoring: signals recovered"
    )
    changes = incidents.recompute(
        session, now, actor=incidents.MONITORING_ACTOR, cause=cause, components=[component]
    )
    incidents.announce(session, changes, now)


def _triage(
    session: Session,
    settings: Settings,
    component: Component,
    episode: Episode,
    signals: Sequence[Any],
    now: datetime,
) -> None:
    """`suggest`: one triage message per episode, posted when the page says operational
    and no human is in charge, then edited whenever what it says changes."""
    covered = component.id in incidents.covered_components(session, [component.id])
    if not episode.triage:
        if episode.ended_at is not None or not settings.incidents_channel or covered:
            return
        if component.status != ComponentStatus.OPERATIONAL or _dismissed(session, component, now):
            return
        episode.triage = True
        episode.slack_channel = settings.incidents_channel
    digest = shown_digest(episode, signals, component.status, covered)
    if digest == episode.shown:
        return
    episode.shown = digest
    episode.revision += 1
    outbox.enqueue(
        session,
        key=f"triage:{episode.id}:{episode.revision}",
        kind=kinds.SLACK_TRIAGE,
        now=now,
        payload={"episode_id": episode.id, "revision": episode.revision},
        ordering_key=f"triage:{episode.id}",
    )


def touch_triage(session: Session, episode: Episode, now: datetime) -> None:
    """Edit the triage message after a button changed its episode (dismissed, marked)."""
    if not episode.triage:
        return
    episode.revision += 1
    outbox.enqueue(
        session,
        key=f"triage:{episode.id}:{episode.revision}",
        kind=kinds.SLACK_TRIAGE,
        now=now,
        payload={"episode_id": episode.id, "revision": episode.revision},
        ordering_key=f"triage:{episode.id}",
    )


def _dismissed(session: Session, component: Component, now: datetime) -> bool:
    until = session.scalar(
        select(Episode.dismissed_until)
        .where(Episode.component_id == component.id, Episode.dismissed_until.is_not(None))
        .order_by(Episode.dismissed_until.desc())
        .limit(1)
    )
    return until is not None and until > now


def shown_digest(
    episode: Episode, signals: Sequence[Any], page: ComponentStatus, covered: bool
) -> str:
    """What the triage message says, in short: it is edited only when this changes."""
    parts = [episode.level.value, str(episode.ended_at), str(episode.quiet_since is not None)]
    parts += [page.value, str(covered)]
    parts += sorted(f"{s.key}|{s.level.value}|{s.firing}" for s in signals)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
