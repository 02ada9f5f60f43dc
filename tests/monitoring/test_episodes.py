"""Episodes and policies end to end through the hook, the tick and the fake Slack:
`suggest` posts one triage message per episode and edits it; `auto` moves the public level
through the one level rule (actor `monitoring`) and stands aside while a human is in charge;
`off` only shows."""

# ruff: noqa: F811

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Component, ComponentStatusChange, Episode
from bot.text.status import ComponentStatus
from tests.monitoring.harness import Monitored, fake, mon, slack  # noqa: F401
from tests.monitoring.support import alert, payload
from tests.support.guards import no_outside_calls_in_transactions  # noqa: F401
from tests.support.slackutil import ALICE, BOB


def level(mon: Monitored, key: str) -> ComponentStatus:
    with mon.runtime.sessions.begin() as session:
        component = session.scalars(select(Component).where(Component.key == key)).one()
        return component.status


def episodes(mon: Monitored) -> list[Episode]:
    with mon.runtime.sessions.begin() as session:
        rows = list(session.scalars(select(Episode).order_by(Episode.id)))
        session.expunge_all()
        return rows


def test_suggest_waits_for_confirm_then_posts_one_triage_message(mon: Monitored):
    mon.send(
        payload(alert("HighErrorRate", fingerprint="f1", component="api", severity="critical"))
    )
    mon.tick(seconds=60)
    assert mon.triage() == []  # held 1 min of the 2 min confirm: nothing yet
    mon.tick(seconds=61)
    [message] = mon.triage()
    assert "*API*" in message.text and "Major outage" in message.text
    assert "The page says *Operational*" in message.text
    buttons = [
        e["action_id"]
        for b in message.blocks or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert buttons == ["triage_declare", "triage_mark", "triage_dismiss"]
    assert level(mon, "api") == ComponentStatus.OPERATIONAL  # suggest never publishes


def test_suggest_edits_the_one_message_as_the_episode_evolves_and_recovers(mon: Monitored):
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.tick(minutes=3)
    mon.send(payload(alert("CheckoutLatency", fingerprint="f2", job="checkout")))
    mon.tick(seconds=5)
    [message] = mon.triage()
    assert "CheckoutLatency" in str(message.blocks)
    assert mon.slack.fake.calls_to("chat.update")
    mon.send(
        payload(
            alert("HighErrorRate", "resolved", fingerprint="f1", component="api"),
            alert("CheckoutLatency", "resolved", fingerprint="f2", job="checkout"),
        )
    )
    mon.tick(minutes=4)
    assert episodes(mon)[0].ended_at is None  # quiet 4 of the 5 min recover
    mon.tick(minutes=2)
    [message] = mon.triage()
    assert "recovered at 14:0" in message.text and "nothing was published" in message.text
    assert not [b for b in message.blocks or [] if b["type"] == "actions"]
    # A later firing is a new episode, with its own message.
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.tick(minutes=3)
    assert len(mon.triage()) == 2
    assert len(episodes(mon)) == 2


def test_suggest_posts_nothing_while_an_incident_covers_the_component(mon: Monitored):
    mon.slack.command("declare sev2 API errors")
    mon.slack.command("update 1 api=partial We are looking into errors")
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.tick(minutes=3)
    assert mon.triage() == []


def test_auto_follows_the_signal_and_returns_recorded_as_monitoring(mon: Monitored):
    mon.send(payload(alert("DashDown", fingerprint="d1", service="dashboard", severity="page")))
    mon.tick(seconds=30)
    assert level(mon, "dashboard") == ComponentStatus.OPERATIONAL
    mon.tick(minutes=2)
    assert level(mon, "dashboard") == ComponentStatus.MAJOR_OUTAGE
    mon.send(payload(alert("DashDown", "resolved", fingerprint="d1", service="dashboard")))
    mon.tick(minutes=4)
    assert level(mon, "dashboard") == ComponentStatus.MAJOR_OUTAGE  # not yet recovered
    mon.tick(minutes=2)
    assert level(mon, "dashboard") == ComponentStatus.OPERATIONAL
    with mon.runtime.sessions.begin() as session:
        changes = session.execute(
            select(ComponentStatusChange.status, ComponentStatusChange.actor)
            .where(ComponentStatusChange.previous.is_not(None))
            .order_by(ComponentStatusChange.id)
        ).all()
    assert changes == [
        (ComponentStatus.MAJOR_OUTAGE, "monitoring"),
        (ComponentStatus.OPERATIONAL, "monitoring"),
    ]
    posts = [m.text for m in mon.slack.channel() if "Dashboard" in m.text and "page" in m.text]
    assert len(posts) == 2  # each automated change posted to #incidents


def test_auto_stands_aside_while_an_incident_covers_and_returns_after(mon: Monitored):
    mon.send(payload(alert("DashDown", fingerprint="d1", service="dashboard", severity="page")))
    mon.tick(minutes=3)
    assert level(mon, "dashboard") == ComponentStatus.MAJOR_OUTAGE
    mon.slack.command("declare sev2 Dashboard slow")
    mon.slack.command("update 1 dashboard=degraded We are looking into slowness")
    assert level(mon, "dashboard") == ComponentStatus.DEGRADED_PERFORMANCE  # a human decides
    mon.slack.command("resolve 1")
    mon.tick(seconds=5)
    assert level(mon, "dashboard") == ComponentStatus.MAJOR_OUTAGE  # still firing: back


def test_off_only_shows(mon: Monitored):
    mon.send(payload(alert("HookLag", fingerprint="w1", component="webhooks", severity="page")))
    mon.tick(minutes=10)
    assert episodes(mon) == []
    assert mon.triage() == []
    assert level(mon, "webhooks") == ComponentStatus.OPERATIONAL


def test_mark_is_for_responders_only(mon: Monitored):
    mon.reconfigure(responders=(ALICE,))
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api", severity="high")))
    mon.tick(minutes=3)
    episode = episodes(mon)[0]
    key = mon.slack.click("triage_mark", f"{episode.id}:partial_outage", user=BOB)
    mon.slack.flush()
    assert "Only responders" in mon.slack.responses(key)[0]["text"]
    assert level(mon, "api") == ComponentStatus.OPERATIONAL
    key = mon.slack.click("triage_mark", f"{episode.id}:partial_outage", user=ALICE)
    mon.slack.flush()
    assert level(mon, "api") == ComponentStatus.PARTIAL_OUTAGE
    [message] = mon.triage()
    assert f"Marked on the page by <@{ALICE}>" in str(message.blocks)


def test_dismiss_quiets_the_component_for_an_hour(mon: Monitored):
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.tick(minutes=3)
    mon.slack.click("triage_dismiss", str(episodes(mon)[0].id), user=BOB)
    mon.slack.flush()
    assert f"Dismissed by <@{BOB}>" in str(mon.triage()[0].blocks)
    mon.send(payload(alert("HighErrorRate", "resolved", fingerprint="f1", component="api")))
    mon.tick(minutes=6)
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.tick(minutes=3)
    assert len(episodes(mon)) == 2
    assert len(mon.triage()) == 1  # the second episode, within the hour, posts nothing


def test_declare_button_opens_the_form_prefilled(mon: Monitored):
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api", severity="high")))
    mon.tick(minutes=3)
    mon.slack.click("triage_declare", str(episodes(mon)[0].id))
    view = mon.slack.opened_view()
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id["title"]["element"]["initial_value"] == "API: HighErrorRate"
    assert [o["value"] for o in by_id["components"]["element"]["initial_options"]] == ["api"]
    assert by_id["level"]["element"]["initial_option"]["value"] == "partial_outage"
    assert "partial outage affecting API" in by_id["message"]["element"]["initial_value"]


def test_edits_queued_while_slack_lags_coalesce_into_the_latest(mon: Monitored):
    mon.send(payload(alert("A0", fingerprint="f0", component="api")))
    mon.slack.clock.advance(minutes=3)
    for n in range(1, 5):  # four more alerts, each seen by a tick, nothing sent meanwhile
        with mon.runtime.sessions.begin() as session:
            from bot import monitoring

            monitoring.sweep(session, mon.runtime.settings, mon.runtime.now())
        mon.send(payload(alert(f"A{n}", fingerprint=f"f{n}", component="api")))
        mon.slack.clock.advance(seconds=5)
    mon.tick(seconds=5)
    [message] = mon.triage()
    assert all(f"A{n}" in str(message.blocks) for n in range(5))
    assert len(mon.slack.fake.calls_to("chat.update")) <= 2  # the latest, not one per revision


def test_switching_a_component_off_ends_its_episode_and_releases_the_level(mon: Monitored):
    from dataclasses import replace

    from bot.config import ComponentConfig

    mon.send(payload(alert("DashDown", fingerprint="d1", service="dashboard", severity="page")))
    mon.tick(minutes=3)
    assert level(mon, "dashboard") == ComponentStatus.MAJOR_OUTAGE
    components = tuple(
        replace(c, automation="off") if c.key == "dashboard" else c
        for c in mon.runtime.settings.components
    )
    assert all(isinstance(c, ComponentConfig) for c in components)
    mon.reconfigure(components=components)
    mon.tick(seconds=5)
    assert level(mon, "dashboard") == ComponentStatus.OPERATIONAL
    assert episodes(mon)[0].ended_at is not None


def test_no_outside_call_inside_a_transaction_through_the_whole_flow(
    mon: Monitored, no_outside_calls_in_transactions
):
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.send(payload(alert("DashDown", fingerprint="d1", service="dashboard")))
    mon.tick(minutes=3)
    mon.slack.click("triage_dismiss", str(episodes(mon)[0].id))
    mon.send(payload(alert("HighErrorRate", "resolved", fingerprint="f1", component="api")))
    mon.tick(minutes=6)
    assert mon.triage()
    assert no_outside_calls_in_transactions.calls > 0  # Slack was called, outside them


def test_the_message_says_when_an_incident_takes_over(mon: Monitored):
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.tick(minutes=3)
    mon.slack.command("declare sev2 API errors")
    mon.slack.command("update 1 api=partial We are looking into errors")
    mon.tick(seconds=5)
    [message] = mon.triage()
    assert "INC-1 covers it now." in message.text
    assert "The page says *Partial outage*" in message.text


def test_declaring_from_the_prefilled_form_publishes_and_takes_over(mon: Monitored):
    from tests.support.slackutil import multi_value, select_value, text_value, user_value

    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api", severity="high")))
    mon.tick(minutes=3)
    mon.slack.click("triage_declare", str(episodes(mon)[0].id))
    view = mon.slack.opened_view()
    initial = {b["block_id"]: b["element"] for b in view["blocks"] if b.get("block_id")}
    mon.slack.submit(
        view,
        {
            "title": text_value(initial["title"]["initial_value"]),
            "severity": select_value("sev2"),
            "components": multi_value("api"),
            "level": select_value(initial["level"]["initial_option"]["value"]),
            "commander": user_value(None),
            "owner": user_value(None),
            "public_title": text_value(initial["public_title"]["initial_value"]),
            "message": text_value(initial["message"]["initial_value"]),
            "force": multi_value(),
        },
    )
    mon.tick(seconds=5)
    assert level(mon, "api") == ComponentStatus.PARTIAL_OUTAGE
    [message] = mon.triage()
    assert "INC-1 covers it now." in message.text


def test_one_component_that_raises_does_not_hold_back_the_others(mon: Monitored, monkeypatch):
    from bot.monitoring import episodes as module

    real = module._triage

    def broken(session, settings, component, *args, **kwargs):
        if component.key == "api":
            raise RuntimeError("a row nobody expected")
        return real(session, settings, component, *args, **kwargs)

    monkeypatch.setattr(module, "_triage", broken)
    mon.send(payload(alert("HighErrorRate", fingerprint="f1", component="api")))
    mon.send(payload(alert("DashDown", fingerprint="d1", service="dashboard", severity="page")))
    mon.tick(minutes=3)
    assert level(mon, "dashboard") == ComponentStatus.MAJOR_OUTAGE
    assert [e.component_id for e in episodes(mon)] != []  # dashboard's episode exists
