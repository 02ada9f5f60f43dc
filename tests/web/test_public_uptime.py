"""90-day uptime: the worst status per UTC day and the weighted percent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.text.render import percent as format_percent
from bot.text.status import ComponentStatus as S
from web.public.uptime import compute

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=400)


def test_uptime_all_operational_is_100() -> None:
    result = compute(initial=S.OPERATIONAL, changes=[], created_at=LONG_AGO, now=NOW)
    assert len(result.days) == 90
    assert result.days[-1].day == NOW.date()
    assert all(d.worst == S.OPERATIONAL for d in result.days)
    assert format_percent(result.percent) == "100%"
    assert result.issue_days == ()


def test_uptime_worst_status_per_day_and_weighted_percent() -> None:
    day = NOW - timedelta(days=1)
    changes = [
        (day.replace(hour=1), S.DEGRADED_PERFORMANCE),
        (day.replace(hour=2), S.MAJOR_OUTAGE),
        (day.replace(hour=3), S.PARTIAL_OUTAGE),
        (day.replace(hour=5), S.OPERATIONAL),
    ]
    result = compute(initial=S.OPERATIONAL, changes=changes, created_at=LONG_AGO, now=NOW)
    yesterday = result.days[-2]
    assert yesterday.worst == S.MAJOR_OUTAGE
    assert yesterday.seconds == {
        S.DEGRADED_PERFORMANCE: 3600,
        S.MAJOR_OUTAGE: 3600,
        S.PARTIAL_OUTAGE: 7200,
    }
    assert result.days[-1].worst == S.OPERATIONAL
    counted = 89 * 86400 + 12 * 3600
    assert result.percent is not None
    assert abs(result.percent - 100 * (1 - (3600 + 0.3 * 7200) / counted)) < 1e-9
    assert format_percent(result.percent) == "99.93%"


def test_uptime_status_from_before_the_window_and_ongoing_outage() -> None:
    result = compute(
        initial=S.MAJOR_OUTAGE,
        changes=[(NOW - timedelta(days=89, hours=6), S.OPERATIONAL)],
        created_at=LONG_AGO,
        now=NOW,
    )
    assert result.days[0].worst == S.MAJOR_OUTAGE
    assert result.days[1].worst == S.OPERATIONAL


def test_uptime_days_before_the_component_existed_have_no_data() -> None:
    created = NOW - timedelta(days=2, hours=3)
    result = compute(initial=S.OPERATIONAL, changes=[], created_at=created, now=NOW)
    assert [d.worst for d in result.days[-4:]] == [
        None,
        S.OPERATIONAL,
        S.OPERATIONAL,
        S.OPERATIONAL,
    ]
    assert result.days[-3].counted == 15 * 3600  # from 09:00


def test_uptime_never_rounds_an_outage_up_to_100() -> None:
    assert format_percent(99.9999) == "99.99%"
    assert format_percent(None) == "No data"
