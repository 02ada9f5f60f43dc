"""Every /incident command through signed HTTP requests; effects observed on the fake Slack."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.support.slackutil import ALICE, BOB, CAROL, Slack, fake, sign, slack  # noqa: F401


def test_slack_full_incident_from_declare_to_resolve(slack: Slack):
    assert "Declared INC-1" in slack.command("declare sev2 Checkout errors")["text"]
    slack.command(f"owner INC-1 <@{BOB}|bob>")
    slack.command("update inc-1 identified api=partial We found elevated errors on checkout.")
    slack.command("note #1 rolled back deploy 42")
    slack.command("resolve 1")
    slack.flush()

    roots = slack.roots()
    assert len(roots) == 1, "one root message per incident"
    thread = [m.text for m in slack.thread_of(roots[0])]
    assert any("owner" in t and BOB in t for t in thread)
    assert any("[public] identified" in t and "elevated errors" in t for t in thread)
    assert any("[internal note] rolled back deploy 42" in t for t in thread)
    assert any("[public] resolved" in t for t in thread)
    assert len(thread) == 4
    # Bob was told what the owner role means.
    assert any("owner" in m.text and "INC-1" in m.text for m in slack.dms(BOB))
    # The board is calm again and is the one pinned message.
    assert "All systems operational" in slack.board_text()


def test_slack_help_and_errors_show_usage(slack: Slack):
    assert "/incident declare" in slack.command("")["text"]
    assert "/incident update" in slack.command("help")["text"]
    reply = slack.command("update INC-1")
    assert "Usage: /incident update" in reply["text"]
    reply = slack.command("show INC-99")
    assert "no incident INC-99" in reply["text"] and "Usage: /incident show" in reply["text"]
    assert "Unknown sub-command" in slack.command("frobnicate")["text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("list", "INC-1 [sev3] Login slow"),
        ("show 1", "Timeline:"),
        ("update 1 monitoring api=degraded A fix is rolling out.", "Published on INC-1"),
        ("note 1 checked dashboards", "Internal note added"),
        (f"commander 1 <@{CAROL}>", "commander of INC-1"),
        (f"owner 1 {BOB}", "owner of INC-1"),
        ("sev 1 sev1", "INC-1 is now sev1"),
        ("title 1 Slow logins", "Public title of INC-1 set"),
        ("snooze 1 5", "snoozed for 5 min"),
        ("component webhooks degraded", "Webhooks: Operational → Degraded performance"),
        ("maintenance 2026-12-01T02:00Z 2h api,dashboard DB upgrade", "Scheduled maintenance"),
        ("internal 1", "internal-only"),
        ("resolve 1 All good now.", "Resolved INC-1"),
    ],
)
def test_slack_every_command(slack: Slack, text: str, expected: str):
    slack.command("declare Login slow")
    reply = slack.command(text)
    assert reply["response_type"] == "ephemeral"
    assert expected in reply["text"], reply["text"]


def test_slack_declare_without_title_opens_the_modal(slack: Slack):
    reply = slack.command("declare")
    assert "declare form" in reply["text"]
    view = slack.opened_view()
    assert view["callback_id"] == "declare_modal"


def test_slack_repeated_trigger_and_retry_never_declare_twice(slack: Slack):
    first = slack.command("declare Payments down", trigger_id="T-1")
    again = slack.command("declare Payments down", trigger_id="T-1")
    retried = slack.command("declare Payments down", trigger_id="T-2", **{"X-Slack-Retry-Num": "1"})
    assert "Declared INC-1" in first["text"] and "INC-1" in again["text"]
    assert retried == {}
    assert "INC-2" not in slack.command("list")["text"]
    slack.flush()
    assert len(slack.roots()) == 1


def test_slack_forged_or_stale_signature_gets_401_and_changes_nothing(slack: Slack):
    body = "command=%2Fincident&text=declare+Forged&user_id=U0EVE0001&trigger_id=x"
    forged = slack.post(body, sign(body, secret="not-the-secret"))
    stale = slack.post(body, sign(body, timestamp=1_600_000_000))
    assert (forged.status_code, stale.status_code) == (401, 401)
    assert "No open incidents" in slack.command("list")["text"]
    slack.flush(board=False)
    assert slack.fake.calls_to("chat.postMessage") == []


def test_slack_unauthorised_user_is_refused_with_who_may(slack: Slack):
    slack.reconfigure(responders=(ALICE,))
    slack.command("declare Search broken", user=BOB)
    reply = slack.command("update 1 We are looking into it.", user=BOB)
    assert "Only responders" in reply["text"] and f"<@{ALICE}>" in reply["text"]
    assert "Published" in slack.command("update 1 We are looking into it.", user=ALICE)["text"]


def test_slack_responder_group_is_resolved_through_slack(slack: Slack):
    slack.fake.usergroups["S0ONCALL1"] = [CAROL]
    slack.reconfigure(responders=("S0ONCALL1",))
    slack.command("declare Search broken", user=BOB)
    assert "Only responders" in slack.command("sev 1 sev1", user=BOB)["text"]
    assert "now sev1" in slack.command("sev 1 sev1", user=CAROL)["text"]
    slack.fake.server_error("usergroups.users.list", times=5)
    # Cached: still answers while Slack is failing.
    assert "now sev2" in slack.command("sev 1 sev2", user=CAROL)["text"]


def test_slack_channel_mention_in_a_title_is_escaped(slack: Slack):
    slack.command("declare <!channel> &lt;!here&gt; everything is down")
    slack.flush()
    posted = json.dumps([c.args for c in slack.fake.calls_to("chat.postMessage")])
    posted += json.dumps([c.args for c in slack.fake.calls_to("chat.update")])
    assert "<!channel>" not in posted and "<!here>" not in posted
    assert "&lt;!channel&gt;" in posted


def test_slack_hygiene_blocks_then_publish_anyway(slack: Slack):
    slack.command("declare DB trouble")
    reply = slack.command("update 1 We think db-prod-3 at 10.0.0.12 is down")
    assert "Nothing was published" in json.dumps(reply)
    buttons = reply["blocks"][-1]["elements"]
    ids = [b["action_id"] for b in buttons]
    assert ids == ["edit_update", "publish_anyway"]
    slack.flush(board=False)
    assert not any("[public]" in m.text for m in slack.channel() + _thread(slack))
    key = slack.click("publish_anyway", buttons[1]["value"])
    slack.flush(board=False)
    assert any("despite hygiene" in r["text"] for r in slack.responses(key))
    assert any("[public] investigating" in m.text for m in _thread(slack))
    # Edit opens the update modal prefilled with the text.
    reply = slack.command("update 1 probably the 10.0.0.12 box")
    slack.click("edit_update", reply["blocks"][-1]["elements"][0]["value"])
    view = slack.opened_view()
    assert "10.0.0.12" in json.dumps(view["blocks"])


def test_slack_publish_anyway_expires_after_an_hour(slack: Slack):
    slack.command("declare DB trouble")
    reply = slack.command("update 1 We think db-prod-3 at 10.0.0.12 is down")
    token = reply["blocks"][-1]["elements"][1]["value"]
    slack.clock.advance(minutes=61)
    key = slack.click("publish_anyway", token)
    slack.flush(board=False)
    assert [r["text"] for r in slack.responses(key)] == [
        "That update was already published or has expired."
    ]
    assert not any("[public]" in m.text for m in _thread(slack))


def _thread(slack: Slack) -> list:
    roots = slack.roots()
    return slack.thread_of(roots[0]) if roots else []


def test_slack_component_set_by_hand_is_told_in_incidents_and_names_what_holds_it(
    slack: Slack,
):
    slack.command("component webhooks major")
    slack.flush()
    [post] = [m for m in slack.channel() if "Webhooks" in m.text and m.thread_ts is None]
    assert "Operational → *Major outage*" in post.text and f"<@{ALICE}>" in post.text
    slack.command("declare sev2 Hooks down")
    slack.command("update 1 webhooks=partial Deliveries are delayed.")
    answer = slack.command("component webhooks operational")
    assert "Webhooks: Major outage → Partial outage on the page." in answer["text"]
    assert "Also held by INC-1 (Partial outage)" in answer["text"]
    slack.flush()
    told = [m.text for m in slack.channel() if "Webhooks" in m.text and m.thread_ts is None]
    assert len(told) == 2 and "Partial outage" in told[-1]


def test_slack_responder_group_read_long_ago_is_not_trusted_while_slack_fails(slack: Slack):
    from bot.slack.responders import STALE_SECONDS, ResponderDirectory

    now = [0.0]
    slack.fake.usergroups["S0ONCALL1"] = [CAROL]
    settings = replace(slack.runtime.settings, responders=("S0ONCALL1",))
    directory = ResponderDirectory(settings, monotonic=lambda: now[0])
    assert directory.actor(CAROL).responder
    slack.fake.server_error("usergroups.users.list", times=5)
    now[0] = 600.0  # the cache is old, Slack fails: the last list still serves a while
    assert directory.actor(CAROL).responder
    now[0] = STALE_SECONDS + 1.0  # too old to trust for a decision about who may publish
    refused = directory.actor(CAROL)
    assert not refused.responder and "could not reach Slack" in refused.why_not
