"""Configuration (README "Configuration"): defaults, parsing, and one clear line for a bad value."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.text.status import ComponentStatus


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
    assert settings.forwarded_allow_ips == ("127.0.0.1",)
    assert settings.retention == timedelta(days=30)
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
        ({"PORT": "²"}, "PORT"),  # isdigit() says yes, int() says no
        ({"PORT": "８０８０"}, "PORT"),  # fullwidth: int() would take it
        ({"PORT": "٨٠"}, "PORT"),  # Arabic-Indic digits
        ({"FORWARDED_ALLOW_IPS": "proxy.internal"}, "FORWARDED_ALLOW_IPS"),
        ({"FORWARDED_ALLOW_IPS": "10.0.0.0/33"}, "FORWARDED_ALLOW_IPS"),
        ({"FORWARDED_ALLOW_IPS": "*,10.0.0.1"}, "FORWARDED_ALLOW_IPS"),
        ({"FLARE_RETENTION": "forever"}, "FLARE_RETENTION"),
        ({"FLARE_RETENTION": "0d"}, "FLARE_RETENTION"),
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


def test_config_forwarded_allow_ips_and_retention():
    settings = load_settings(
        {"FORWARDED_ALLOW_IPS": "10.0.0.0/8, 127.0.0.1,::1", "FLARE_RETENTION": "7d"}
    )
    assert settings.forwarded_allow_ips == ("10.0.0.0/8", "127.0.0.1", "::1")
    assert settings.retention == timedelta(days=7)
    assert load_settings({"FORWARDED_ALLOW_IPS": "*"}).forwarded_allow_ips == ("*",)


SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-1111-secret-bot-token",
    "SLACK_SIGNING_SECRET": "signing-secret-2222",
    "SLACK_APP_TOKEN": "xapp-3333-secret-app-token",
    "FLARE_SECRET_KEY": "site-key-4444",
    "FLARE_SMTP_URL": "smtps://mailer:smtp-pass-5555@smtp.example.com:465",
    "DATABASE_URL": "postgresql://flare:db-pass-6666@db.example.com:5432/flare",
}


def test_config_repr_of_settings_shows_no_secret():
    settings = load_settings(SECRETS)
    for text in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        for secret in ("1111", "2222", "3333", "4444", "5555", "6666"):
            assert secret not in text, (secret, text)
    # What is not secret stays readable for whoever debugs a deployment.
    assert "db.example.com" in repr(settings) and "smtp.example.com" in repr(settings)
    assert "slack_bot_token='<redacted>'" in repr(settings)
    assert "slack_app_token='<redacted>'" in repr(settings)


def test_config_repr_of_smtp_config_shows_no_password():
    from bot.subscribers.smtp import SmtpConfig

    config = SmtpConfig.from_url(SECRETS["FLARE_SMTP_URL"])
    assert config.password == "smtp-pass-5555"
    for text in (repr(config), str(config)):
        assert "5555" not in text and "smtp.example.com" in text and "mailer" in text


MONITORED = """
[page]
components = [
  { key = "api", name = "API", automation = "auto" },
  { key = "web", name = "Website" },
]
[[signals.map]]
match = { job = "checkout", env = "prod" }
component = "api"
[[checks]]
name = "API health"
url = "https://api.acme.test/healthz/"
component = "api"
interval = "30s"
timeout = "5s"
expect_status = "200-299,418"
contains = "ok"
failure_threshold = 2
level = "partial"
[oncall]
rotation = ["U0ALICE01", "U0BOB0001"]
handoff = "tue 10:30"
time_zone = "Europe/Berlin"
[[dependencies]]
name = "Stripe"
url = "https://status.stripe.test/"
components = ["api"]
poll = "2m"
"""


def test_config_monitoring_oncall_and_providers_from_flare_toml(tmp_path: Path):
    path = tmp_path / "flare.toml"
    path.write_text(MONITORED, encoding="utf-8")
    settings = load_settings(
        {"FLARE_CONFIG": str(path), "FLARE_HOOK_TOKEN": "t" * 24, "FLARE_SIGNAL_CONFIRM": "1m"}
    )
    assert settings.automation_of("api") == "auto" and settings.automation_of("web") == "suggest"
    [signal_map] = settings.signal_maps
    assert signal_map.matches({"job": "checkout", "env": "prod", "x": "y"})
    assert not signal_map.matches({"job": "checkout"})
    [check] = settings.checks
    assert (check.url, check.interval, check.timeout) == (
        "https://api.acme.test/healthz",
        timedelta(seconds=30),
        timedelta(seconds=5),
    )
    assert check.accepts(204) and check.accepts(418) and not check.accepts(301)
    assert (check.failure_threshold, check.success_threshold) == (2, 2)
    assert check.level == ComponentStatus.PARTIAL_OUTAGE and check.contains == "ok"
    assert settings.oncall is not None and settings.oncall.rotation == ("U0ALICE01", "U0BOB0001")
    assert (settings.oncall.handoff_weekday, settings.oncall.handoff_time) == (1, time(10, 30))
    [provider] = settings.dependencies
    assert (provider.url, provider.components, provider.poll) == (
        "https://status.stripe.test",
        ("api",),
        timedelta(minutes=2),
    )
    assert settings.hooks_enabled and settings.signal_confirm == timedelta(minutes=1)
    assert "t" * 24 not in repr(settings)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ('[[checks]]\nname = "x"\nurl = "ftp://x"\ncomponent = "api"\n', "http(s) URL"),
        ('[[checks]]\nname = "x"\nurl = "https://x"\ncomponent = "nope"\n', "unknown component"),
        ('[[checks]]\nname = "x"\nurl = "https://x"\ncomponent = "api"\nlevel = "bad"\n', "level"),
        ('[[signals.map]]\ncomponent = "api"\n', "match ="),
        ('[oncall]\nrotation = ["U0A1"]\nusergroup = "S0B1"\n', "either usergroup or rotation"),
        ('[oncall]\nrotation = ["U0ALICE01"]\nhandoff = "someday"\n', "handoff"),
        ('[[dependencies]]\nname = "S"\nurl = "https://s"\ncomponents = ["zz"]\n', "configured"),
        ('[page]\ncomponents = [{ key = "api", automation = "sometimes" }]\n', "automation"),
    ],
)
def test_config_bad_monitoring_settings_name_the_key(tmp_path: Path, extra: str, fragment: str):
    path = tmp_path / "flare.toml"
    body = extra if extra.startswith("[page]") else '[[components]]\nkey = "api"\n' + extra
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match="FLARE_CONFIG") as raised:
        load_settings({"FLARE_CONFIG": str(path)})
    assert fragment in str(raised.value)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"FLARE_HOOK_TOKEN": "short"}, "FLARE_HOOK_TOKEN"),
        ({"FLARE_SIGNAL_LABELS": "component,bad label"}, "FLARE_SIGNAL_LABELS"),
        ({"FLARE_SIGNAL_RECOVER": "soon"}, "FLARE_SIGNAL_RECOVER"),
        ({"FLARE_LOG_FORMAT": "xml"}, "FLARE_LOG_FORMAT"),
    ],
)
def test_config_bad_monitoring_variables_name_the_variable(env: dict[str, str], variable: str):
    with pytest.raises(ConfigError, match=variable):
        load_settings(env)


def test_config_passwords_in_a_url_query_are_masked_too():
    url = "postgresql+psycopg://flare@db/flare?sslmode=require&password=hunter2"
    assert "hunter2" not in repr(load_settings({"DATABASE_URL": url}))


def test_config_own_domains_of_a_country_domain_stop_at_the_company():
    from bot.config import Settings

    assert Settings(public_url="https://status.acme.co.uk").own_domains == (
        "status.acme.co.uk",
        "acme.co.uk",
    )
