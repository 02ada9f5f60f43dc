"""Who counts as a responder: FLARE_RESPONDERS users, plus one user group resolved through
Slack and cached for a few minutes. Settled before a listener's transaction opens, so no
service waits on Slack; a slow Slack never holds an acknowledgement for long."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.incidents import Actor, actor_for

CACHE_SECONDS = 300.0
# While Slack cannot be asked, the last list read is used for at most this long.
STALE_SECONDS = 3600.0
LOOKUP_TIMEOUT = 1


class ResponderDirectory:
    def __init__(
        self,
        settings: Settings,
        *,
        client: WebClient | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.group = next((r for r in settings.responders if r.startswith("S")), None)
        self.client = client or WebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            timeout=LOOKUP_TIMEOUT,
            retry_handlers=[],
        )
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._members: tuple[str, ...] | None = None
        self._fetched = 0.0

    def actor(self, user: str, *, needed: bool = True) -> Actor:
        """The Actor for a Slack user. With `needed` False (a sub-command that never checks),
        the user group is not read: the actor counts as a responder only if listed by ID."""
        if self.group is None or user in self.settings.responders or not needed:
            return actor_for(self.settings, user)
        with self._lock:
            fresh = self._monotonic() - self._fetched < CACHE_SECONDS
            if self._members is not None and fresh:
                return actor_for(self.settings, user, group_members=self._members)
        try:
            response = self.client.usergroups_users_list(usergroup=self.group)
            members = tuple(str(u) for u in response.get("users") or [])
        except (SlackApiError, OSError) as error:
            with self._lock:  # a recent list beats refusing everyone; an old one is not trusted
                recent = self._monotonic() - self._fetched < STALE_SECONDS
                stale = self._members if recent else None
            if stale is not None:
                return actor_for(self.settings, user, group_members=stale)
            why = (
                f"I could not reach Slack to check who is in <!subteam^{self.group}> "
                f"({type(error).__name__}). Try again in a moment."
            )
            return actor_for(self.settings, user, why_not=why)
        with self._lock:
            self._members, self._fetched = members, self._monotonic()
        return actor_for(self.settings, user, group_members=members)
