"""The one scrubber: people, channels and Slack links never reach a customer; nothing else
a person wrote is touched."""

from __future__ import annotations

import pytest

from bot.text.scrub import public_text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Ask <@U0ALICE01|alice> in <#C0SECRET|project-x>", "Ask our team in our team"),
        ("cc <!subteam^S0TEAM|@oncall> <!here>", "cc our team our team"),
        ("Thread: https://acme.slack.com/archives/C01ABC/p1700000000", "Thread: our team"),
        ("See <https://acme.slack.com/archives/C01/p17|the thread>.", "See our team."),
        ("Paged U0ALICE01 and @W0BOB0000X1", "Paged our team and our team"),
        ("Bell\x07 rings", "Bell rings"),
    ],
)
def test_scrub_removes_people_channels_and_workspace_links(text: str, shown: str):
    assert public_text(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "UNAVAILABLE services in US-EAST-1 returned HTTP 503.",
        "Order S123456789 and build C0FFEE1234 are fine.",
        "SHA256SUMS, G5XLARGE12 instances and release W20240115.",
        "Our Slack (https://slack.com/apps) integration is delayed.",
        "CVE-2024-1234 does not affect us.",
        "Line one.\nLine two.",
    ],
)
def test_scrub_leaves_everything_else_as_written(text: str):
    assert public_text(text) == text
