"""Parsing one configuration value: durations, cadences, URLs, IDs, booleans. Each failure is
a ConfigError whose message names the variable and fits on one line."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from bot.text import durations
from bot.text.status import Severity

DEFAULT_CADENCE = "sev1=15m,sev2=20m,sev3=30m,sev4=30m"
DEFAULT_RETENTION = "30d"


class ConfigError(Exception):
    """Invalid configuration; the message names the variable and fits on one line."""


def read_duration(text: str, *, name: str) -> timedelta:
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
        pairs[sev] = read_duration(value, name="FLARE_CADENCE")
    return pairs


def normalize_database_url(url: str) -> str:
    """Heroku-style `postgres://` and plain `postgresql://` URLs go to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


_SECRET_PARAMS = re.compile(r"(?i)((?:^|&)(?:password|passwd|pwd|secret|token|sslpassword)=)[^&]*")


def redact_url(url: str | None) -> str | None:
    """The URL with its password replaced by `***` (user, host, port and path kept), in the
    user part and in query parameters (`?password=`) alike."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable URL>"
    if password is not None:
        userinfo, _, hostport = parts.netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        parts = parts._replace(netloc=f"{user}:***@{hostport}")
    return urlunsplit(parts._replace(query=_SECRET_PARAMS.sub(r"\1***", parts.query)))


def read_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name}: {raw!r} is not true or false")


def read_responders(raw: str) -> tuple[str, ...]:
    ids = tuple(filter(None, (part.strip() for part in raw.replace(" ", ",").split(","))))
    groups = [i for i in ids if i.startswith("S")]
    bad = [i for i in ids if not re.fullmatch(r"[US][A-Z0-9]{2,}", i)]
    if bad:
        raise ConfigError(f"FLARE_RESPONDERS: {bad[0]!r} is not a user (U…) or group (S…) ID")
    if len(groups) > 1:
        raise ConfigError("FLARE_RESPONDERS: at most one user group (S…) may be given")
    return ids


def read_forwarded_allow_ips(raw: str) -> tuple[str, ...]:
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
