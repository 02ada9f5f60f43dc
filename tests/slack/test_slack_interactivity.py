"""Every button and modal, clicked and submitted as Slack sends them."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import json
from pathlib import Path

from bot.slack.ids import BUTTONS, MODALS, SlackId
from tests.support.slackutil import (  # noqa: F401
    ALICE,
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


def _thread_texts(slack: Slack) -> list[str]:
    return [m.text for m in slack.thread_of(slack.roots()[0])]


def _declare_values(**overrides: dict) -> dict:
    values = {
        "title": text_value("Checkout errors"),
        "severity": select_value("sev2"),
        "components": multi_value(),
        "level": select_value("partial_outage"),
        "commander": user_value(None),
        "owner": user_value(BOB),
        "public_title": text_value(None),
        "message": text_value("We are investigating failed checkouts."),
        "force": multi_value(),
    }
    values.update(overrides)
    return values


def test_slack_declare_button_and_modal(slack: Slack):
    slack.click("declare_open", "board")
    view = slack.opened_view()
    assert view["callback_id"] == "declare_modal"
    result = slack.submit(view, _declare_values(components=multi_value("api")))
    assert result["response_action"] == "update"
    assert "Declared INC-1" in result["view"]["blocks"][0]["text"]["text"]
    slack.flush()
    texts = _thread_texts(slack)
    assert any("[public] investigating [API operational→partial_outage]" in t for t in texts)
    assert any("owner" in m.text for m in slack.dms(BOB))


def test_slack_double_submitted_view_declares_once(slack: Slack):
    slack.click("declare_open", "board")
    view = slack.opened_view()
    first = slack.submit(view, _declare_values())
    second = slack.submit(view, _declare_values())
    assert first["view"]["blocks"] == second["view"]["blocks"]
    assert "INC-2" not in slack.command("list")["text"]


def test_slack_modal_validation_errors_appear_on_the_field(slack: Slack):
    slack.click("declare_open", "board")
    view = slack.opened_view()
    result = slack.submit(view, _declare_values(components=multi_value("api"), message={}))
    assert result == {
        "response_action": "errors",
        "errors": {"components": "Components are set with the first public message."},
    }
    result = slack.submit(
        view, _declare_values(message=text_value("We think 10.1.2.3 is probably the cause."))
    )
    assert result["response_action"] == "errors"
    assert "10.1.2.3" in result["errors"]["message"]
    assert "No open incidents" in slack.command("list")["text"]
    forced = _declare_values(
        message=text_value("We think 10.1.2.3 is probably the cause."), force=multi_value("force")
    )
    assert slack.submit(view, forced)["response_action"] == "update"


def test_slack_post_update_button_and_modal(slack: Slack):
    slack.command("declare sev2 Checkout errors")
    slack.click("post_update", "1")
    view = slack.opened_view()
    assert view["callback_id"] == "update_modal"
    values = {
        "status": select_value("identified"),
        "component:api": select_value("major_outage"),
        "component:dashboard": select_value("unaffected"),
        "message": text_value("We have identified the cause."),
        "next_in": select_value("10"),
        "public_title": text_value("Checkout failures"),
        "force": multi_value(),
    }
    result = slack.submit(view, values)
    assert "Published on INC-1 (identified)" in result["view"]["blocks"][0]["text"]["text"]
    assert "14:10 UTC" in result["view"]["blocks"][0]["text"]["text"]
    slack.flush()
    texts = _thread_texts(slack)
    assert any("public title: Checkout failures" in t for t in texts)
    assert any("API operational→major_outage" in t for t in texts)


def test_slack_add_note_button_and_modal(slack: Slack):
    slack.command("declare Checkout errors")
    slack.click("add_note", "1")
    view = slack.opened_view()
    assert view["callback_id"] == "note_modal"
    slack.submit(view, {"note": text_value("Deploy 42 rolled back")})
    slack.flush()
    assert any("[internal note] Deploy 42 rolled back" in t for t in _thread_texts(slack))


def test_slack_nothing_new_button(slack: Slack):
    slack.command("declare Checkout errors")
    slack.command("update 1 identified We found it.")
    slack.clock.advance(minutes=1)
    key = slack.click("nothing_new", "1")
    slack.flush()
    assert "continuing to work on a fix" in slack.responses(key)[0]["text"]
    assert any("continuing to work on a fix" in t for t in _thread_texts(slack))


def test_slack_snooze_button_only_for_recipient_or_responder(slack: Slack):
    slack.reconfigure(responders=(ALICE,))
    slack.command("declare Checkout errors")
    slack.command(f"owner 1 <@{BOB}>")
    refused = slack.click("snooze", "1", user=CAROL)
    ok = slack.click("snooze", "1", user=BOB)
    slack.flush()
    assert "Only responders" in slack.responses(refused)[0]["text"]
    assert "snoozed for 10 min" in slack.responses(ok)[0]["text"]


def test_slack_resolve_button_and_modal(slack: Slack):
    slack.command("declare Checkout errors")
    slack.click("resolve", "1")
    view = slack.opened_view()
    assert view["callback_id"] == "resolve_modal"
    result = slack.submit(
        view, {"message": text_value("Checkout works again."), "force": multi_value()}
    )
    assert "Resolved INC-1" in result["view"]["blocks"][0]["text"]["text"]
    slack.flush()
    assert any("[public] resolved" in t for t in _thread_texts(slack))
    assert "All systems operational" in slack.board_text()


def test_slack_unauthorised_click_changes_nothing(slack: Slack):
    slack.reconfigure(responders=(ALICE,))
    slack.command("declare Checkout errors")
    key = slack.click("nothing_new", "1", user=CAROL)
    slack.flush()
    assert "Only responders" in slack.responses(key)[0]["text"]
    assert not any("[public]" in t for t in _thread_texts(slack))


def test_slack_every_action_id_has_a_handler_and_a_test():
    assert set(BUTTONS) | set(MODALS) == set(SlackId)
    here = Path(__file__)
    source = here.read_text(encoding="utf-8")
    source += here.with_name("test_slack_commands.py").read_text(encoding="utf-8")
    # Feature buttons are tested beside their feature (tests/monitoring: the triage buttons).
    for path in sorted((here.parents[1] / "monitoring").glob("test_*.py")):
        source += path.read_text(encoding="utf-8")
    assert [i.value for i in SlackId if f'"{i.value}"' not in source] == []


def test_slack_correct_button_and_form(slack: Slack):
    """The "Correct" button on a published update opens "correct_modal", prefilled."""
    slack.command("declare sev2 Checkout errors")
    slack.command("update 1 We are investigating failed chekcouts.")
    slack.flush()
    [root] = slack.roots()
    [post] = [m for m in slack.thread_of(root) if "[public]" in m.text]
    assert "correct_update" in json.dumps(post.blocks)
    slack.click("correct_update", "1")
    view = slack.opened_view()
    assert view["callback_id"] == "correct_modal" and "chekcouts" in json.dumps(view)
    answer = slack.submit(
        view,
        {
            "message": text_value("We are investigating failed checkouts."),
            "notify": multi_value(),
            "force": multi_value(),
        },
    )
    assert "Corrected the latest public update of INC-1" in json.dumps(answer)
