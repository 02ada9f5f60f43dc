"""The one module that reads the environment: everything else is handed a frozen `Settings`."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import tomllib
from base64 import b32encode
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.text import durations
from bot.text.status import Severity

DEFAULT_CADENCE = "sev1=15m,sev2=20m,sev3=30m,sev4=30m"
DEFAULT_RETENTION = "30d"
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ConfigError(Exception):
    """Invalid configuration; the message names the variable and fits on one line."""


def _duration(text: str, *, name: str) -> timedelta:
    """A duration from configuration (`15m`, `30s`, `1h`, `30d`); ConfigError naming `name`."""
    try:
        return durations.parse_duration(text, name=name)
    except durations.DurationError as error:
        raise ConfigError(str(error)) from None


def parse_cadence(text: str) -> dict[str, timedelta]:
    cadence = dict(_parse_cadence_pairs(DEFAULT_CADENCE))
    cadence.update(_parse_cadence_pairs(text))
    return cadence


def _parse_cadence_pairs(text: str) -> dict[str, timedelta]:
    pairs: dict[str, timedelta] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        sev, sep, value = item.partition("=")
        sev = sev.strip().lower()
        if not sep or sev not in {s.value for s in Severity}:
            raise ConfigError(
                f"FLARE_CADENCE: {item!r} is not like sev1=15m (severities sev1..sev4)"
            )
        pairs[sev] = _duration(value, name="FLARE_CADENCE")
    return pairs


def normalize_database_url(url: str) -> str:
    """Heroku-style `postgres://` and plain `postgresql://` URLs go to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class ComponentConfig:
    key: str
    name: str
    group: str | None = None
    description: str | None = None
    showcase: bool = True
    only_show_if_degraded: bool = False


def redact_url(url: str | None) -> str | None:
    """The URL with its password replaced by `***` (user, host, port and path kept)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable URL>"
    if password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


# Settings that must never appear in a repr, a log line or an error message.
_SECRETS = frozenset({"slack_bot_token", "slack_signing_secret", "slack_app_token", "secret_key"})
_URLS_WITH_PASSWORDS = frozenset({"database_url", "smtp_url"})


@dataclass(frozen=True, repr=False)
class Settings:
    database_url: str = "sqlite:///./flare.db"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    incidents_channel: str | None = None
    responders: tuple[str, ...] = ()
    cadence: Mapping[str, timedelta] = field(default_factory=lambda: parse_cadence(""))
    reminder_lead: timedelta = timedelta(minutes=5)
    tick: timedelta = timedelta(seconds=5)
    public_url: str = "http://localhost:8000"
    page_name: str = "Flare"
    time_zone: str = "Etc/UTC"
    components: tuple[ComponentConfig, ...] = ()
    hygiene_deny: tuple[str, ...] = ()
    secret_key: str | None = None
    smtp_url: str | None = None
    webhook_allow_private: bool = False
    mail_from: str | None = None
    port: int = 8000
    # Direct peers whose X-Forwarded-For is believed: IPs, CIDRs, or "*" for any.
    forwarded_allow_ips: tuple[str, ...] = ("127.0.0.1",)
    # How long sent outbox rows, processed Slack request ids and the like are kept.
    retention: timedelta = timedelta(days=30)

    def __repr__(self) -> str:
        """Every field, with secrets shown only as set or unset and URL passwords masked."""
        shown = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in _SECRETS and value is not None:
                value = "<redacted>"
            elif item.name in _URLS_WITH_PASSWORDS:
                value = redact_url(value)
            shown.append(f"{item.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def public_host(self) -> str:
        return urlsplit(self.public_url).hostname or "localhost"

    @property
    def own_domains(self) -> tuple[str, ...]:
        """The company's public domains: the page's host and its parent (status.acme.com →
        acme.com), which public text may name freely."""
        host = self.public_host
        labels = host.split(".")
        parent = ".".join(labels[-2:]) if len(labels) > 2 else host
        return tuple(dict.fromkeys((host, parent)))

    @property
    def page_id(self) -> str:
        """A stable 12-character id for the page (Statuspage has one), from its public URL."""
        digest = hashlib.sha256(self.public_url.encode()).digest()
        return b32encode(digest).decode().lower()[:12]

    @property
    def sender_address(self) -> str:
        return self.mail_from or f"status@{self.public_host}"

    def cadence_for(self, severity: str) -> timedelta:
        return self.cadence[severity]

    def component_keys(self) -> set[str]:
        return {c.key for c in self.components}


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name}: {raw!r} is not true or false")


def _responders(raw: str) -> tuple[str, ...]:
    ids = tuple(filter(None, (part.strip() for part in raw.replace(" ", ",").split(","))))
    groups = [i for i in ids if i.startswith("S")]
    bad = [i for i in ids if not re.fullmatch(r"[US][A-Z0-9]{2,}", i)]
    if bad:
        raise ConfigError(f"FLARE_RESPONDERS: {bad[0]!r} is not a user (U…) or group (S…) ID")
    if len(groups) > 1:
        raise ConfigError("FLARE_RESPONDERS: at most one user group (S…) may be given")
    return ids


def _forwarded_allow_ips(raw: str) -> tuple[str, ...]:
    """uvicorn's FORWARDED_ALLOW_IPS: comma-separated IPs and CIDR networks, or `*`."""
    items = tuple(filter(None, (part.strip() for part in raw.split(","))))
    if not items:
        raise ConfigError("FORWARDED_ALLOW_IPS: give IP addresses, CIDR networks or *")
    if "*" in items:
        if len(items) > 1:
            raise ConfigError("FORWARDED_ALLOW_IPS: * trusts every peer; give it alone")
        return items
    for item in items:
        try:
            if "/" in item:
                ipaddress.ip_network(item)
            else:
                ipaddress.ip_address(item)
        except ValueError:
            raise ConfigError(
                f"FORWARDED_ALLOW_IPS: {item!r} is not an IP address or CIDR network"
            ) from None
    return items


def load_components(data: Mapping[str, object], *, source: str) -> tuple[ComponentConfig, ...]:
    page = data.get("page", {})
    raw: object = []
    if isinstance(page, dict) and "components" in page:
        raw = page["components"]
    elif "components" in data:
        raw = data["components"]
    if not isinstance(raw, list):
        raise ConfigError(f"FLARE_CONFIG: components in {source} must be a list of tables")
    seen: set[str] = set()
    components = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise ConfigError(f"FLARE_CONFIG: every component in {source} needs a string key")
        key = item["key"].strip().lower()
        if not _KEY.match(key) or key in seen:
            raise ConfigError(
                f"FLARE_CONFIG: component key {item['key']!r} in {source} is invalid or repeated"
            )
        seen.add(key)
        components.append(
            ComponentConfig(
                key=key,
                name=str(item.get("name") or key),
                group=str(item["group"]) if item.get("group") else None,
                description=str(item["description"]) if item.get("description") else None,
                showcase=bool(item.get("showcase", True)),
                only_show_if_degraded=bool(item.get("only_show_if_degraded", False)),
            )
        )
    return tuple(components)


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"FLARE_CONFIG: cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"FLARE_CONFIG: {path} is not valid TOML: {exc}") from exc


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
        data = _read_toml(Path(config_path))
    elif Path("flare.toml").exists():
        config_path = "flare.toml"
        data = _read_toml(Path(config_path))
    source = config_path or "flare.toml"
    page = data.get("page", {})
    if not isinstance(page, dict):
        raise ConfigError(f"FLARE_CONFIG: [page] in {source} must be a table")
    time_zone = str(page.get("time_zone", "Etc/UTC"))
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"FLARE_CONFIG: unknown page.time_zone {time_zone!r}") from exc
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
        responders=_responders(get("FLARE_RESPONDERS") or ""),
        cadence=parse_cadence(get("FLARE_CADENCE") or ""),
        reminder_lead=_duration(get("FLARE_REMINDER_LEAD") or "5m", name="FLARE_REMINDER_LEAD"),
        tick=_duration(get("FLARE_TICK") or "5s", name="FLARE_TICK"),
        public_url=public_url,
        page_name=str(page.get("name", "Flare")),
        time_zone=time_zone,
        components=load_components(data, source=source),
        hygiene_deny=tuple(deny),
        secret_key=get("FLARE_SECRET_KEY"),
        smtp_url=smtp_url,
        webhook_allow_private=_bool(
            "FLARE_WEBHOOK_ALLOW_PRIVATE", get("FLARE_WEBHOOK_ALLOW_PRIVATE") or "false"
        ),
        mail_from=get("FLARE_MAIL_FROM"),
        port=port,
        forwarded_allow_ips=_forwarded_allow_ips(get("FORWARDED_ALLOW_IPS") or "127.0.0.1"),
        retention=_duration(get("FLARE_RETENTION") or DEFAULT_RETENTION, name="FLARE_RETENTION"),
    )
