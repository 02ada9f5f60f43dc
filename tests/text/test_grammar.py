"""The `/incident` grammar (README "Slack"), shared by Slack and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UsageError
from bot.text.grammar import USAGE, parse, parse_ref, parse_user, tokenize
from bot.text.status import ComponentStatus, IncidentStatus, Severity

KEYS = ["api", "dashboard"]


@pytest.mark.parametrize("word", ["INC-7", "inc-7", "#7", "7"])
def test_grammar_refs_in_every_form(word: str):
    assert parse_ref(word) == 7
    assert parse(f"show {word}", KEYS).number == 7


# Digits that isdigit() or `\d` or int() take but a person typing a number did not mean.
ODD_DIGITS = ["²", "¹²", "٣", "INC-٧", "#７", "７", "𝟕", "⁷", "₇", "①", "Ⅶ", "½", "7\u200b", "߇"]


@pytest.mark.parametrize("word", ["INC-", "seven", "INC-7x", "-7", *ODD_DIGITS])
def test_grammar_bad_refs_get_usage(word: str):
    with pytest.raises(UsageError) as raised:
        parse(f"show {word}", KEYS)
    assert raised.value.usage.startswith("Usage: /incident show")


@pytest.mark.parametrize(
    ("word", "user"),
    [("<@U123ABC|jane>", "U123ABC"), ("<@U123ABC>", "U123ABC"), ("U123ABC", "U123ABC")],
)
def test_grammar_users_as_slack_sends_them(word: str, user: str):
    assert parse_user(word) == user
    assert parse(f"owner INC-2 {word}", KEYS).user == user


def test_grammar_update_status_components_then_verbatim_message():
    command = parse(
        "update INC-3 identified api=partial DASHBOARD=Degraded We are  on it=yes", KEYS
    )
    assert command.status == IncidentStatus.IDENTIFIED
    assert command.components == {
        "api": ComponentStatus.PARTIAL_OUTAGE,
        "dashboard": ComponentStatus.DEGRADED_PERFORMANCE,
    }
    assert command.text == "We are  on it=yes"


def test_grammar_update_word_that_only_looks_like_a_status_is_message():
    command = parse("update 3 Investigating identified the cause", KEYS)
    assert command.status == IncidentStatus.INVESTIGATING
    assert command.text == "identified the cause"
    unknown_key = parse("update 3 billing=major Billing is down", KEYS)
    assert unknown_key.components == {} and unknown_key.text == "billing=major Billing is down"


def test_grammar_quotes_straight_and_curly_group_words():
    assert [t.value for t in tokenize('a "b c" \u201cd e\u201d')] == ["a", "b c", "d e"]
    assert parse('declare sev1 "Checkout errors"', KEYS).text == "Checkout errors"
    assert parse("declare \u201cLogin slow\u201d", KEYS).text == "Login slow"


def test_grammar_declare_defaults_and_modal():
    assert parse("declare Checkout errors", KEYS).severity == Severity.SEV3
    assert parse("DECLARE SEV1 x", KEYS).severity == Severity.SEV1
    assert parse("declare", KEYS).text is None  # opens the modal
    assert parse("declare sev2", KEYS).text is None


def test_grammar_slack_escapes_are_decoded():
    assert parse("note 1 a &lt;b&gt; &amp; c", KEYS).text == "a <b> & c"


def test_grammar_maintenance_with_and_without_components():
    command = parse("maintenance 2026-12-01T02:00Z 2h api,dashboard DB upgrade", KEYS)
    assert command.starts_at == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert command.duration == timedelta(hours=2)
    assert command.keys == ("api", "dashboard") and command.text == "DB upgrade"
    plain = parse("maintenance 2026-12-01T02:00Z 90m api,billing upgrade", KEYS)
    assert plain.keys == () and plain.text == "api,billing upgrade"


@pytest.mark.parametrize(
    "text",
    [
        "update INC-3",
        "update INC-3 identified",
        "update INC-3 api=broken down",
        "note 3",
        "owner 3",
        "owner 3 jane",
        "sev 3 sev9",
        "component api",
        "component billing major",
        "component api broken",
        "snooze 3 soon",
        "snooze 3 0",
        "snooze 3 ²",  # isdigit() says yes, int() raised: a 500
        "snooze 3 ١٠",
        "snooze 3 １０",
        "snooze 3 +10",
        "snooze 3 1_0",
        "maintenance tomorrow 2h Upgrade",
        "maintenance 2026-12-01T02:00 2h Upgrade",
        "maintenance 2026-12-01T02:00Z forever Upgrade",
        "maintenance 2026-12-01T02:00Z 2h",
        "list extra",
        "internal 3 now",
        "frobnicate",
    ],
)
def test_grammar_malformed_commands_get_the_usage(text: str):
    with pytest.raises(UsageError) as raised:
        parse(text, KEYS)
    assert raised.value.message and raised.value.usage.startswith("Usage")


def test_grammar_every_spec_subcommand_has_usage():
    assert set(USAGE) == {
        "help",
        "declare",
        "list",
        "show",
        "update",
        "note",
        "commander",
        "owner",
        "sev",
        "resolve",
        "title",
        "internal",
        "component",
        "subscribers",
        "snooze",
        "maintenance",
        # the internal dashboard
        "changes",
        "oncall",
        # records
        "postmortem",
        "stats",
        "correct",
        "signals",
    }


def test_grammar_times_that_overflow_are_refused_with_the_usage():
    for word in ("0001-01-01T00:00+01:00", "9999-12-31T23:59:59-05:00"):
        with pytest.raises(UsageError, match="not a UTC time"):
            parse(f"maintenance {word} 2h api Upgrade", KEYS)
