"""Ack latency: `/incident` slash commands to a `flare web` process while the Slack Web API
(the fake) takes 2 s per call, against the same commands with a fast Slack in the same run.

A `flare worker` drains the outbox meanwhile, so thread posts, the board and DMs are stuck on
the slow API exactly as in an outage; declares without a title open a modal right after the
ack, a `views.open` that takes 2 s too. Commands arrive open-loop at a fixed rate, each on its
own connection (as Slack sends them), signed with the signing secret.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from bench import common
from bench.common import Result, ms, percentile
from tests.support.fakeslack import FakeSlack

TARGET_P99 = 0.300
SLOW = 2.0
USERS = ["U0ALICE01", "U0BOB0001", "U0CAROL01"]


@dataclass
class Sample:
    text: str
    seconds: float
    status: int
    reply: str


def commands(count: int, offset: int) -> list[str]:
    out = []
    for n in range(offset, offset + count):
        kind = n % 6
        if kind == 0:
            out.append(f"declare sev{1 + n % 4} Bench incident {n}")
        elif kind == 1:
            out.append(f"note 1 Internal note {n}: the load balancer logs show retries")
        elif kind == 2:
            out.append(f"update 1 identified We are working on elevated error rates ({n}).")
        elif kind == 3:
            out.append("list")
        elif kind == 4:
            out.append("show 1")
        else:
            out.append("declare")  # no title: the modal opens right after the ack
    return out


def fire(endpoint: str, fake: FakeSlack, texts: list[str], rate: float) -> list[Sample]:
    """Send each command at its slot (open loop), each from its own thread; wait for all."""
    samples: list[Sample] = []
    lock = threading.Lock()

    def one(n: int, text: str) -> None:
        body, headers = common.signed_command(
            text, user=USERS[n % len(USERS)], response_url=fake.response_url(f"ack-{n}")
        )
        started = time.perf_counter()
        status, raw = common.post(endpoint, body, headers, timeout=30)
        elapsed = time.perf_counter() - started
        try:
            reply = str(json.loads(raw).get("text", ""))
        except ValueError:
            reply = raw.decode(errors="replace")
        with lock:
            samples.append(Sample(text, elapsed, status, reply))

    threads = []
    begin = time.monotonic()
    for n, text in enumerate(texts):
        delay = begin + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=one, args=(n, text), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=60)
    return samples


def run(cfg: common.Config) -> Result:
    result = Result("Ack latency")
    count = 6 if cfg.quick else 60
    rate = 5.0
    with common.pg_database("acks") as url, FakeSlack() as fake:
        directory = cfg.dir("acks")
        env = common.slack_env(fake.url, url, FLARE_TICK="1s")
        port = common.free_port()
        common.flare_web(env, port, directory / "web.log")
        worker = common.flare_worker(env, directory / "worker.log")
        endpoint = f"http://127.0.0.1:{port}/slack/events"
        try:
            warm = fire(endpoint, fake, ["declare sev2 Checkout errors", "list"], rate)
            if any(s.status != 200 for s in warm):
                raise RuntimeError(f"warm-up failed: {warm}\n{common.tail(directory / 'web.log')}")
            fast = fire(endpoint, fake, commands(count, 0), rate)
            fake.delay("*", SLOW)
            slow_started = time.monotonic()
            slow = fire(endpoint, fake, commands(count, count), rate)
            slow_calls = [c for c in fake.calls if c.ts >= slow_started]
            waiting = [c for c in slow_calls if c.end_ts is None]
            fake.clear_faults()
        finally:
            common.stop(worker)
    for label, samples in (("fast", fast), ("slow", slow)):
        bad = [s for s in samples if s.status != 200]
        if bad:
            result.notes.append(f"{label} phase: {len(bad)} non-200 acks, e.g. {bad[0]}")
    declared = [s for s in slow if s.text.startswith("declare ") and "Declared INC-" in s.reply]
    expected = [s for s in slow if s.text.startswith("declare ")]
    slow_t = [s.seconds for s in slow]
    fast_t = [s.seconds for s in fast]
    p99 = percentile(slow_t, 99)
    result.row(
        "p50 ack, Slack API 2 s/call",
        ms(percentile(slow_t, 50)),
        baseline=f"{ms(percentile(fast_t, 50))} (Slack fast)",
    )
    result.row(
        "p99 ack, Slack API 2 s/call",
        ms(p99),
        baseline=f"{ms(percentile(fast_t, 99))} (Slack fast)",
        target="p99 ≤ 300 ms",
        met=p99 <= TARGET_P99,
    )
    result.row("max ack, Slack API 2 s/call", ms(max(slow_t)), baseline=ms(max(fast_t)))
    result.row(
        "declares acked with their incident",
        f"{len(declared)}/{len(expected)}",
        baseline="all",
        met=len(declared) == len(expected),
        target="an acked command is committed",
    )
    result.notes.append(
        f"{count} commands per phase at {rate:.0f}/s (declare, note, update, list, show, and "
        "declare without a title, which opens a modal after the ack), each on a new "
        "connection; PostgreSQL; one `flare web` (one uvicorn worker) and one `flare worker` "
        f"draining the outbox. During the slow phase the fake Slack received "
        f"{len(slow_calls)} Web API calls, each held {SLOW:.0f} s ({len(waiting)} were still "
        "waiting when the last ack came back)."
    )
    return result
