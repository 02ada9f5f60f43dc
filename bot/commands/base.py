"""What every `/incident` sub-command gets and gives back, and the registry of handlers.

A handler is one function per sub-command, registered with `@handles(name)`; it runs inside
the caller's transaction with a `Context` and returns a `Reply`. Slack and the CLI call the
same handlers through `bot.commands.execute`, so the words, the checks and the answers are
the same everywhere. Who may do what is checked by the services themselves (they take the
`Actor`), not here, so no entry point can skip it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Incident, TimelineEvent
from bot.incidents import Actor
from bot.text import times
from bot.text.grammar import Command


class Style(Protocol):
    def user(self, user_id: str | None) -> str: ...
    def text(self, value: str) -> str: ...
    def data(self, value: str) -> str: ...
    def time(self, value: datetime) -> str: ...


class PlainStyle:
    """For the terminal: user IDs as they are, times in UTC."""

    def user(self, user_id: str | None) -> str:
        return user_id or "nobody"

    def text(self, value: str) -> str:
        return value

    def data(self, value: str) -> str:
        return value

    def time(self, value: datetime) -> str:
        return times.full(value)


@dataclass
class Reply:
    text: str
    incident: Incident | None = None
    created: bool = False
    open_modal: str | None = None
    events: list[TimelineEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    session: Session
    settings: Settings
    actor: Actor
    now: datetime
    style: Style
    force: bool = False
    next_in: timedelta | None = None
    # The public update a correction was started on (publish anyway keeps to it).
    event_id: int | None = None


Handler = Callable[[Context, Command], Reply]


@dataclass(frozen=True)
class Registration:
    run: Handler
    # Whether the handler may need to know if the actor is a responder: entry points then
    # settle it (a Slack user group is read through Slack) before the transaction opens.
    checks_responder: bool
    # Reads only: entry points run it in a read-only session, before any write (a Slack
    # command's dedupe row), so a long read never holds the write lock.
    reads_only: bool = False


HANDLERS: dict[str, Registration] = {}


def handles(
    *names: str, checks_responder: bool = False, reads_only: bool = False
) -> Callable[[Handler], Handler]:
    def register(run: Handler) -> Handler:
        for name in names:
            assert name not in HANDLERS, f"two handlers for {name!r}"
            HANDLERS[name] = Registration(run, checks_responder, reads_only)
        return run

    return register
