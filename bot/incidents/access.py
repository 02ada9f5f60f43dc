"""Who may change what customers see or who is responsible: the responders rule.

Every service that publishes, assigns or changes a level takes an `Actor` and checks it
itself, so the rule holds at every entry point alike (slash command, button, modal, CLI
`--as`, monitoring triage) and a new entry point cannot forget it. Whether a Slack user is
a responder is settled before the transaction opens (a user group is looked up through
Slack, cached), so no service ever waits on the network to decide.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.config import Settings
from bot.errors import NotAllowed

CLI_ACTOR = "cli"
MONITORING_ACTOR = "monitoring"
# Flare acting on its own schedule (maintenance windows opening and closing).
FLARE_ACTOR = "flare"
SYSTEM_ACTORS = (CLI_ACTOR, MONITORING_ACTOR, FLARE_ACTOR)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a Slack user, the operator `cli` or Flare's own `monitoring`.

    `responder` says whether they may publish, resolve, assign and set levels; `why_not`
    explains a "no" that is not about who they are (Slack could not be asked, say).
    """

    id: str
    responder: bool
    who_may: str = ""
    why_not: str = ""

    @property
    def is_person(self) -> bool:
        """A Slack user (DM'd, may command), not the operator or Flare itself."""
        return self.id not in SYSTEM_ACTORS

    def require_responder(self) -> None:
        if self.responder:
            return
        reason = f" {self.why_not}" if self.why_not else ""
        raise NotAllowed(f"Only responders can do that: {self.who_may}.{reason}")


CLI = Actor(CLI_ACTOR, responder=True)
MONITORING = Actor(MONITORING_ACTOR, responder=True)


def who_may(settings: Settings) -> str:
    return ", ".join(
        f"<!subteam^{r}>" if r.startswith("S") else f"<@{r}>" for r in settings.responders
    )


def actor_for(
    settings: Settings,
    user: str,
    *,
    group_members: Collection[str] | None = None,
    why_not: str = "",
) -> Actor:
    """The Actor for a Slack user. `group_members` are the responders' user group's members
    when one is configured and was read; without them, only listed users are responders."""
    if user in SYSTEM_ACTORS:
        raise NotAllowed(f"{user!r} is Flare's own name, not a Slack user.")
    if not settings.responders:
        return Actor(user, responder=True)
    users = {r for r in settings.responders if not r.startswith("S")}
    responder = user in users or (group_members is not None and user in group_members)
    return Actor(user, responder=responder, who_may=who_may(settings), why_not=why_not)
