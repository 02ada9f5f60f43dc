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
        (
            "Rooms C0WARROOM1, G0PRIVATE1, group S0ONCALL01, user U01234567.",
            "Rooms our team, our team, group our team, user our team.",
        ),
        ("Heap dump: https://files.slack.com/files-pri/T01/heapdump.txt", "Heap dump: our team"),
        ("https://acme.slack.com/files/U0JANE0001/F01/shot.png", "our team"),
        (
            "https://slack.com/archives/C01ABC/p123 and acme.slack.com/archives/C01",
            "our team and our team",
        ),
        ("https://acme.slack.com:443/app_redirect?channel=C01", "our team"),
        (
            "slack://channel?team=T1&id=C1 and acme.slack-gov.com/archives/C1",
            "our team and our team",
        ),
        ("Thread: https://acme.slack.com/archives/C01ABC/p1700000000.", "Thread: our team."),
        ("Bell\x07 rings", "Bell rings"),
    ],
)
def test_scrub_removes_people_channels_and_workspace_links(text: str, shown: str):
    assert public_text(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "UNAVAILABLE services in US-EAST-1 returned HTTP 503.",
        "Order S123456789 and SHA256SUMS are fine; G5.XLARGE instances too.",
        "Our Slack (https://slack.com/apps) integration is delayed.",
        "Slack itself reports trouble: https://status.slack.com/.",
        "CVE-2024-1234 does not affect us.",
        "Line one.\nLine two.",
    ],
)
def test_scrub_leaves_everything_else_as_written(text: str):
    assert public_text(text) == text
