"""The `flare` console script, run as a real process against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow  # real `flare` processes (make test-fast skips them)

FLARE = str(Path(sys.executable).with_name("flare"))


def flare(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FLARE_"))}
    full_env.pop("DATABASE_URL", None)
    full_env.update(env or {})
    return subprocess.run(
        [FLARE, *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "flare.toml").write_text(
        '[[components]]\nkey = "api"\nname = "API"\n', encoding="utf-8"
    )
    if db_url.startswith("postgresql"):
        return {"DATABASE_URL": db_url.replace("postgresql+psycopg://", "postgresql://")}
    return {"DATABASE_URL": db_url}


def test_cli_tells_the_story_of_an_incident(cli_env: dict[str, str], tmp_path: Path):
    def run(*args: str) -> str:
        result = flare("incident", *args, cwd=tmp_path, env=cli_env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "Declared INC-1 [sev2] Checkout errors" in run("declare", "sev2", "Checkout errors")
    assert "Published on INC-1 (identified)" in run(
        "update",
        "INC-3".replace("3", "1"),
        "identified",
        "api=partial",
        "We are seeing failed checkouts",
    )
    assert "Internal note added" in run("note", "1", "Rolled back deploy 4411 on db-prod-3")
    assert "is now owner" in run("owner", "#1", "--as", "U0JANE", "U0OWNER")
    assert "Resolved INC-1" in run("resolve", "inc-1", "Checkout works again.")
    shown = run("show", "INC-1")
    assert "[internal note] Rolled back deploy 4411 on db-prod-3" in shown
    assert (
        "[public] identified [API operational→partial_outage] "
        "(page: API Operational → Partial outage)" in shown
    )
    assert "U0JANE: owner → U0OWNER" in shown
    assert (
        "[public] resolved [API partial_outage→operational] "
        "(page: API Partial outage → Operational): Checkout works again." in shown
    )
    assert "No open incidents." in run("list")


def test_cli_bad_input_is_clear_and_changes_nothing(cli_env: dict[str, str], tmp_path: Path):
    assert flare("incident", "declare", "Login slow", cwd=tmp_path, env=cli_env).returncode == 0
    cases = [
        (("show", "INC-9"), 1, "There is no incident INC-9"),
        (("update", "1", "api=major", "   "), 2, "needs a message"),
        (("update", "1", "api=broken", "x"), 2, "not a level"),
        (("frobnicate",), 2, "Unknown sub-command"),
        (("note", "1", "x" * 10_001), 1, "limit is 10,000"),
        (("update", "1", "db-prod-3 at 10.1.2.3 is down"), 1, "Not published"),
        (("owner", "1", "--as", "jane", "U0X"), 2, "--as takes a Slack user ID"),
    ]
    for args, code, message in cases:
        result = flare("incident", *args, cwd=tmp_path, env=cli_env)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)
    shown = flare("incident", "show", "1", cwd=tmp_path, env=cli_env).stdout
    assert shown.count("\n  ") == 1  # only the declaration is in the timeline


def test_cli_force_publishes_despite_findings(cli_env: dict[str, str], tmp_path: Path):
    flare("incident", "declare", "DB", cwd=tmp_path, env=cli_env)
    result = flare(
        "incident",
        "update",
        "1",
        "--force",
        "--",
        "Failover of db-prod-3 done",
        cwd=tmp_path,
        env=cli_env,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "Failover of db-prod-3 done"
        in flare("incident", "show", "1", cwd=tmp_path, env=cli_env).stdout
    )


def test_cli_bad_configuration_is_one_line(tmp_path: Path):
    result = flare("incident", "list", cwd=tmp_path, env={"FLARE_TICK": "often"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "flare: configuration error: FLARE_TICK: 'often' is not a duration like 30s, 15m, 1h or 30d"
    ]


def test_cli_lint_public_prints_json_lines(tmp_path: Path):
    clean = flare("lint-public", cwd=tmp_path, stdin="We are investigating elevated errors.")
    assert clean.returncode == 0 and clean.stdout.strip() == ""
    flagged = flare("lint-public", cwd=tmp_path, stdin="Host 10.0.0.12 is down")
    assert flagged.returncode == 1
    finding = json.loads(flagged.stdout.splitlines()[0])
    assert finding["kind"] == "ip" and finding["text"] == "10.0.0.12"
    assert "Host 10.0.0.12 is down"[finding["start"] : finding["end"]] == "10.0.0.12"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_run_on_a_fresh_checkout_serves_healthz(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FLARE_"))}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [FLARE, "run", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                body = response.json()
            except httpx.HTTPError:
                time.sleep(0.2)
        assert body is not None and body["database"] == "ok"
        assert (tmp_path / "flare.db").exists()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert "Slack is off: SLACK_BOT_TOKEN is not set" in output
    assert "slack-app-manifest.yml" in output


def test_cli_web_believes_forwarded_for_only_from_its_proxies_and_logs_no_secret(
    tmp_path: Path,
):
    """The real server: uvicorn itself trusts no proxy header (the app applies
    FORWARDED_ALLOW_IPS), and nothing it logs carries a secret from the environment."""
    port = _free_port()
    secrets = {
        "SLACK_BOT_TOKEN": "xoxb-1111-secret-bot-token",
        "SLACK_SIGNING_SECRET": "signing-secret-2222",
        "FLARE_SECRET_KEY": "site-key-4444",
        "FLARE_SMTP_URL": "smtp://mailer:smtp-pass-5555@127.0.0.1:1",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FLARE_"))}
    env.pop("DATABASE_URL", None)
    env.update(secrets, FORWARDED_ALLOW_IPS="10.9.9.9", SLACK_API_URL="http://127.0.0.1:1/")
    process = subprocess.Popen(
        [FLARE, "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        statuses = [
            httpx.post(
                f"{base}/subscriptions",
                data={"email": f"user{n}@example.com"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
                timeout=10,
            ).status_code
            for n in range(11)
        ]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert statuses == [200] * 10 + [429], output  # 127.0.0.1 is not a trusted proxy here
    for secret in ("1111", "2222", "4444", "5555"):
        assert secret not in output


@pytest.mark.parametrize("port", ["８０８０", "²", "٨٠٨٠", "0", "70000"])
def test_cli_port_is_ascii_digits_in_range(tmp_path: Path, port: str):
    result = flare("web", "--port", port, cwd=tmp_path)
    assert result.returncode == 2 and "--port" in result.stderr


def test_cli_as_a_slack_user_is_held_to_the_responders_rule(
    cli_env: dict[str, str], tmp_path: Path
):
    env = {**cli_env, "FLARE_RESPONDERS": "U0RESP0001"}
    assert flare("incident", "declare", "Login slow", cwd=tmp_path, env=env).returncode == 0
    words = ("incident", "update", "1", "We are looking into slow logins.")
    refused = flare(*words, "--as", "U0OTHER001", cwd=tmp_path, env=env)
    assert refused.returncode == 1
    assert "Only responders can do that" in refused.stderr
    shown = flare("incident", "show", "1", cwd=tmp_path, env=env).stdout
    assert "[public]" not in shown
    noted = flare(
        "incident", "note", "1", "anyone may note", "--as", "U0OTHER001", cwd=tmp_path, env=env
    )
    assert noted.returncode == 0
    allowed = flare(*words, "--as", "U0RESP0001", cwd=tmp_path, env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert flare(*words, cwd=tmp_path, env=env).returncode == 0  # the operator `cli`


def test_cli_from_another_directory_never_hides_the_pages_components(
    cli_env: dict[str, str], tmp_path: Path
):
    """The shell's flare.toml (or none) is not the page's: `flare incident` uses the
    components the database has and leaves them as they are."""
    assert flare("incident", "declare", "Login slow", cwd=tmp_path, env=cli_env).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    words = ("incident", "update", "1", "identified", "api=partial", "We found the cause.")
    published = flare(*words, cwd=elsewhere, env=cli_env)
    assert published.returncode == 0, published.stderr
    shown = flare("incident", "show", "1", cwd=elsewhere, env=cli_env).stdout
    assert "[API operational→partial_outage]" in shown  # api= was a component, not text
    page = flare("incident", "component", "api", "major", cwd=elsewhere, env=cli_env)
    assert page.returncode == 0 and "API" in page.stdout


def test_cli_a_flag_given_a_value_is_refused_not_taken_as_set():
    from bot.cli.options import split_options
    from bot.errors import UsageError

    with pytest.raises(UsageError, match="--force takes no value"):
        split_options(["update", "1", "--force=false", "text"], {"--force": False})
