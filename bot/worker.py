"""The worker: APScheduler as an in-process clock driving sweeps and the outbox drain.

Every job is a sweep over our own tables whose claims are unique keys and leases, so any
number of worker processes (and `flare run`'s in-process worker) can run at once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot import monitoring, outbox, subscribers
from bot.config import Settings
from bot.incidents import Swept, sweep
from bot.runtime import Runtime
from bot.slack import prune_processed_requests

log = logging.getLogger("flare.worker")
DRAIN_INTERVAL = timedelta(milliseconds=250)
DRAIN_BURST = 2.0  # seconds one drain job may keep going while rows keep completing
RETENTION_EVERY = timedelta(minutes=10)
PRUNE_BATCH = 500  # rows per committed transaction
PRUNE_BATCHES = 20  # per table per run; what is left goes next run
# What each job does, as APScheduler names it in its warnings (missed runs, overlaps). A job
# logs only when it did something; APScheduler's per-run INFO lines are silenced
# (bot/config/logs.py QUIET).
JOB_NAMES = {
    "sweep": "sweep reminders, promises and maintenance windows",
    "wake": "sweep at the instant the next reminder falls due",
    "slack-drain": "send queued Slack messages",
    "board": "refresh the #incidents board",
    "oncall-group": "read the on-call user group from Slack",
    "providers": "poll the status pages of [[dependencies]]",
    "deliveries": "deliver subscriber mail and webhooks",
    "retention": "prune rows older than FLARE_RETENTION",
    "monitoring": "move monitoring episodes on and look for drift",
    "checks": "run the built-in HTTP checks",
}


def run_sweep(runtime: Runtime) -> Swept | None:
    try:
        with runtime.sessions.begin() as session:
            return sweep(session, runtime.settings, runtime.now())
    except OperationalError as error:  # database restarting: try again next tick
        log.warning("sweep skipped, database unavailable: %s", error.orig)
        return None


class Waker:
    """The sweep on every tick, and once more at the instant the next nag falls due when that
    comes before the next tick (a one-off `wake` job), so a reminder is queued on its second
    rather than up to a tick late; the ticks stay as the safety net. A sweep that queued
    something starts the Slack drain at once instead of at its next interval."""

    def __init__(self, runtime: Runtime, scheduler: BackgroundScheduler) -> None:
        self.runtime = runtime
        self.scheduler = scheduler

    def __call__(self) -> None:
        swept = run_sweep(self.runtime)
        if swept is None:
            return
        wall = datetime.now(UTC)
        if swept.queued and self.scheduler.get_job("slack-drain") is not None:
            self.scheduler.modify_job("slack-drain", next_run_time=wall)
        if swept.wake is not None:
            delay = swept.wake - self.runtime.now()
            if delay > timedelta(0):
                self.scheduler.add_job(
                    _guard("wake", self),
                    "date",
                    run_date=wall + delay,
                    id="wake",
                    name=JOB_NAMES["wake"],
                    replace_existing=True,
                )


def drain_while_busy(drain: Callable[[], int], limit: float = DRAIN_BURST) -> int:
    """Drain again at once while a pass completed something (at most `limit` seconds), so a
    burst of due rows goes out back to back instead of one batch per interval."""
    deadline = time.monotonic() + limit
    total = done = drain()
    while done and time.monotonic() < deadline:
        done = drain()
        total += done
    return total


def prune(runtime: Runtime) -> dict[str, int]:
    """Delete what outlived FLARE_RETENTION: sent outbox rows, processed Slack request ids
    (and pending "publish anyway" updates past their hour), and rate-limit hits past every
    window. Each batch is its own short transaction, and a run does at most PRUNE_BATCHES
    per table. Incidents, timelines, components, maintenance and subscribers are never
    touched. Returns how many rows went, per table."""
    now = runtime.now()
    before = now - runtime.settings.retention
    pruners: dict[str, Callable[[Session], int]] = {
        "outbox": lambda s: outbox.prune_sent(s, before=before, limit=PRUNE_BATCH),
        "processed_requests": lambda s: prune_processed_requests(
            s, before=before, now=now, limit=PRUNE_BATCH
        ),
        "rate_limit_hits": lambda s: subscribers.prune_rate_limits(s, now, limit=PRUNE_BATCH),
        "check_results": lambda s: monitoring.prune_check_results(
            s, before=before, limit=PRUNE_BATCH
        ),
        "signals": lambda s: monitoring.prune_signals(s, before=before, limit=PRUNE_BATCH),
    }
    pruned: dict[str, int] = {}
    for table, prune_batch in pruners.items():
        pruned[table] = 0
        for _ in range(PRUNE_BATCHES):
            with runtime.sessions.begin() as session:
                count = prune_batch(session)
            pruned[table] += count
            if count < PRUNE_BATCH:
                break
    if any(pruned.values()):
        log.info("retention: pruned %s", ", ".join(f"{n} {t}" for t, n in pruned.items() if n))
    return pruned


def _guard(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except OperationalError as error:
            log.warning("%s skipped, database unavailable: %s", name, error.orig)
        except Exception:
            log.exception("%s failed; it runs again next tick", name)

    return run


def start_scheduler(runtime: Runtime, *, paused: bool = False) -> BackgroundScheduler:
    """Start the sweeps and, when Slack is configured, the outbox drain and the board
    (`paused`: scheduled but not running, to look at the jobs)."""
    scheduler = BackgroundScheduler(
        timezone="UTC",
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": None,
        },
    )
    tick = runtime.settings.tick.total_seconds()
    scheduler.add_job(
        _guard("sweep", Waker(runtime, scheduler)),
        "interval",
        seconds=tick,
        id="sweep",
        name=JOB_NAMES["sweep"],
        next_run_time=runtime.now(),
    )
    for name, job, every in background_jobs(runtime):
        scheduler.add_job(
            _guard(name, job), "interval", seconds=every, id=name, name=JOB_NAMES[name]
        )
    scheduler.start(paused=paused)
    return scheduler


def background_jobs(runtime: Runtime) -> list[tuple[str, Callable[[], object], float]]:
    """Outbox drains (Slack when configured, subscriber deliveries) and retention."""
    jobs: list[tuple[str, Callable[[], object], float]] = []
    if runtime.settings.slack_enabled:
        from bot.slack import SlackSender

        sender = SlackSender(runtime)
        jobs.append(
            ("slack-drain", lambda: drain_while_busy(sender.drain), DRAIN_INTERVAL.total_seconds())
        )
        jobs.append(("board", sender.refresh_board, 1.0))
        jobs.append(("oncall-group", sender.read_oncall_group, 30.0))
    if runtime.settings.dependencies:
        from bot.context import poll_due

        jobs.append(
            (
                "providers",
                lambda: poll_due(runtime.sessions, runtime.settings, runtime.now),
                1.0,
            )
        )
    from bot.subscribers import drain

    # Subscriber mail (when FLARE_SMTP_URL is set) and webhooks, in their own job.
    jobs.append(("deliveries", lambda: drain(runtime), 1.0))
    jobs.append(("retention", lambda: prune(runtime), RETENTION_EVERY.total_seconds()))
    jobs.extend(monitoring_jobs(runtime))
    return jobs


def run_monitoring(runtime: Runtime) -> None:
    """Episodes move on with time (confirm, recover) and drift is looked for."""
    with runtime.sessions.begin() as session:
        monitoring.sweep(session, runtime.settings, runtime.now())


def monitoring_jobs(runtime: Runtime) -> list[tuple[str, Callable[[], object], float]]:
    tick = runtime.settings.tick.total_seconds()
    jobs: list[tuple[str, Callable[[], object], float]] = [
        ("monitoring", lambda: run_monitoring(runtime), tick)
    ]
    if runtime.settings.checks:
        # Each (check, slot) is claimed in the database: every worker may try every second.
        run = lambda: monitoring.run_checks(runtime.sessions, runtime.settings, runtime.now)  # noqa: E731
        jobs.append(("checks", run, 1.0))
    return jobs


def run_worker(settings: Settings) -> None:
    runtime = Runtime.create(settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    scheduler = start_scheduler(runtime)
    log.info("worker started: sweeping every %ss", settings.tick.total_seconds())
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        runtime.close()
