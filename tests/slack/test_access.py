"""Who may change what customers see: every slash sub-command, button and modal, for a
responder and for someone who is not; a refusal changes nothing and sends nothing.

With FLARE_RESPONDERS set, anyone may declare (an internal incident), note, list and show;
everything that publishes, assigns or sets a level is a responder's. Snooze is also open to
the reminder's recipient. The table below is the rule; the test drives each entry point
exactly as Slack sends it and compares the database and the fake Slack before and after.
"""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import incidents as svc
from bot.db.models import (
    Component,
    Incident,
    IncidentComponent,
    Maintenance,
    OutboxMessage,
    Promise,
    Signal,
    TimelineEvent,
)
from bot.outbox import kinds
from bot.slack.ids import BUTTONS, MODALS, SlackId
from bot.text.grammar import USAGE
from bot.text.status import ComponentStatus
from tests.support.slackutil import (  # noqa: F401
    BOB,
    CAROL,
    Slack,
    fake,
    multi_value,
    select_value,
    slack,
    text_value,
    user_value,
)

RESPONDER = BOB
OTHER = CAROL
COMMANDER = "U0DAVE001"
# Sent to the person who clicked or typed, not to anyone else: not a change.
PRIVATE = {"views.open", "views.update", "views.push", "response_url"}


@dataclass(frozen=True)
class Entry:
    name: str
    rule: str  # "anyone" | "responder" | "recipient or responder"
    run: Callable[[Slack, str], Any]


def _modal(slack: Slack, user: str, callback: SlackId, meta: str, values: dict) -> Any:
    view = {"id": f"V{uuid.uuid4().hex[:8]}", "hash": "h", "callback_id": callback.value}
    return slack.submit({**view, "private_metadata": meta}, values, user=user)


def _declare_form(**extra: dict) -> dict:
    values = {
        "title": text_value("Login broken"),
        "severity": select_value("sev2"),
        "components": multi_value(),
        "level": select_value("partial_outage"),
        "commander": user_value(None),
        "owner": user_value(None),
        "public_title": text_value(None),
        "message": text_value(None),
        "force": multi_value(),
    }
    return {**values, **extra}


def _update_form() -> dict:
    return {
        "status": select_value("identified"),
        "component:api": select_value("major_outage"),
        "message": text_value("We have found the cause."),
        "next_in": select_value("10"),
        "public_title": text_value("Checkout problems"),
        "force": multi_value(),
    }


def _pending(slack: Slack) -> str:
    """A public update held back by hygiene (by a responder): its "Publish anyway" token."""
    answer = slack.command("update 1 We think db-prod-3 is down", user=RESPONDER)
    [actions] = [b for b in answer["blocks"] if b["type"] == "actions"]
    return str(actions["elements"][-1]["value"])


def _episode(slack: Slack) -> str:
    """A monitoring episode on webhooks: what the triage message's buttons act on."""
    from bot.db.models import Episode

    with slack.runtime.sessions.begin() as session:
        component = session.scalars(select(Component).where(Component.key == "webhooks")).one()
        episode = Episode(
            component_id=component.id,
            policy="suggest",
            level=ComponentStatus.MAJOR_OUTAGE,
            started_at=slack.clock(),
            triage=False,
            revision=0,
        )
        session.add(episode)
        session.flush()
        return str(episode.id)


def _signal(slack: Slack) -> str:
    """A firing monitoring signal: what `signals clear` ends."""
    with slack.runtime.sessions.begin() as session:
        now = slack.clock()
        signal = Signal(
            key="alert:alertmanager:webhooks:x1",
            source="alertmanager",
            name="Stuck",
            component_key="webhooks",
            level=ComponentStatus.MAJOR_OUTAGE,
            labels={},
            firing=True,
            since=now,
            updated_at=now,
        )
        session.add(signal)
        session.flush()
        return str(signal.id)


COMMANDS: dict[str, tuple[str, str]] = {
    "help": ("help", "anyone"),
    "declare": ("declare sev2 Login broken", "anyone"),
    "list": ("list", "anyone"),
    "show": ("show 1", "anyone"),
    "update": ("update 1 identified api=major We have found the cause.", "responder"),
    "note": ("note 1 Rolled back", "anyone"),
    "commander": ("commander 1 <@U0EVE0001|eve>", "responder"),
    "owner": ("owner 1 <@U0EVE0001|eve>", "responder"),
    "sev": ("sev 1 sev1", "responder"),
    "resolve": ("resolve 1", "responder"),
    "title": ("title 1 Checkout problems", "responder"),
    "internal": ("internal 1", "responder"),
    "component": ("component webhooks major", "responder"),
    "subscribers": ("subscribers", "anyone"),
    "snooze": ("snooze 1 5", "recipient or responder"),
    "maintenance": ("maintenance 2026-12-01T02:00Z 2h api DB upgrade", "responder"),
    "correct": ("correct 1 We are investigating failed card payments.", "responder"),
    "postmortem": ("postmortem 1", "anyone"),
    "stats": ("stats 30d", "anyone"),
    "signals": ("signals", "anyone"),
}
COMMANDS["changes"] = ("changes 4h", "anyone")
COMMANDS["oncall"] = ("oncall", "anyone")


def _command(text: str) -> Callable[[Slack, str], Any]:
    """A slash command entry that keeps its own text (a lambda in the loop would share one)."""
    return lambda slack, user: slack.command(text, user=user)


ENTRIES = [
    *(Entry(f"/incident {name}", rule, _command(text)) for name, (text, rule) in COMMANDS.items()),
    # Buttons that only open a form: the form's submission is what is checked.
    Entry("button declare_open", "anyone", lambda s, u: s.click("declare_open", "board", user=u)),
    Entry("button post_update", "anyone", lambda s, u: s.click("post_update", "1", user=u)),
    Entry("button add_note", "anyone", lambda s, u: s.click("add_note", "1", user=u)),
    Entry("button resolve", "anyone", lambda s, u: s.click("resolve", "1", user=u)),
    Entry("button edit_update", "anyone", lambda s, u: s.click("edit_update", _pending(s), user=u)),
    Entry("button correct_update", "anyone", lambda s, u: s.click("correct_update", "1", user=u)),
    Entry("button nothing_new", "responder", lambda s, u: s.click("nothing_new", "1", user=u)),
    Entry("button snooze", "recipient or responder", lambda s, u: s.click("snooze", "1", user=u)),
    Entry(
        "button publish_anyway",
        "responder",
        lambda s, u: s.click("publish_anyway", _pending(s), user=u),
    ),
    Entry(
        "/incident signals clear",
        "responder",
        lambda s, u: s.command("signals clear 1", user=u),  # _prepare's signal
    ),
    Entry(
        "button triage_declare",
        "anyone",
        lambda s, u: s.click("triage_declare", _episode(s), user=u),
    ),
    Entry(
        "button triage_mark",
        "responder",
        lambda s, u: s.click("triage_mark", f"{_episode(s)}:major_outage", user=u),
    ),
    Entry(
        "button triage_dismiss",
        "anyone",
        lambda s, u: s.click("triage_dismiss", _episode(s), user=u),
    ),
    Entry(
        "modal declare (internal)",
        "anyone",
        lambda s, u: _modal(s, u, SlackId.DECLARE_MODAL, "", _declare_form()),
    ),
    Entry(
        "modal declare with a public message and components",
        "responder",
        lambda s, u: _modal(
            s,
            u,
            SlackId.DECLARE_MODAL,
            "",
            _declare_form(
                message=text_value("Logins fail."), components=multi_value("api", "dashboard")
            ),
        ),
    ),
    Entry(
        "modal declare with a public title",
        "responder",
        lambda s, u: _modal(
            s, u, SlackId.DECLARE_MODAL, "", _declare_form(public_title=text_value("Logins"))
        ),
    ),
    Entry(
        "modal declare with roles",
        "responder",
        lambda s, u: _modal(
            s,
            u,
            SlackId.DECLARE_MODAL,
            "",
            _declare_form(owner=user_value("U0EVE0001"), commander=user_value("U0EVE0001")),
        ),
    ),
    Entry(
        "modal update",
        "responder",
        lambda s, u: _modal(s, u, SlackId.UPDATE_MODAL, "1", _update_form()),
    ),
    Entry(
        "modal note",
        "anyone",
        lambda s, u: _modal(
            s, u, SlackId.NOTE_MODAL, "1", {"note": text_value("Anyone may note this.")}
        ),
    ),
    Entry(
        "modal correct",
        "responder",
        lambda s, u: _modal(
            s,
            u,
            SlackId.CORRECT_MODAL,
            "1",
            {
                "message": text_value("We are investigating failed card payments."),
                "notify": multi_value("notify"),
                "force": multi_value(),
            },
        ),
    ),
    Entry(
        "modal resolve",
        "responder",
        lambda s, u: _modal(
            s,
            u,
            SlackId.RESOLVE_MODAL,
            "1",
            {"message": text_value("This incident has been resolved."), "force": multi_value()},
        ),
    ),
]


def test_access_table_covers_every_entry_point():
    names = {e.name.split()[1] for e in ENTRIES if e.name.startswith("/incident")}
    assert names == set(USAGE)
    buttons = {e.name.split()[1] for e in ENTRIES if e.name.startswith("button")}
    assert buttons == {b.value for b in BUTTONS}
    modals = {e.name.split()[1] + "_modal" for e in ENTRIES if e.name.startswith("modal")}
    assert modals == {m.value for m in MODALS}


def _state(session: Session) -> dict[str, object]:
    """Everything a refused action must leave as it was (answers to the actor excepted)."""
    return {
        "incidents": session.execute(
            select(
                Incident.number,
                Incident.status,
                Incident.severity,
                Incident.commander_id,
                Incident.owner_id,
                Incident.public_title,
                Incident.internal_only,
                Incident.published_at,
                Incident.next_update_due,
                Incident.reminder_due,
                Incident.snoozed_until,
            ).order_by(Incident.number)
        ).all(),
        "levels": session.execute(
            select(Component.key, Component.status, Component.manual_status).order_by(Component.key)
        ).all(),
        "incident levels": session.execute(
            select(IncidentComponent.component_id, IncidentComponent.status).order_by(
                IncidentComponent.component_id
            )
        ).all(),
        "events": session.scalar(select(func.count()).select_from(TimelineEvent)),
        "promises": session.scalar(select(func.count()).select_from(Promise)),
        "maintenance": session.scalar(select(func.count()).select_from(Maintenance)),
        "signals": session.execute(select(Signal.key, Signal.firing).order_by(Signal.key)).all(),
        "outbox": session.scalars(
            select(OutboxMessage.key)
            .where(OutboxMessage.kind != kinds.SLACK_RESPOND)
            .order_by(OutboxMessage.id)
        ).all(),
    }


def _sent(slack: Slack) -> list[str]:
    """What Slack was asked to do in channels and DMs (forms opened for the actor aside)."""
    return [c.method for c in slack.fake.calls if c.method not in PRIVATE]


def _prepare(slack: Slack) -> None:
    slack.reconfigure(responders=(RESPONDER,))
    with slack.runtime.sessions.begin() as session:
        incident, _ = svc.declare(
            session,
            slack.runtime.settings,
            title="Checkout errors",
            actor=svc.CLI,
            now=slack.clock(),
            commander=COMMANDER,
        )
        svc.publish_update(
            session,
            slack.runtime.settings,
            incident,
            message="We are investigating failed checkouts.",
            actor=svc.CLI,
            now=slack.clock(),
            components={"api": ComponentStatus.PARTIAL_OUTAGE},
        )
    _signal(slack)
    slack.flush()


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
@pytest.mark.parametrize("who", ["responder", "not a responder"])
def test_access_every_entry_point(slack: Slack, entry: Entry, who: str):
    _prepare(slack)
    user = RESPONDER if who == "responder" else OTHER
    allowed = entry.rule == "anyone" or who == "responder"
    if entry.name == "button publish_anyway" or entry.name == "button edit_update":
        _pending(slack)  # a responder's held-back update exists before the click
        slack.flush()
    with slack.runtime.sessions.begin() as session:
        before = _state(session)
    slack.fake.reset_calls()
    result = entry.run(slack, user)
    slack.flush()
    with slack.runtime.sessions.begin() as session:
        after = _state(session)
    answers = json.dumps(result) + json.dumps(slack.fake.responses)
    if allowed:
        assert "Only responders" not in answers, entry.name
    else:
        assert "Only responders can do that" in answers, entry.name
        assert after == before, entry.name
        assert _sent(slack) == [], entry.name


def test_access_the_reminders_recipient_may_snooze(slack: Slack):
    _prepare(slack)
    slack.command("snooze 1 5", user=COMMANDER)
    with slack.runtime.sessions.begin() as session:
        assert svc.get_incident(session, 1).snoozed_until is not None


def test_access_refusal_names_who_may(slack: Slack):
    _prepare(slack)
    answer = slack.command("resolve 1", user=OTHER)
    assert f"Only responders can do that: <@{RESPONDER}>" in answer["text"]
