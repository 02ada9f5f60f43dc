"""Propagation: a public update committed by another process (this one, through the services)
until every one of three `flare web` processes on PostgreSQL serves it in
`/api/v2/summary.json`. Baseline: the same commit seen by a plain query from another
connection (the floor any design has).
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import select

from bench import common
from bench.common import Result, median
from bench.seed import bench_settings, write_config
from bot import incidents as svc
from bot.db.models import TimelineEvent
from bot.runtime import Runtime
from tests.support.factories import responder

WEBS = 3
TARGET = 2.0


def _served(base: str, token: str, timeout: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        status, _, body = common.http_get(base + "/api/v2/summary.json", timeout=5)
        if status == 200 and token.encode() in body:
            return time.perf_counter() - started
        time.sleep(0.01)
    return float("inf")


def run(cfg: common.Config) -> Result:
    result = Result("Propagation")
    trials = 3 if cfg.quick else 8
    with common.pg_database("prop") as url:
        directory = cfg.dir("propagation")
        config = write_config(directory / "flare.toml")
        settings = bench_settings(url)
        runtime = Runtime.create(settings)
        env = common.clean_env(DATABASE_URL=url, FLARE_CONFIG=str(config))
        ports = [common.free_port() for _ in range(WEBS)]
        try:
            for n, port in enumerate(ports):
                common.flare_web(env, port, directory / f"web{n}.log")
            with runtime.sessions.begin() as session:
                incident, _ = svc.declare(
                    session,
                    settings,
                    title="Probe",
                    actor=responder("U0BENCH"),
                    now=datetime.now(UTC),
                )
                number = incident.number
            served: list[float] = []
            seen: list[float] = []
            rng = random.Random(7)
            for trial in range(trials):
                time.sleep(rng.uniform(0.3, 1.3))  # land anywhere in the 1 s check cycle
                token = f"probe-{trial}-{secrets.token_hex(4)}"
                with runtime.sessions.begin() as session:
                    svc.publish_update(
                        session,
                        settings,
                        svc.get_incident(session, number),
                        message=f"We are investigating ({token}).",
                        actor=responder("U0BENCH"),
                        now=datetime.now(UTC),
                        force=True,
                    )
                committed = time.perf_counter()
                times: list[float] = [0.0] * WEBS

                def watch(i: int, token: str = token, times: list[float] = times) -> None:
                    times[i] = _served(f"http://127.0.0.1:{ports[i]}", token, 10.0)

                threads = [threading.Thread(target=watch, args=(i,)) for i in range(WEBS)]
                for thread in threads:
                    thread.start()
                with runtime.sessions() as session:
                    session.scalar(
                        select(TimelineEvent.id).where(TimelineEvent.body.contains(token))
                    )
                seen.append(time.perf_counter() - committed)
                for thread in threads:
                    thread.join()
                served.append(max(times))
        finally:
            runtime.close()
            common.stop_all()
    worst = max(served)
    result.row(
        f"update committed → served by all {WEBS} web processes: median / max",
        f"{median(served):.2f} / {worst:.2f} s",
        baseline=f"read back by a query: {median(seen) * 1000:.1f} ms",
        target="≤ 2 s",
        met=worst <= TARGET,
    )
    result.notes.append(
        f"{trials} public updates, each committed at a random point of the 1 s version-check "
        f"cycle; each of {WEBS} `flare web` processes (PostgreSQL) polled every 10 ms for the "
        "update's text in `/api/v2/summary.json`; the slowest process counts."
    )
    return result
