"""The postmortem: its numbers, both formats, the CLI and the file in the Slack thread."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

from bot import records
from bot.runtime import Runtime
from tests.conftest import Clock
from tests.records.sample import postmortem, seed_incident
from tests.support.slackutil import Slack, fake, slack  # noqa: F401


def test_postmortem_numbers(runtime: Runtime, clock: Clock) -> None:
    number = seed_incident(runtime)
    data = records.as_json(postmortem(runtime, number))
    assert data["incident"]["ref"] == "INC-1"
    assert data["incident"]["public_title"] == "Failed checkouts"
    # Declared 14:00, first public update 14:06, resolved 15:10.
    assert data["durations"] == {"to_first_public_update_seconds": 360, "to_resolve_seconds": 4200}
    # API: partial 14:06→14:24 (18 min), degraded 14:24→15:10 (46 min).
    assert data["impact"] == [
        {
            "component": "API",
            "key": "api",
            "minutes": {"partial_outage": 18.0, "degraded_performance": 46.0},
        }
    ]
    # Promises (20-minute cadence): 14:06→14:26 kept at 14:24; 14:24→14:44 missed, answered
    # 14:50 (6 min late); 14:50→15:10 kept by the resolution at 15:10.
    items = data["promises"]["items"]
    assert [(p["kept"], p["late_minutes"]) for p in items] == [
        (True, 0.0),
        (False, 6.0),
        (True, 0.0),
    ]
    assert data["promises"]["kept"] == 2 and data["promises"]["settled"] == 3
    kinds = [(e["kind"], e["internal"]) for e in data["timeline"]]
    assert ("note", True) in kinds and ("public_update", False) in kinds
    assert ("correction", False) in kinds
    note = next(e for e in data["timeline"] if e["kind"] == "note")
    assert "checkout-prod-3" in note["text"]
    # The deploy CI reported 8 minutes before the declaration (the dashboard's changes).
    assert data["sections"] == [
        {
            "key": "changes",
            "title": "Changes in the 2 h before it",
            "rows": [
                {
                    "at": "2026-11-25T13:52:00.000Z",
                    "text": "checkout 4411 by ci https://ci.example.com/4411",
                }
            ],
        }
    ]


def test_postmortem_markdown_marks_internal_entries(runtime: Runtime, clock: Clock) -> None:
    text = records.render_markdown(postmortem(runtime, seed_incident(runtime)))
    assert text.startswith("# Postmortem INC-1: Checkout 502s after deploy 4411")
    assert "| API | Partial outage | 18 min |" in text
    assert "missed by 6 min" in text and "2 of 3 kept." in text
    assert "**[internal]** note: Rolling back deploy 4411" in text
    assert "## Changes in the 2 h before it" in text
    assert "**[public]** public_update (resolved): Checkouts are working normally again." in text


def test_postmortem_extra_sections_plug_in(runtime: Runtime, clock: Clock) -> None:
    number = seed_incident(runtime)
    section = records.Section("changes", "Changes before", ((clock(), "deploy 4411 checkout"),))
    records.SECTIONS.append(lambda session, incident, now: section)
    try:
        document = postmortem(runtime, number)
    finally:
        records.SECTIONS.pop()
    assert records.as_json(document)["sections"][-1]["rows"][0]["text"] == "deploy 4411 checkout"
    assert "## Changes before" in records.render_markdown(document)


def test_postmortem_arrives_in_the_thread_as_a_file(slack: Slack):
    slack.command("declare sev2 Checkout errors")
    slack.command("update 1 api=partial We are investigating failed checkouts.")
    slack.command("note 1 suspect deploy 4411")
    answer = slack.command("postmortem INC-1")
    assert "INC-1-postmortem.md" in answer["text"]
    slack.flush()
    assert [c.method for c in slack.fake.calls_to("files.getUploadURLExternal")]
    [stored] = slack.fake.files.values()
    [root] = slack.roots()
    assert (
        stored.shared and stored.thread_ts == root.ts and stored.filename == "INC-1-postmortem.md"
    )
    assert stored.text.startswith("# Postmortem INC-1: Checkout errors")
    assert "**[internal]** note: suspect deploy 4411" in stored.text
    assert any(m.files for m in slack.thread_of(root))


def test_postmortem_upload_is_retried_after_slack_fails(slack: Slack):
    slack.command("declare sev2 Checkout errors")
    slack.flush()
    slack.fake.fail("files.completeUploadExternal", "internal_error")
    slack.command("postmortem 1")
    slack.flush()
    assert not [f for f in slack.fake.files.values() if f.shared]
    slack.clock.advance(minutes=5)  # past the backoff
    slack.flush()
    shared = [f for f in slack.fake.files.values() if f.shared]
    assert len(shared) == 1, "the second attempt uploads again and shares it"
    assert "Usage: /incident postmortem" in slack.command("postmortem")["text"]
    assert "no incident INC-9" in slack.command("postmortem 9")["text"]
