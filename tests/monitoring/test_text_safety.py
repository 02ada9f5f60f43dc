"""Monitor-sent text never mentions anybody or links anywhere in Slack, and times say UTC
once."""

# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, datetime

from bot.commands.base import PlainStyle
from bot.monitoring import Report, SignalRow, signals_text
from bot.monitoring.triage import SignalLine, TriageView
from bot.slack.style import SlackStyle
from bot.slack.triage import triage_message
from bot.text.status import ComponentStatus
from tests.monitoring.harness import Monitored, fake, mon, slack  # noqa: F401
from tests.monitoring.support import alert, payload

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
EVIL = "<@U0CEO> <!channel> <#C0SECRET|general>"


def view(**changes: object) -> TriageView:
    values: dict[str, object] = dict(
        episode_id=1,
        component_key="api",
        component_name="API",
        page_level=ComponentStatus.OPERATIONAL,
        level=ComponentStatus.MAJOR_OUTAGE,
        started_at=NOW,
        ended_at=None,
        quiet_since=NOW,
        signals=(SignalLine(EVIL, ComponentStatus.MAJOR_OUTAGE, True, NOW, None, EVIL),),
        published=0,
        dismissed_by="U1",
        dismissed_until=NOW,
        marked_by=None,
        channel="C1",
        ts=None,
        revision=1,
    )
    values.update(changes)
    return TriageView(**values)  # type: ignore[arg-type]


def everything(text: str, blocks: list[dict[str, object]]) -> str:
    return text + repr(blocks)


def test_triage_message_escapes_alert_names_and_summaries() -> None:
    text, blocks = triage_message(view())
    out = everything(text, blocks)
    assert "<@U0CEO>" not in out and "<!channel>" not in out and "<#C0SECRET" not in out
    assert "&lt;@U0CEO&gt;" in out


def test_triage_times_say_utc_once() -> None:
    for v in (view(), view(ended_at=NOW)):
        text, blocks = triage_message(v)
        out = everything(text, blocks)
        assert "UTC UTC" not in out
        assert "14:00 UTC" in out


def test_signals_text_escapes_in_slack() -> None:
    row = SignalRow("api", EVIL, ComponentStatus.MAJOR_OUTAGE, True, NOW, None, "alertmanager")
    out = signals_text(Report([row], [], []), SlackStyle().time, SlackStyle().data)
    assert "<@U0CEO>" not in out and "<!channel>" not in out
    assert EVIL in signals_text(Report([row], [], []), PlainStyle().time, PlainStyle().data)


def test_incident_signals_and_the_board_never_mention(mon: Monitored) -> None:
    body = payload(alert(EVIL, fingerprint="e1", component="api", severity="page"))
    body["alerts"][0]["annotations"]["summary"] = EVIL
    mon.send(body)
    mon.tick(minutes=3)
    reply = mon.slack.command("signals")["text"]
    board = mon.slack.board_text()
    triage = [repr(m.blocks) + m.text for m in mon.triage()]
    assert triage and "&lt;@U0CEO&gt;" in reply and "&lt;@U0CEO&gt;" in board
    for out in (reply, board, *triage):
        assert "<@U0CEO>" not in out and "<!channel>" not in out and "<#C0SECRET" not in out
