"""Reading the configuration: the environment, and `flare.toml` (or `FLARE_CONFIG`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.settings import Settings
from bot.config.toml import (
    load_checks,
    load_components,
    load_dependencies,
    load_oncall,
    load_signal_maps,
    read_toml,
)
from bot.config.values import (
    DEFAULT_RETENTION,
    ConfigError,
    normalize_database_url,
    parse_cadence,
    read_bool,
    read_duration,
    read_forwarded_allow_ips,
    read_responders,
)
from bot.text import durations


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment (and `flare.toml`); raise ConfigError on bad values."""
    env = os.environ if env is None else env

    def get(name: str) -> str | None:
        value = env.get(name)
        return value.strip() if value and value.strip() else None

    database_url = normalize_database_url(get("DATABASE_URL") or "sqlite:///./flare.db")
    if not re.match(r"^(sqlite|postgresql\+psycopg)(\+pysqlite)?://", database_url):
        raise ConfigError("DATABASE_URL: only sqlite:/// and postgresql:// URLs are supported")

    token = get("SLACK_BOT_TOKEN")
    if token and not token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN: must start with xoxb-")
    app_token = get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN: must start with xapp-")
    api_url = get("SLACK_API_URL") or "https://slack.com/api/"
    if not re.match(r"^https?://", api_url):
        raise ConfigError("SLACK_API_URL: must be an http(s) URL")
    if not api_url.endswith("/"):
        api_url += "/"
    channel = get("FLARE_INCIDENTS_CHANNEL")
    if channel and not re.fullmatch(r"[CGD][A-Z0-9]{2,}", channel):
        raise ConfigError("FLARE_INCIDENTS_CHANNEL: must be a channel ID like C0123ABCD")

    public_url = (get("FLARE_PUBLIC_URL") or "http://localhost:8000").rstrip("/")
    if not re.match(r"^https?://[^/]+", public_url):
        raise ConfigError("FLARE_PUBLIC_URL: must be an absolute http(s) URL")

    port_raw = get("PORT") or "8000"
    port = durations.parse_count(port_raw)  # ASCII digits only: "８０" and "²" are refused
    if port is None or not 0 < port < 65536:
        raise ConfigError(f"PORT: {port_raw!r} is not a port number")

    smtp_url = get("FLARE_SMTP_URL")
    if smtp_url:
        parts = urlsplit(smtp_url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ConfigError("FLARE_SMTP_URL: must look like smtp://user:pass@host:587")

    config_path = get("FLARE_CONFIG")
    data: dict[str, object] = {}
    if config_path:
        data = read_toml(Path(config_path))
    elif Path("flare.toml").exists():
        config_path = "flare.toml"
        data = read_toml(Path(config_path))
    source = config_path or "flare.toml"
    page = data.get("page", {})
    if not isinstance(page, dict):
        raise ConfigError(f"FLARE_CONFIG: [page] in {source} must be a table")
    time_zone = str(page.get("time_zone", "Etc/UTC"))
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"FLARE_CONFIG: unknown page.time_zone {time_zone!r}") from exc
    log_format = (get("FLARE_LOG_FORMAT") or "text").lower()
    if log_format not in {"text", "json"}:
        raise ConfigError(f"FLARE_LOG_FORMAT: {log_format!r} is not text or json")
    hook_token = get("FLARE_HOOK_TOKEN")
    if hook_token is not None and len(hook_token) < 16:
        raise ConfigError("FLARE_HOOK_TOKEN: use at least 16 characters (it guards /hooks/*)")
    labels = tuple(
        filter(
            None,
            (p.strip() for p in (get("FLARE_SIGNAL_LABELS") or "component,service").split(",")),
        )
    )
    if not labels or not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", label) for label in labels):
        raise ConfigError("FLARE_SIGNAL_LABELS: give alert label names, comma-separated")
    components = load_components(data, source=source)
    keys = {c.key for c in components}
    hygiene = data.get("hygiene", {})
    deny = hygiene.get("deny", []) if isinstance(hygiene, dict) else []
    if not isinstance(deny, list) or not all(isinstance(d, str) for d in deny):
        raise ConfigError(f"FLARE_CONFIG: hygiene.deny in {source} must be a list of strings")

    return Settings(
        database_url=database_url,
        slack_bot_token=token,
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_app_token=app_token,
        slack_api_url=api_url,
        incidents_channel=channel,
        responders=read_responders(get("FLARE_RESPONDERS") or ""),
        cadence=parse_cadence(get("FLARE_CADENCE") or ""),
        reminder_lead=read_duration(get("FLARE_REMINDER_LEAD") or "5m", name="FLARE_REMINDER_LEAD"),
        tick=read_duration(get("FLARE_TICK") or "5s", name="FLARE_TICK"),
        public_url=public_url,
        page_name=str(page.get("name", "Flare")),
        time_zone=time_zone,
        components=components,
        hygiene_deny=tuple(deny),
        secret_key=get("FLARE_SECRET_KEY"),
        smtp_url=smtp_url,
        webhook_allow_private=read_bool(
            "FLARE_WEBHOOK_ALLOW_PRIVATE", get("FLARE_WEBHOOK_ALLOW_PRIVATE") or "false"
        ),
        mail_from=get("FLARE_MAIL_FROM"),
        port=port,
        forwarded_allow_ips=read_forwarded_allow_ips(get("FORWARDED_ALLOW_IPS") or "127.0.0.1"),
        retention=read_duration(
            get("FLARE_RETENTION") or DEFAULT_RETENTION, name="FLARE_RETENTION"
        ),
        hook_token=hook_token,
        signal_labels=labels,
        signal_confirm=read_duration(
            get("FLARE_SIGNAL_CONFIRM") or "2m", name="FLARE_SIGNAL_CONFIRM"
        ),
        signal_recover=read_duration(
            get("FLARE_SIGNAL_RECOVER") or "5m", name="FLARE_SIGNAL_RECOVER"
        ),
        signal_maps=load_signal_maps(data, keys, source=source),
        checks=load_checks(data, keys, source=source),
        oncall=load_oncall(data, source=source),
        dependencies=load_dependencies(data, keys, source=source),
        log_format=log_format,
    )
