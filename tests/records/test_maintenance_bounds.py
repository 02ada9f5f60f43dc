"""Dates and durations past every bound are a clear refusal that changes nothing, never an
OverflowError (bounds are checked before any date arithmetic)."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import incidents as svc
from bot.db.models import Maintenance
from bot.errors import FlareError, InvalidInput
from bot.incidents import CLI
from bot.runtime import Runtime
from bot.text.durations import DurationError, parse_duration
from tests.conftest import Clock
from tests.records.test_corrections import run
from tests.support.slackutil import Slack, fake, slack  # noqa: F401


def _updates(runtime: Runtime) -> str:
    with runtime.sessions.begin() as session:
        window = session.scalars(select(Maintenance)).one()
        return json.dumps([window.updates, str(window.starts_at), str(window.ends_at)])


def test_huge_extend_and_far_reschedule_are_refused(runtime: Runtime, clock: Clock):
    assert "MNT-1" in run(runtime, "maintenance 2026-11-26T02:00Z 2h api DB upgrade")
    before = _updates(runtime)
    with pytest.raises(FlareError, match="longer than 3660 days"):
        run(runtime, "maintenance extend MNT-1 999999999d")
    with pytest.raises(FlareError, match="at most a year ahead"):
        run(runtime, "maintenance reschedule MNT-1 2030-12-31T23:00Z 2h")
    with pytest.raises(FlareError, match="at most a year ahead"):
        run(runtime, "maintenance 2030-12-31T23:00Z 2h api Far away")
    # Times past year 9000 are not times at all to the grammar (their arithmetic overflows).
    with pytest.raises(FlareError, match="is not a UTC time"):
        run(runtime, "maintenance reschedule MNT-1 9999-12-31T23:00Z 2h")
    with pytest.raises(FlareError, match="is not a UTC time"):
        run(runtime, "maintenance 9999-12-31T23:00Z 2h api Far away")
    assert _updates(runtime) == before


def test_the_services_check_bounds_before_adding(runtime: Runtime, clock: Clock):
    assert "MNT-1" in run(runtime, "maintenance 2026-11-26T02:00Z 2h api DB upgrade")
    before = _updates(runtime)
    now = clock()
    far = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    with runtime.sessions.begin() as session:
        with pytest.raises(InvalidInput, match="seven days"):
            svc.extend_maintenance(
                session, runtime.settings, 1, duration=timedelta.max, actor=CLI, now=now
            )
        with pytest.raises(InvalidInput, match="a year ahead"):
            svc.reschedule_maintenance(
                session, runtime.settings, 1, starts_at=far, duration=timedelta(hours=2),
                actor=CLI, now=now,
            )  # fmt: skip
        with pytest.raises(InvalidInput, match="seven days"):
            svc.reschedule_maintenance(
                session, runtime.settings, 1, starts_at=far, duration=timedelta.max,
                actor=CLI, now=now,
            )  # fmt: skip
    assert _updates(runtime) == before


def test_parse_duration_has_a_maximum():
    assert parse_duration("3660d") == timedelta(days=3660)
    for text in ("3661d", "999999999d", "999999999.999999d"):
        with pytest.raises(DurationError, match="longer than 3660 days"):
            parse_duration(text)


def test_out_of_range_through_slack_is_a_clear_answer(slack: Slack):
    slack.command("maintenance 2026-12-01T02:00Z 2h api DB upgrade")
    answer = slack.command("maintenance extend MNT-1 999999999d")["text"]
    assert "longer than 3660 days" in answer
    answer = slack.command("maintenance reschedule MNT-1 9999-12-31T23:00Z 2h")["text"]
    assert "is not a UTC time" in answer  # refused by the grammar, before any arithmetic
