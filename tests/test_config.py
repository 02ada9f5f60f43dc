"""Configuration (README "Configuration"): defaults, parsing, and one clear line for a bad value."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def test_config_defaults_with_an_empty_environment(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.database_url == "sqlite:///./flare.db"
    assert settings.cadence == {
        "sev1": timedelta(minutes=15),
        "sev2": timedelta(minutes=20),
        "sev3": timedelta(minutes=30),
        "sev4": timedelta(minutes=30),
    }
    assert settings.reminder_lead == timedelta(minutes=5)
    assert settings.tick == timedelta(seconds=5)
    assert settings.public_url == "http://localhost:8000"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert not settings.slack_enabled and settings.port == 8000
    assert settings.sender_address == "status@localhost"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_config_postgres_urls_map_to_psycopg3(url: str, expected: str):
    assert load_settings({"DATABASE_URL": url}).database_url == expected


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({"FLARE_INCIDENTS_CHANNEL": "#incidents"}, "FLARE_INCIDENTS_CHANNEL"),
        ({"FLARE_RESPONDERS": "jane"}, "FLARE_RESPONDERS"),
        ({"FLARE_RESPONDERS": "S1AAA,S2BBB"}, "FLARE_RESPONDERS"),
        ({"FLARE_CADENCE": "sev1=soon"}, "FLARE_CADENCE"),
        ({"FLARE_CADENCE": "sev9=10m"}, "FLARE_CADENCE"),
        ({"FLARE_REMINDER_LEAD": "5"}, "FLARE_REMINDER_LEAD"),
        ({"FLARE_TICK": "0s"}, "FLARE_TICK"),
        ({"FLARE_PUBLIC_URL": "status.acme.com"}, "FLARE_PUBLIC_URL"),
        ({"FLARE_SMTP_URL": "mail.acme.com"}, "FLARE_SMTP_URL"),
        ({"FLARE_WEBHOOK_ALLOW_PRIVATE": "maybe"}, "FLARE_WEBHOOK_ALLOW_PRIVATE"),
        ({"PORT": "eighty"}, "PORT"),
        ({"FLARE_CONFIG": "/nonexistent/flare.toml"}, "FLARE_CONFIG"),
    ],
)
def test_config_bad_values_name_the_variable(
    env: dict[str, str], variable: str, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    message = str(raised.value)
    assert message.startswith(variable) and "\n" not in message


def test_config_cadence_overrides_some_severities():
    settings = load_settings({"FLARE_CADENCE": "sev1=10m, sev4=1h"})
    assert settings.cadence_for("sev1") == timedelta(minutes=10)
    assert settings.cadence_for("sev2") == timedelta(minutes=20)
    assert settings.cadence_for("sev4") == timedelta(hours=1)


def test_config_toml_page_components_and_deny(tmp_path: Path):
    path = tmp_path / "flare.toml"
    path.write_text(
        """
[page]
name = "Acme"
time_zone = "Europe/Paris"
components = [
  { key = "api", name = "API", group = "Platform", description = "Public REST API" },
  { key = "webhooks", name = "Webhooks", showcase = true, only_show_if_degraded = true },
]
[hygiene]
deny = ["db-prod-*", "payments-worker"]
""",
        encoding="utf-8",
    )
    settings = load_settings({"FLARE_CONFIG": str(path)})
    assert settings.page_name == "Acme" and settings.time_zone == "Europe/Paris"
    assert [c.key for c in settings.components] == ["api", "webhooks"]
    assert settings.components[0].group == "Platform"
    assert settings.components[1].only_show_if_degraded
    assert settings.hygiene_deny == ("db-prod-*", "payments-worker")


def test_config_components_as_array_of_tables(tmp_path: Path):
    path = tmp_path / "flare.toml"
    path.write_text('[[components]]\nkey = "api"\nname = "API"\n', encoding="utf-8")
    assert [c.name for c in load_settings({"FLARE_CONFIG": str(path)}).components] == ["API"]


@pytest.mark.parametrize(
    "body",
    [
        '[page]\ntime_zone = "Mars/Olympus"\n',
        '[[components]]\nname = "no key"\n',
        '[[components]]\nkey = "api"\n[[components]]\nkey = "API"\n',
        "not toml [",
    ],
)
def test_config_bad_toml_is_one_clear_line(tmp_path: Path, body: str):
    path = tmp_path / "flare.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match="^FLARE_CONFIG"):
        load_settings({"FLARE_CONFIG": str(path)})
