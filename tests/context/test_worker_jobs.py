"""The worker runs the dashboard's jobs: providers when configured, the on-call user group
read with Slack."""

from __future__ import annotations

from bot.config import CheckConfig, DependencyConfig
from bot.runtime import Runtime
from bot.worker import background_jobs, start_scheduler
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


def test_worker_starts_every_job_with_a_name_that_says_what_it_does(runtime: Runtime):
    # Every feature configured at once: each job the worker schedules must be named (a job
    # without a name stopped `flare worker` from starting at all).
    rt = with_settings(
        runtime,
        slack_bot_token="xoxb-test",
        incidents_channel="C0INCIDENTS",
        dependencies=(DependencyConfig(name="Stripe", url="https://status.stripe.test"),),
        checks=(CheckConfig(name="api", url="http://127.0.0.1:9/health", component="api"),),
    )
    scheduler = start_scheduler(rt, paused=True)  # no job runs (none may outlive the test)
    try:
        jobs = {job.id: job.name for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown()
    expected = {"sweep", *(name for name, _, _ in background_jobs(rt))}
    assert expected <= set(jobs)
    assert {"slack-drain", "board", "oncall-group", "providers", "checks", "monitoring"} <= set(
        jobs
    )
    assert all(name and name != job_id for job_id, name in jobs.items()), jobs
