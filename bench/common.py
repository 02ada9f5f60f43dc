"""What every bench shares: result rows, real processes on 127.0.0.1, databases, statistics.

Every process a bench starts is registered here and stopped by `stop_all()` (also at exit), so
an interrupted `make bench` leaves nothing running. Nothing here talks to anything but
127.0.0.1, and every wait is bounded.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.db import admin_dsn, scratch_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FLARE = BIN / "flare"
PG_URL = os.environ.get(
    "FLARE_BENCH_PG_URL",
    os.environ.get("FLARE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
SLACK_SECRET = "bench-signing-secret-0123456789ab"
SLACK_TOKEN = "xoxb-bench"
CHANNEL = "C0INCIDENTS"


@dataclass
class Config:
    """How hard to push: `quick` is the smoke-test size (seconds, not minutes)."""

    root: Path
    quick: bool = False

    def dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path


# --- results ---------------------------------------------------------------------------------


@dataclass
class Row:
    """One number, its baseline in the same run, and the performance target it is held to."""

    bench: str
    metric: str
    value: str
    baseline: str = "—"
    target: str = "—"
    met: bool | None = None  # None: no target, reported for context

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**MISSED**", None: "—"}[self.met]


@dataclass
class Result:
    name: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # method, caveats (markdown paragraphs)
    profile: str = ""  # a profile explaining a missed target (preformatted)
    error: str = ""  # the bench could not run (what is missing)
    seconds: float = 0.0

    def row(self, metric: str, value: str, **kwargs: Any) -> Row:
        item = Row(self.name, metric, value, **kwargs)
        self.rows.append(item)
        return item


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# --- processes -------------------------------------------------------------------------------

_RUNNING: list[subprocess.Popen[bytes]] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLARE_", "SLACK_", "DATABASE_URL", "PORT"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def start(
    args: Sequence[str], env: dict[str, str], log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    process = subprocess.Popen(
        list(args), env=env, cwd=cwd or log.parent, stdout=handle, stderr=handle
    )
    handle.close()
    _RUNNING.append(process)
    return process


def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process in _RUNNING:
        _RUNNING.remove(process)


def stop_all() -> None:
    for process in list(_RUNNING):
        stop(process)


atexit.register(stop_all)


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.05
) -> float:
    """Poll until `condition()`; returns the seconds waited. Raises TimeoutError with `what`."""
    started = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - started
        except OSError:
            pass
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 5) -> Any:
    """(status, headers, body) of a GET; 3xx/4xx/5xx are answers too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{tail(log)}")
        return http_get(url, timeout=2)[0] < 500

    try:
        wait_until(up, timeout=timeout, what=url, interval=0.1)
    except TimeoutError as error:
        raise RuntimeError(f"{error}\n{tail(log)}") from None


def tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def flare_web(
    env: dict[str, str], port: int, log: Path, *, health: str = "/healthz"
) -> subprocess.Popen[bytes]:
    """`flare web` as production runs it (one uvicorn worker), on 127.0.0.1."""
    process = start([str(FLARE), "web", "--host", "127.0.0.1", "--port", str(port)], env, log)
    wait_http(f"http://127.0.0.1:{port}{health}", process, log)
    return process


def flare_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return start([str(FLARE), "worker"], env, log)


def py_spy(pid: int, seconds: float) -> tuple[subprocess.Popen[bytes], Path]:
    """Start py-spy sampling `pid` at 200 Hz for `seconds`; the raw stacks go to the path."""
    out = Path(tempfile.mkdtemp(prefix="flare-pyspy-")) / "stacks.txt"
    args = ["record", "--pid", str(pid), "--rate", "200", "--format", "raw"]
    args += ["--duration", str(int(seconds) + 1), "--threads", "-o", str(out)]
    spy = subprocess.Popen(
        [str(BIN / "py-spy"), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return spy, out


def summarize(stacks: Path, watched: Sequence[str], what: str) -> str:
    """The share of py-spy samples per thread and under each watched frame (inclusive)."""
    from collections import Counter

    total, inclusive, threads = 0, Counter[str](), Counter[str]()
    try:
        text = stacks.read_text(encoding="utf-8")
    except OSError:
        return "py-spy collected no samples."
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        raw = stack.split(";")
        total += int(count)
        threads[raw[0].split(": ", 1)[-1]] += int(count)
        for frame in {f.split(" (")[0] for f in raw[1:]}:
            inclusive[frame] += int(count)
    if not total:
        return "py-spy collected no samples."
    lines = [f"{total} samples at 200 Hz {what}:"]
    lines += [f"  {n / total:6.1%}  thread {t}" for t, n in threads.most_common(3)]
    lines += [f"  {inclusive[f] / total:6.1%}  under {f}" for f in watched if inclusive[f]]
    return "\n".join(lines)


def new_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="flare-bench-"))


# --- databases -------------------------------------------------------------------------------


def pg_database(tag: str) -> contextlib.AbstractContextManager[str]:
    """A fresh PostgreSQL database at the latest schema, dropped afterwards."""
    return scratch_database(PG_URL, f"flare_bench_{tag}_{os.getpid()}")


def sqlite_database(directory: Path) -> str:
    from bot.db.migrate import upgrade

    url = f"sqlite:///{directory / 'flare.db'}"
    upgrade(url)
    return url


def pg_available() -> str:
    """'' if PostgreSQL answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(admin_dsn(PG_URL), connect_timeout=3):
            return ""
    except Exception as error:  # noqa: BLE001 - reported, not raised
        return f"PostgreSQL at {PG_URL} is not reachable: {error}"


# --- Slack -----------------------------------------------------------------------------------


def slack_env(fake_url: str, database_url: str, **extra: str) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=SLACK_TOKEN,
        SLACK_SIGNING_SECRET=SLACK_SECRET,
        SLACK_API_URL=fake_url,
        FLARE_INCIDENTS_CHANNEL=CHANNEL,
        **extra,
    )


def signed_command(text: str, *, user: str, response_url: str) -> tuple[bytes, dict[str, str]]:
    """A `/incident` slash command as Slack sends it, signed with the bench secret."""
    from urllib.parse import urlencode

    from slack_sdk.signature import SignatureVerifier

    body = urlencode(
        {
            "token": "legacy",
            "team_id": "T0BENCH001",
            "channel_id": CHANNEL,
            "user_id": user,
            "command": "/incident",
            "text": text,
            "trigger_id": f"trig-{secrets.token_hex(8)}",
            "response_url": response_url,
        }
    )
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=stamp, body=body)
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": str(signature),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return body.encode(), headers


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)
