"""The worker runs the dashboard's jobs: providers when configured, the on-call user group
read with Slack."""

from __future__ import annotations

from bot.config import DependencyConfig
from bot.runtime import Runtime
from bot.worker import background_jobs
from tests.conftest import with_settings


def test_worker_polls_providers_only_when_configured(runtime: Runtime):
    assert "providers" not in [name for name, _, _ in background_jobs(runtime)]
    rt = with_settings(
        runtime, dependencies=(DependencyConfig(name="Stripe", url="https://status.stripe.test"),)
    )
    assert "providers" in [name for name, _, _ in background_jobs(rt)]


def test_worker_reads_the_oncall_group_with_slack(runtime: Runtime):
    rt = with_settings(runtime, slack_bot_token="xoxb-test", incidents_channel="C0INCIDENTS")
    assert "oncall-group" in [name for name, _, _ in background_jobs(rt)]
