"""`Settings`: everything a process is configured with, frozen, passed in (never global)."""

from __future__ import annotations

import hashlib
from base64 import b32encode
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import time, timedelta
from urllib.parse import urlsplit

from bot.config.values import parse_cadence, redact_url
from bot.text.status import ComponentStatus

AUTOMATION = ("suggest", "auto", "off")
# Second-level labels under country domains that no company owns (acme.co.uk, acme.com.au).
_SECOND = frozenset({"co", "com", "net", "org", "gov", "ac", "edu", "ltd", "plc", "ne", "or"})


@dataclass(frozen=True)
class ComponentConfig:
    key: str
    name: str
    group: str | None = None
    description: str | None = None
    showcase: bool = True
    only_show_if_degraded: bool = False
    # What monitoring signals may do to this component's public level (README "Monitoring").
    automation: str = "suggest"


@dataclass(frozen=True)
class SignalMap:
    """`[[signals.map]]`: alerts whose labels all match go to `component`."""

    match: tuple[tuple[str, str], ...]
    component: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(name) == value for name, value in self.match)


@dataclass(frozen=True)
class CheckConfig:
    """`[[checks]]`: an HTTP check the worker runs."""

    name: str
    url: str
    component: str
    interval: timedelta = timedelta(seconds=60)
    timeout: timedelta = timedelta(seconds=10)
    expect_status: tuple[tuple[int, int], ...] = ((200, 399),)
    contains: str | None = None
    failure_threshold: int = 3
    success_threshold: int = 2
    level: ComponentStatus = ComponentStatus.MAJOR_OUTAGE

    def accepts(self, status: int) -> bool:
        return any(low <= status <= high for low, high in self.expect_status)


@dataclass(frozen=True)
class OnCallConfig:
    """`[oncall]`: a Slack user group, or a weekly rotation handed off in a time zone."""

    usergroup: str | None = None
    rotation: tuple[str, ...] = ()
    handoff_weekday: int = 0  # Monday
    handoff_time: time = time(9, 0)
    time_zone: str = "Etc/UTC"


@dataclass(frozen=True)
class DependencyConfig:
    """`[[dependencies]]`: a provider's Statuspage-compatible page, polled by the worker."""

    name: str
    url: str
    components: tuple[str, ...] = ()
    poll: timedelta = timedelta(seconds=60)


# Settings that must never appear in a repr, a log line or an error message.
_SECRETS = frozenset(
    {"slack_bot_token", "slack_signing_secret", "slack_app_token", "secret_key", "hook_token"}
)
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
    # How long sent outbox rows, processed Slack request ids and check results are kept.
    retention: timedelta = timedelta(days=30)
    # Monitoring (README "Monitoring"): /hooks/* auth, alert mapping, confirm and recover.
    hook_token: str | None = None
    signal_labels: tuple[str, ...] = ("component", "service")
    signal_confirm: timedelta = timedelta(minutes=2)
    signal_recover: timedelta = timedelta(minutes=5)
    signal_maps: tuple[SignalMap, ...] = ()
    checks: tuple[CheckConfig, ...] = ()
    # The internal dashboard (README "The board"): who is on call, providers we depend on.
    oncall: OnCallConfig | None = None
    dependencies: tuple[DependencyConfig, ...] = ()
    # Logs: "text" (one line each) or "json" (one JSON object a line).
    log_format: str = "text"

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
        # status.acme.co.uk → acme.co.uk, not co.uk: a country's second level is no company.
        keep = 3 if len(labels) > 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND else 2
        parent = ".".join(labels[-keep:]) if len(labels) > keep else host
        return tuple(dict.fromkeys((host, parent)))

    @property
    def page_id(self) -> str:
        """A stable 12-character id for the page (Statuspage has one), from its public URL."""
        digest = hashlib.sha256(self.public_url.encode()).digest()
        return b32encode(digest).decode().lower()[:12]

    @property
    def sender_address(self) -> str:
        return self.mail_from or f"status@{self.public_host}"

    @property
    def hooks_enabled(self) -> bool:
        return bool(self.hook_token)

    def cadence_for(self, severity: str) -> timedelta:
        return self.cadence[severity]

    def component_keys(self) -> set[str]:
        return {c.key for c in self.components}

    def automation_of(self, key: str) -> str:
        return next((c.automation for c in self.components if c.key == key), "off")
