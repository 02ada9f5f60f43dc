"""Execute a parsed `/incident` command: one implementation for Slack and the CLI.

The caller owns the transaction and settles who the actor is (`bot.incidents.Actor`) before
it opens; the reply is formatted through a `Style` so Slack gets mentions and mrkdwn escaping
while the terminal gets plain text.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.commands import context as _context  # noqa: F401
from bot.commands import incident, page  # noqa: F401  (they register their handlers)
from bot.commands import monitoring as _monitoring  # noqa: F401  (registers its handlers)
from bot.commands import records as _records  # noqa: F401  (registers its handlers)
from bot.commands.base import HANDLERS, Context, Reply, Style
from bot.config import Settings
from bot.errors import InvalidInput
from bot.incidents import Actor
from bot.text.grammar import Command


def checks_responder(name: str) -> bool:
    """Whether the sub-command may need to know if the actor is a responder."""
    registration = HANDLERS.get(name)
    return registration is not None and registration.checks_responder


def reads_only(name: str) -> bool:
    """Whether the sub-command only reads (run it in a read-only session)."""
    registration = HANDLERS.get(name)
    return registration is not None and registration.reads_only


def execute(
    session: Session,
    settings: Settings,
    command: Command,
    *,
    actor: Actor,
    now: datetime,
    style: Style,
    force: bool = False,
    next_in: timedelta | None = None,
    event_id: int | None = None,
) -> Reply:
    """Run one command inside the caller's transaction. Raises FlareError on refusal."""
    registration = HANDLERS.get(command.name)
    if registration is None:
        raise InvalidInput(f"Unknown command {command.name!r}.")
    context = Context(
        session, settings, actor, now, style, force=force, next_in=next_in, event_id=event_id
    )
    try:
        return registration.run(context, command)
    except OverflowError as error:  # a date pushed past datetime's range: bad input, no 500
        raise InvalidInput("That date or duration is out of range; nothing changed.") from error
