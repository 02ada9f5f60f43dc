"""Who may change what customers see or who is responsible (the responders rule)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import Settings
from bot.errors import NotAllowed

CLI_ACTOR = "cli"


def require_responder(
    actor: str, settings: Settings, group_members: Sequence[str] | None = None
) -> None:
    """Only responders may change what customers see or who is responsible."""
    if actor == CLI_ACTOR or not settings.responders:
        return
    users = {r for r in settings.responders if r.startswith(("U", "W"))}
    if actor in users or (group_members is not None and actor in group_members):
        return
    who = ", ".join(
        f"<!subteam^{r}>" if r.startswith("S") else f"<@{r}>" for r in settings.responders
    )
    raise NotAllowed(f"Only responders can do that: {who}.")
