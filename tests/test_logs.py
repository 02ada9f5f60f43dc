"""One log format for Flare, uvicorn and APScheduler (text, or JSON lines with
FLARE_LOG_FORMAT=json); named jobs; no line per scheduler run; the real server on uvloop and
httptools with every request in the access log."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.cli.serve import SERVER_SETTINGS
from bot.config import configure_logging
from bot.runtime import Runtime
from bot.worker import JOB_NAMES, start_scheduler

TEXT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARNING|ERROR) [\w.]+: ")
FLARE = str(Path(sys.executable).with_name("flare"))


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    stream = io.StringIO()
    yield stream
    for handler in list(root.handlers):
        if getattr(handler, "flare", False):
            root.removeHandler(handler)
    root.handlers[:] = before[0]
    root.setLevel(before[1])


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_logs_flare_uvicorn_and_apscheduler_share_one_format(
    captured: io.StringIO, fmt: str
) -> None:
    configure_logging(fmt, stream=captured)
    logging.getLogger("flare.worker").info("worker started: %s", "x")
    logging.getLogger("uvicorn.error").info("Uvicorn running on http://127.0.0.1:1")
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("flare.web").exception("it broke")
    logging.getLogger("apscheduler.executors.default").info("Running job x")  # silenced
    text = captured.getvalue()
    assert "Running job" not in text
    if fmt == "json":
        docs = [json.loads(line) for line in text.splitlines()]
        assert [d["logger"] for d in docs] == [
            "flare.worker",
            "uvicorn.error",
            "apscheduler.scheduler",
            "flare.web",
        ]
        assert all(set(d) >= {"time", "level", "logger", "message"} for d in docs)
        assert "RuntimeError: boom" in docs[-1]["exception"]
    else:
        heads = [line for line in text.splitlines() if not line.startswith((" ", "Traceback"))]
        heads = [line for line in heads if not line.startswith("RuntimeError")]
        assert len(heads) == 4 and all(TEXT.match(line) for line in heads), text
        assert "RuntimeError: boom" in text


def test_logs_a_newline_in_a_message_or_traceback_forges_no_line(captured: io.StringIO) -> None:
    configure_logging("text", stream=captured)
    forged = 'x\n2026-11-29T20:44:22.123Z INFO flare.access: 1.2.3.4:5 - "DELETE / HTTP/1.1" 200'
    logging.getLogger("flare.deliveries").warning("SMTP said: %s", forged + "\r")
    try:
        raise RuntimeError(forged)
    except RuntimeError:
        logging.getLogger("flare.web").exception("it broke")
    lines = captured.getvalue().splitlines()
    at_margin = [line for line in lines if not line.startswith(" ")]
    assert len(at_margin) == 2 and all(TEXT.match(line) for line in at_margin), lines
    assert at_margin[0].endswith("200\\r") and "x\\n2026" in at_margin[0]
    assert any("RuntimeError: x" in line for line in lines)


def test_logs_scheduler_jobs_are_named_and_quiet_when_idle(
    runtime: Runtime, captured: io.StringIO
) -> None:
    configure_logging("text", stream=captured)
    quick = replace(runtime, settings=replace(runtime.settings, tick=runtime.settings.tick / 5))
    scheduler = start_scheduler(quick)
    try:
        names = {job.id: job.name for job in scheduler.get_jobs()}
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and scheduler.get_job("sweep") is not None:
            time.sleep(0.1)  # a few sweeps and drains run, with nothing to do
    finally:
        scheduler.shutdown(wait=True)
    assert names == {name: JOB_NAMES[name] for name in names}
    assert set(names) >= {"sweep", "deliveries", "retention"}
    assert all("<locals>" not in name for name in names.values())
    assert captured.getvalue() == ""  # idle jobs log nothing, APScheduler neither


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_logs_server_settings_pin_uvloop_and_httptools() -> None:
    assert SERVER_SETTINGS["loop"] == "uvloop" and SERVER_SETTINGS["http"] == "httptools"
    assert SERVER_SETTINGS["access_log"] is False  # Flare's access log replaces uvicorn's


@pytest.mark.slow
def test_logs_flare_web_json_lines_on_uvloop_with_every_request(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FLARE_"))}
    env.pop("DATABASE_URL", None)
    env["FLARE_LOG_FORMAT"] = "json"
    process = subprocess.Popen(
        [FLARE, "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    sent = 0
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                sent += 1
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                sent -= 1
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=5) as http:
            for n in range(40):
                http.get("/" if n % 2 else "/api/v2/summary.json")
                sent += 1
            http.post("/")
            sent += 1
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    docs = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    loggers = {d["logger"] for d in docs}
    assert {"flare.access", "uvicorn.error", "flare.web"} <= loggers, loggers
    assert "uvicorn.access" not in loggers  # one access line per request: Flare's
    access = [d for d in docs if d["logger"] == "flare.access"]
    assert len(access) == sent
    assert [d["status"] for d in access[-41:]] == [200] * 40 + [405]
    assert any("uvloop" in d["message"] for d in docs if d["logger"] == "flare.web")


def test_logs_an_sql_error_carries_no_bound_value(runtime: Runtime) -> None:
    with pytest.raises(DBAPIError) as caught, runtime.engine.connect() as conn:
        conn.execute(
            text("SELECT nosuchcolumn FROM outbox WHERE key = :k"), {"k": "ana@corp.example"}
        )
    assert "ana@corp.example" not in str(caught.value)
    assert "hidden" in str(caught.value)
