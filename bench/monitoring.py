"""Monitoring storms: one Alertmanager payload of 1,000 alerts, then 100 payloads a second for
10 s, against a real `flare web` on PostgreSQL with two `flare worker` processes driving a fake
Slack. Every answer must be 2xx; the board is still edited at most once a second; each
component episode has one triage message. Everything runs on 127.0.0.1; every wait is bounded.

The baseline for the big payload is a payload of one alert, in the same run.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from bench import common
from bench.common import Result
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import Episode
from tests.support.fakeslack import FakeSlack

TOKEN = "bench-hook-token-0123456789"
KEYS = [f"svc{n}" for n in range(20)]
BIG = 1000
RATE = 100
SECONDS = 10.0


def config_text() -> str:
    policy = ["auto", "suggest", "suggest", "suggest"]
    items = ", ".join(
        f'{{ key = "{k}", name = "Service {n}", automation = "{policy[n % 4]}" }}'
        for n, k in enumerate(KEYS)
    )
    return f'[page]\nname = "Bench"\ncomponents = [{items}]\n'


def alerts(count: int, salt: str, resolved_every: int = 0) -> bytes:
    items = []
    for n in range(count):
        firing = not (resolved_every and n % resolved_every == 0)
        items.append(
            {
                "status": "firing" if firing else "resolved",
                "labels": {"alertname": f"Alert{n % 50}", "component": KEYS[n % len(KEYS)],
                           "instance": f"{salt}-{n}",
                           "severity": "critical" if n % 3 else "warning"},
                "annotations": {"summary": f"storm alert {n}"},
                "startsAt": "2026-11-25T13:58:45.828Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.org/graph",
                "fingerprint": f"{salt}{n:06x}",
            }
        )  # fmt: skip
    body = {"receiver": "flare", "status": "firing", "alerts": items, "groupLabels": {},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0}  # fmt: skip
    return json.dumps(body).encode()


def timed_post(url: str, body: bytes) -> tuple[int, float]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    started = time.perf_counter()
    status, _ = common.post(url, body, headers, timeout=10)
    return status, time.perf_counter() - started


def board_edits(fake: FakeSlack, since: float) -> list[float]:
    pins = fake.pins.get(common.CHANNEL) or set()
    return [
        c.ts
        for c in fake.calls
        if c.ts >= since
        and c.status == 200
        and (
            (c.method == "chat.update" and c.args.get("ts") in pins)
            or (
                c.method == "chat.postMessage"
                and str(c.args.get("text", "")).startswith("Incident")
            )
        )
    ]


def run(cfg: common.Config) -> Result:
    result = Result("Monitoring storms")
    seconds = 2.0 if cfg.quick else SECONDS
    directory = cfg.dir("monitoring")
    config = directory / "flare.toml"
    config.write_text(config_text())
    with common.pg_database("monitoring") as url, FakeSlack() as fake:
        env = common.slack_env(
            fake.url, url, FLARE_HOOK_TOKEN=TOKEN, FLARE_CONFIG=str(config), FLARE_TICK="1s",
            FLARE_SIGNAL_CONFIRM="1s",
        )  # fmt: skip
        port = common.free_port()
        common.flare_web(env, port, directory / "web.log")
        workers = [common.flare_worker(env, directory / f"worker{n}.log") for n in (1, 2)]
        hook = f"http://127.0.0.1:{port}/hooks/alertmanager"
        # Both workers past their start-up (which checks every component's level) first.
        health = f"http://127.0.0.1:{port}/healthz"
        common.wait_until(
            lambda: json.loads(common.http_get(health)[2]).get("scheduler") == "ok",
            timeout=60,
            what="the workers",
        )
        time.sleep(3.0)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        try:
            for _ in range(3):  # warm the process (imports, connection pool)
                timed_post(hook, alerts(1, "warm"))
            one = [timed_post(hook, alerts(1, f"one{n}"))[1] for n in range(5)]
            big_status, big = timed_post(hook, alerts(BIG, "big"))
            started = time.monotonic()
            latencies: list[float] = []
            statuses: list[int] = []
            lock = threading.Lock()

            def send(n: int) -> None:
                # Realistic repeats: the same alerts again and again, a few resolving.
                status, took = timed_post(hook, alerts(10, f"storm{n % 30}", resolved_every=7))
                with lock:
                    statuses.append(status)
                    latencies.append(took)

            total = int(RATE * seconds)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=16) as pool:
                for n in range(total):
                    delay = t0 + n / RATE - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    pool.submit(send, n)
            sent_for = time.perf_counter() - t0
            storm_end = time.monotonic()
            common.wait_until(lambda: _drained(sessions), timeout=60, what="the outbox")
            time.sleep(2.0)  # a board edit still due would show here
        finally:
            for worker in workers:
                common.stop(worker)
        with sessions.begin() as session:
            episodes = session.scalar(select(func.count()).select_from(Episode)) or 0
            triaged = (
                session.scalar(
                    select(func.count()).select_from(Episode).where(Episode.triage.is_(True))
                )
                or 0
            )
        engine.dispose()
    edits = board_edits(fake, started)
    per_second = max((sum(1 for t in edits if s <= t < s + 1.0) for s in edits), default=0)
    triage_posts = [
        c for c in fake.calls
        if c.method == "chat.postMessage" and c.status == 200
        and ":rotating_light:" in str(c.args.get("text", ""))
    ]  # fmt: skip
    ok = sum(1 for s in statuses if 200 <= s < 300)
    methods: dict[str, int] = {}
    for call in fake.calls:
        methods[call.method] = methods.get(call.method, 0) + 1
    result.row(
        f"one payload of {BIG} alerts: answered",
        f"{common.ms(big)} (HTTP {big_status})",
        baseline=f"1 alert: {common.ms(common.median(one))}",
        target="< 1 s, 2xx",
        met=big < 1.0 and big_status == 200,
    )
    result.row(
        f"{RATE} payloads/s for {seconds:.0f} s: answered 2xx",
        f"{ok}/{len(statuses)}",
        target="all",
        met=ok == len(statuses) == total,
    )
    result.row(
        f"{RATE} payloads/s: p50 / p99 latency",
        f"{common.ms(common.median(latencies))} / {common.ms(common.percentile(latencies, 99))}",
        baseline=f"1 alert alone: {common.ms(common.median(one))}",
        target="p99 ≤ 100 ms",
        met=common.percentile(latencies, 99) <= 0.1 if not cfg.quick else None,
    )
    result.row(
        "board edits during the storm: most in any 1 s",
        f"{per_second} ({len(edits)} in {storm_end - started + 2:.0f} s)",
        target="≤ 1 a second",
        met=per_second <= 1,
    )
    result.row(
        "triage messages per component episode",
        f"{len(triage_posts)} messages for {triaged} triaged episodes ({episodes} episodes)",
        target="one each",
        met=len(triage_posts) == triaged,
    )
    result.notes.append(
        f"`flare web` (one uvicorn worker) and two `flare worker` processes on PostgreSQL, a fake "
        f"Slack on 127.0.0.1; {len(KEYS)} components (every fourth `auto`, the rest `suggest`), "
        f"`FLARE_SIGNAL_CONFIRM=1s` so episodes open during the storm. The storm sent "
        f"{total} payloads of 10 alerts (30 distinct groups repeated, one alert in 7 resolved) "
        f"open-loop at {RATE}/s from 16 client threads in {sent_for:.1f} s. Slack calls: "
        + ", ".join(f"{m} {n}" for m, n in sorted(methods.items()))
        + "."
    )
    return result


def _drained(sessions: Any) -> bool:
    from bot.db.models import OutboxMessage

    with sessions.begin() as session:
        pending = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.dead.is_(False))
        )
    return pending == 0
