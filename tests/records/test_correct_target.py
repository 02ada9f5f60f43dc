"""A correction corrects the update it was started on, or nothing: a form (or a "publish
anyway") left open while a newer update is published never overwrites the newer one; an
update too long for a Slack form is never cut, the form points to `/incident correct`."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.db.models import TimelineEvent
from bot.text.status import EventKind
from tests.support.publicdata import client
from tests.support.slackutil import BOB, Slack, fake, multi_value, slack, text_value  # noqa: F401


def _public_bodies(slack: Slack) -> list[str]:
    _, http = client(slack.runtime)
    with http:
        data = http.get("/api/v2/incidents.json").json()
    return [u["body"] for u in data["incidents"][0]["incident_updates"]]


def _corrections(slack: Slack) -> int:
    with slack.runtime.sessions.begin() as session:
        counted = session.scalar(
            select(func.count())
            .select_from(TimelineEvent)
            .where(TimelineEvent.kind == EventKind.CORRECTION)
        )
        return int(counted or 0)


def _submit(slack: Slack, view: dict, text: str) -> dict:
    values = {"message": text_value(text), "notify": multi_value(), "force": multi_value()}
    return slack.submit(view, values)


def test_a_stale_correction_form_never_overwrites_a_newer_update(slack: Slack):
    slack.command("declare sev2 Checkout errors")
    slack.command("update 1 We are investigating failed chekcouts.")
    slack.flush()
    slack.click("correct_update", "1")
    view = slack.opened_view()
    slack.command("update 1 identified The cause is a bad deploy; we are rolling back.", user=BOB)
    answer = _submit(slack, view, "We are investigating failed checkouts.")
    assert answer["response_action"] == "errors"
    assert "A newer update of INC-1 was published" in json.dumps(answer)
    assert _corrections(slack) == 0
    bodies = _public_bodies(slack)
    assert any("rolling back" in b for b in bodies)
    assert any("chekcouts" in b for b in bodies)
    # Reopened, the form is about the newer update, and corrects it.
    slack.click("correct_update", "1")
    fresh = slack.opened_view(2)
    assert "rolling back" in json.dumps(fresh)
    answer = _submit(slack, fresh, "The cause is a bad deploy; we are rolling it back.")
    assert "Corrected" in json.dumps(answer)
    assert _corrections(slack) == 1


def test_a_form_naming_another_incidents_update_changes_nothing(slack: Slack):
    slack.command("declare sev2 Checkout errors")
    slack.command("update 1 We are investigating failed checkouts.")
    slack.command("declare sev2 Login errors")
    slack.command("update 2 We are investigating failed logins.")
    slack.flush()
    slack.click("correct_update", "2")
    view = slack.opened_view()
    number, _, event_id = view["private_metadata"].partition(":")
    assert number == "2" and event_id.isdigit()
    view["private_metadata"] = f"1:{event_id}"
    answer = _submit(slack, view, "We are investigating failed checkouts and logins.")
    assert "not a public update of INC-1" in json.dumps(answer)
    assert _corrections(slack) == 0


def test_publish_anyway_after_a_newer_update_corrects_nothing(slack: Slack):
    slack.command("declare sev2 Checkout errors")
    slack.command("update 1 We are investigating failed checkouts.")
    answer = slack.command("correct 1 We think db-prod-3 is down")
    [actions] = [b for b in answer["blocks"] if b["type"] == "actions"]
    token = str(actions["elements"][-1]["value"])
    slack.command("update 1 identified We are rolling back a bad deploy.", user=BOB)
    key = slack.click("publish_anyway", token, user=BOB)
    slack.flush()
    assert any("A newer update of INC-1" in str(r) for r in slack.responses(key))
    assert _corrections(slack) == 0
    assert any("rolling back" in b for b in _public_bodies(slack))


def test_an_update_longer_than_a_form_holds_is_refused_not_cut(slack: Slack):
    long = "We are investigating. " + "x" * 4000 + " END"
    slack.command("declare sev2 Checkout errors")
    slack.command(f"update 1 {long}")
    slack.flush()
    key = slack.click("correct_update", "1")
    assert not slack.fake.calls_to("views.open")
    slack.flush()
    [reply] = slack.responses(key)
    assert "/incident correct INC-1" in str(reply) and "4,026 characters" in str(reply)
    # The command corrects it whole.
    fixed = long.replace("investigating", "investigating it")
    assert "Corrected" in slack.command(f"correct 1 {fixed}")["text"]
    assert any(" END" in b and "investigating it" in b for b in _public_bodies(slack))


def test_an_update_of_exactly_the_forms_limit_is_prefilled_whole(slack: Slack):
    text = "We are investigating. " + "y" * (3000 - 26) + " END"
    assert len(text) == 3000
    slack.command("declare sev2 Checkout errors")
    slack.command(f"update 1 {text}")
    slack.flush()
    slack.click("correct_update", "1")
    [field] = [b for b in slack.opened_view()["blocks"] if b.get("block_id") == "message"]
    assert field["element"]["initial_value"] == text


def test_no_form_field_cuts_its_prefilled_text():
    import pytest

    from bot.errors import InvalidInput
    from bot.slack import modals

    with pytest.raises(InvalidInput, match="more than a Slack form field holds"):
        modals._text_input("z" * 3001, multiline=True)
    with pytest.raises(InvalidInput, match="more than a Slack form field holds"):
        modals._text_input("t" * 201, max_length=200)
    assert modals._text_input("z" * 3000)["initial_value"] == "z" * 3000
