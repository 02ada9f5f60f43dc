"""A change committed by one process is served by another `flare web` process within 2 s."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot import incidents as svc
from bot.incidents import CLI
from bot.runtime import Runtime
from bot.text.status import ComponentStatus

pytestmark = pytest.mark.slow  # a real server process (make test-fast skips it)

CONFIG = """
[page]
name = "Acme"
components = [
  { key = "api", name = "API", group = "Platform", description = "Public REST API" },
  { key = "dashboard", name = "Dashboard", group = "Platform" },
  { key = "webhooks", name = "Webhooks" },
]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def web_process(runtime: Runtime, tmp_path: Path) -> Iterator[str]:
    (tmp_path / "flare.toml").write_text(CONFIG)
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FLARE_"))},
        "DATABASE_URL": runtime.settings.database_url,
        "FLARE_CONFIG": str(tmp_path / "flare.toml"),
        "FLARE_PUBLIC_URL": "https://status.acme.test",
    }
    flare = Path(sys.executable).with_name("flare")
    process = subprocess.Popen(
        [str(flare), "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/api/v2/status.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "flare web exited"
            assert time.monotonic() < deadline, "flare web did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_public_change_reaches_another_process_within_two_seconds(
    runtime: Runtime, web_process: str
) -> None:
    before = httpx.get(f"{web_process}/api/v2/status.json").json()
    assert before["status"]["indicator"] == "none"
    with runtime.sessions.begin() as session:
        svc.set_manual_level(
            session,
            key="api",
            level=ComponentStatus.MAJOR_OUTAGE,
            actor=CLI,
            now=runtime.now(),
        )
    committed = time.monotonic()
    seen = None
    while time.monotonic() - committed < 5:
        doc = httpx.get(f"{web_process}/api/v2/status.json").json()
        if doc["status"]["indicator"] == "critical":
            seen = time.monotonic() - committed
            break
        time.sleep(0.05)
    assert seen is not None, "the other process never served the change"
    assert seen < 2.0, f"served after {seen:.2f} s"
    page = httpx.get(f"{web_process}/").text
    assert "Major System Outage" in page
