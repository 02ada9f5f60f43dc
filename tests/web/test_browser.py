"""The page in Debian's Chromium (Playwright) against a live server: what a customer reads,
light, dark and at phone width; screenshots go to docs/screenshots/."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from bot.runtime import Runtime
from tests.conftest import Clock
from tests.support.publicdata import Scenario, seed
from web.app import create_app

pytestmark = pytest.mark.slow  # a real server process (make test-fast skips it)

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def live(runtime: Runtime, clock: Clock) -> Iterator[tuple[str, Scenario]]:
    scenario = seed(runtime, clock)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", scenario
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_browser_customer_reads_the_outage(live: tuple[str, Scenario]) -> None:
    base, scenario = live
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            for scheme in ("light", "dark"):
                context = browser.new_context(
                    viewport={"width": 1100, "height": 900},
                    color_scheme=scheme,
                    java_script_enabled=False,
                )
                page = context.new_page()
                page.on("request", lambda request: requests.append(request.url))
                page.goto(base + "/")
                banner = page.locator(".banner h1")
                assert banner.inner_text() == "Partial System Outage"
                incident = page.locator("article.incident").first
                assert "Partial outage: API, Dashboard" in incident.inner_text()
                assert f"Next update by {scenario.promise}" in incident.inner_text()
                assert "The cause has been identified." in incident.inner_text()
                assert "Affected: API (partial outage), Dashboard (degraded performance)" in (
                    incident.inner_text()
                )
                text = page.locator("main").inner_text()
                assert "Database upgrade" in text and "Network maintenance" in text
                assert "Under maintenance" in text  # words, not only colour
                bars = page.get_by_role("img", name="API: ")
                assert bars.count() == 1
                assert "uptime over the past 90 days" in (bars.get_attribute("aria-label") or "")
                background = page.evaluate("getComputedStyle(document.body).backgroundColor")
                assert (background == "rgb(13, 17, 23)") is (scheme == "dark")
                page.screenshot(path=str(SHOTS / f"page-{scheme}.png"), full_page=True)
                context.close()
            phone = browser.new_context(
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                is_mobile=True,
                java_script_enabled=False,
            )
            page = phone.new_page()
            page.goto(base + "/")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, "no sideways scrolling on a phone"
            visible_days = page.locator(".bars").first.locator(".d:visible").count()
            assert visible_days == 30
            page.screenshot(path=str(SHOTS / "page-phone.png"), full_page=True)
            page.goto(f"{base}/incidents/{scenario.open_id}")
            assert page.locator("h1").inner_text() == "Partial outage: API, Dashboard"
            phone.close()
        finally:
            browser.close()
    assert requests and all(url.startswith(base) for url in requests), requests
