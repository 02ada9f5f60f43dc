"""On-call: a weekly rotation across a handoff and a DST change, a Slack user group read
through the fake Slack (cached 5 minutes, one read across workers), the board, `/incident
oncall`, and a declare that makes the on-call person commander."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from bot import context
from bot.config import OnCallConfig
from bot.db.models import Incident
from bot.slack import SlackSender
from tests.support.guards import Guard, no_outside_calls_in_transactions  # noqa: F401
from tests.support.slackutil import ALICE, BOB, CAROL, Slack, fake, slack  # noqa: F401

BERLIN = OnCallConfig(
    rotation=(ALICE, BOB, CAROL),
    handoff_weekday=0,
    handoff_time=time(9, 0),
    time_zone="Europe/Berlin",
)
GROUP = "S0ONCALL01"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def who(config: OnCallConfig, when: datetime) -> str:
    return context.rotation_on_call(config, when)[0]


def test_rotation_counts_weeks_from_the_first_monday_of_1970():
    utc = OnCallConfig(rotation=(ALICE, BOB, CAROL), handoff_time=time(9, 0))
    assert who(utc, at("1970-01-05T09:00:00")) == ALICE
    assert who(utc, at("1970-01-12T08:59:59")) == ALICE
    assert who(utc, at("1970-01-12T09:00:00")) == BOB
    assert who(utc, at("1970-01-19T09:00:00")) == CAROL
    assert who(utc, at("1970-01-26T09:00:00")) == ALICE


def test_rotation_hands_off_at_local_time_across_a_handoff():
    # Winter (CET, UTC+1): Monday 09:00 in Berlin is 08:00 UTC.
    before, after = who(BERLIN, at("2026-03-23T07:59:59")), who(BERLIN, at("2026-03-23T08:00:00"))
    assert before != after
    assert BERLIN.rotation.index(after) == (BERLIN.rotation.index(before) + 1) % 3
    person, until = context.rotation_on_call(BERLIN, at("2026-03-23T08:00:00"))
    # The clocks went forward on Sunday 2026-03-29: the next handoff is 09:00 CEST = 07:00 UTC.
    assert until.astimezone(UTC) == at("2026-03-30T07:00:00")


def test_rotation_hands_off_at_local_time_across_a_dst_change():
    spring = who(BERLIN, at("2026-03-30T06:59:59"))
    assert who(BERLIN, at("2026-03-30T07:00:00")) != spring, "09:00 CEST is 07:00 UTC"
    assert who(BERLIN, at("2026-03-29T12:00:00")) == spring
    # And back in autumn (clocks go back on Sunday 2026-10-25): 09:00 CET is 08:00 UTC.
    autumn = who(BERLIN, at("2026-10-26T07:59:59"))
    assert who(BERLIN, at("2026-10-26T07:00:00")) == autumn, "not yet: still 08:00 CET"
    assert who(BERLIN, at("2026-10-26T08:00:00")) != autumn
    # The rotation never skips or repeats a person across either change.
    people = [who(BERLIN, at("2026-03-23T12:00:00") + timedelta(weeks=n)) for n in range(32)]
    for one, two in zip(people, people[1:], strict=False):
        assert BERLIN.rotation.index(two) == (BERLIN.rotation.index(one) + 1) % 3


def test_slack_declare_makes_the_rotation_person_commander_and_dms_them(slack: Slack):
    now = slack.clock()
    slack.reconfigure(oncall=BERLIN)
    on_call = who(BERLIN, now)
    declarer = next(u for u in (ALICE, BOB, CAROL) if u != on_call)
    reply = slack.command("declare sev2 Checkout errors", user=declarer)
    assert f"commander <@{on_call}>" in reply["text"]
    slack.flush()
    assert any("commander" in m.text and "INC-1" in m.text for m in slack.dms(on_call))
    assert slack.dms(declarer) == []
    with slack.runtime.sessions.begin() as session:
        incident = session.scalars(select(Incident)).one()
        assert incident.commander_id == on_call and incident.declared_by == declarer
    board = slack.board_text()
    assert "On call" in board and f"<@{on_call}>" in board
    assert board.index("INC-1") < board.index("On call")
    assert f"On call now: <@{on_call}>" in slack.command("oncall")["text"]
    # A named commander still wins (a responder naming one).
    slack.command(f"commander 1 <@{declarer}>")
    with slack.runtime.sessions.begin() as session:
        assert session.scalars(select(Incident)).one().commander_id == declarer


def test_slack_without_oncall_the_declarer_commands(slack: Slack):
    reply = slack.command("declare Login slow", user=BOB)
    assert f"commander <@{BOB}>" in reply["text"]
    assert "No on-call is configured" in slack.command("oncall")["text"]
    slack.flush()
    assert "On call" not in slack.board_text()


def test_slack_usergroup_is_read_through_slack_cached_and_shown(
    slack: Slack, no_outside_calls_in_transactions: Guard
):
    slack.fake.usergroups[GROUP] = [CAROL, BOB]
    slack.reconfigure(oncall=OnCallConfig(usergroup=GROUP))
    assert "not been read from Slack yet" in slack.command("oncall")["text"]
    reply = slack.command("declare Before the read", user=ALICE)
    assert f"commander <@{ALICE}>" in reply["text"], "nothing known yet: the declarer"

    assert slack.sender.read_oncall_group() is True
    other_worker = SlackSender(slack.runtime, post_interval=0)
    assert other_worker.read_oncall_group() is False, "one read per 5 minutes, across workers"
    assert len(slack.fake.calls_to("usergroups.users.list")) == 1
    assert f"On call now: <@{CAROL}>, <@{BOB}>" in slack.command("oncall")["text"]
    reply = slack.command("declare After the read", user=ALICE)
    assert f"commander <@{CAROL}>" in reply["text"]
    slack.flush()
    assert any("INC-2" in m.text for m in slack.dms(CAROL))
    assert f"<@{CAROL}>, <@{BOB}> (user group)" in slack.board_text()

    slack.fake.usergroups[GROUP] = [BOB]
    slack.clock.advance(minutes=4)
    assert slack.sender.read_oncall_group() is False
    slack.clock.advance(minutes=1)
    assert slack.sender.read_oncall_group() is True
    assert len(slack.fake.calls_to("usergroups.users.list")) == 2
    assert f"On call now: <@{BOB}>" in slack.command("oncall")["text"]
    assert no_outside_calls_in_transactions.violations == []


def test_usergroup_read_failing_keeps_the_last_list(slack: Slack):
    slack.fake.usergroups[GROUP] = [CAROL]
    slack.reconfigure(oncall=OnCallConfig(usergroup=GROUP))
    assert slack.sender.read_oncall_group() is True
    del slack.fake.usergroups[GROUP]  # Slack answers no_such_subteam
    slack.clock.advance(minutes=5)
    assert slack.sender.read_oncall_group() is False
    assert f"On call now: <@{CAROL}>" in slack.command("oncall")["text"]
    slack.clock.advance(minutes=20)
    slack.flush()
    assert "as read" in slack.board_text(), "an old list is shown with its age"
