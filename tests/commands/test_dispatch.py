"""Commands executed for Slack and the CLI alike: permissions and replies."""

from __future__ import annotations

import pytest

from bot.commands import PlainStyle, execute
from bot.errors import NotAllowed
from bot.incidents import CLI, actor_for
from bot.runtime import Runtime
from bot.text.grammar import parse
from tests.conftest import Clock, with_settings
from tests.support.factories import make_incident


def _run(runtime: Runtime, clock: Clock, text: str, actor: str) -> str:
    with runtime.sessions.begin() as session:
        command = parse(text, runtime.settings.component_keys())
        who = CLI if actor == "cli" else actor_for(runtime.settings, actor)
        reply = execute(
            session, runtime.settings, command, actor=who, now=clock(), style=PlainStyle()
        )
    return reply.text


def test_operations_snooze_by_recipient_or_responder_only(runtime: Runtime, clock: Clock):
    gated = with_settings(runtime, responders=("U0RESP",))
    with gated.sessions.begin() as session:
        make_incident(session, gated.settings, clock(), actor="U0CMDR", owner_id="U0OWNER")
    assert "snoozed" in _run(gated, clock, "snooze 1 5", "U0OWNER")
    assert "snoozed" in _run(gated, clock, "snooze 1 5", "U0CMDR")
    assert "snoozed" in _run(gated, clock, "snooze 1 5", "U0RESP")
    with pytest.raises(NotAllowed, match="<@U0RESP>"):
        _run(gated, clock, "snooze 1 5", "U0STRANGER")


def test_operations_responder_only_commands_refuse_others(runtime: Runtime, clock: Clock):
    gated = with_settings(runtime, responders=("U0RESP",))
    with gated.sessions.begin() as session:
        make_incident(session, gated.settings, clock())
    for text in [
        "update 1 Looking",
        "resolve 1",
        "title 1 Checkout",
        "internal 1",
        "sev 1 sev1",
        "owner 1 U0X",
        "commander 1 U0X",
        "component api major",
        "maintenance 2026-12-01T02:00Z 1h Upgrade",
    ]:
        with pytest.raises(NotAllowed):
            _run(gated, clock, text, "U0STRANGER")
    assert "Internal note added" in _run(gated, clock, "note 1 anyone may note", "U0STRANGER")
    assert "INC-1" in _run(gated, clock, "list", "U0STRANGER")
