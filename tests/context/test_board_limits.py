"""The board with everything on it stays within Block Kit's limits, incidents first; a calm
board is one line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.slack import board
from bot.text.status import ComponentStatus, MaintenanceStatus
from tests.support.factories import board_row

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
TITLES = ("On call", "Providers", "Changes in the last 2 h", "Monitoring")


def _sections() -> list[board.BoardSection]:
    long = "https://ci.acme.test/" + "x" * 480
    return [
        board.BoardSection("On call", (", ".join(f"<@U{n:08d}>" for n in range(100)),)),
        board.BoardSection(
            "Providers",
            tuple(
                f"• :red_circle: *{'P' * 100}{n}* — major: <{long}|{'I' * 300}>" for n in range(20)
            ),
        ),
        board.BoardSection(
            "Changes in the last 2 h",
            tuple(f"• {'s' * 100} {'v' * 100} by {'a' * 100} — {long}" for _ in range(10)),
        ),
        board.BoardSection("Monitoring", tuple("• signal " + "m" * 200 for _ in range(40))),
    ]


def _full_view(incidents: int) -> board.BoardView:
    return board.BoardView(
        incidents=[board_row(n, start=START) for n in range(1, incidents + 1)],
        degraded=[(f"Component {n}", ComponentStatus.MAJOR_OUTAGE) for n in range(60)],
        maintenances=[
            board.BoardMaintenance(
                f"MNT-{n}", "M" * 200, MaintenanceStatus.SCHEDULED.value, START, START, ("api",)
            )
            for n in range(30)
        ],
        scheduler_stale_since=START,
        notes=["3 Slack posts could not be sent"],
        sections=_sections(),
    )


@pytest.mark.parametrize("incidents", [0, 1, 5, 12, 13, 40, 200])
def test_board_with_everything_stays_within_block_kit_limits(incidents: int):
    text, blocks = board.render_board(_full_view(incidents))
    assert len(blocks) <= 50
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections)
    rendered = json.dumps(blocks)
    for title in (*TITLES, "Degraded components", "Maintenance"):
        assert f"*{title}*" in rendered, f"{title} is on the board with {incidents} incidents"
    if incidents:
        # Incidents first: the first section after the warnings is an incident.
        first = next(s for s in sections if "INC-" in s)
        assert sections.index(first) <= 1
        assert rendered.index("INC-1") < rendered.index("*On call*")
    if incidents > 12:
        assert "more open incidents" in rendered
    # Whole lines only: no link is cut in half.
    for s in sections:
        if s.startswith(tuple(f"*{title}*" for title in TITLES)):
            assert s.count("<") == s.count(">")


def test_board_calm_is_one_line():
    text, blocks = board.render_board(board.BoardView(scheduler_never=False))
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections == [":white_check_mark: *All systems operational*"]
    assert text == "Incident board: all systems operational"


def test_board_sections_follow_the_calm_line_only_when_they_have_something_to_say():
    section = board.BoardSection("Changes in the last 2 h", ("• api v2, 13:40",))
    _, blocks = board.render_board(board.BoardView(sections=[section]))
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections == [
        ":white_check_mark: *All systems operational*",
        "*Changes in the last 2 h*\n• api v2, 13:40",
    ]
