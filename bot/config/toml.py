"""`flare.toml`: the page, its components, hygiene words, monitoring, on-call, providers.

Every key is optional; a wrong one stops start-up with one line naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.settings import (
    AUTOMATION,
    CheckConfig,
    ComponentConfig,
    DependencyConfig,
    OnCallConfig,
    SignalMap,
)
from bot.config.values import ConfigError, read_duration
from bot.text.status import ComponentStatus

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Levels a check or a map may name, in the words commands use.
LEVEL_WORDS = {
    "degraded": ComponentStatus.DEGRADED_PERFORMANCE,
    "partial": ComponentStatus.PARTIAL_OUTAGE,
    "major": ComponentStatus.MAJOR_OUTAGE,
    **{s.value: s for s in ComponentStatus if s != ComponentStatus.OPERATIONAL},
}


def read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"FLARE_CONFIG: cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"FLARE_CONFIG: {path} is not valid TOML: {exc}") from exc


def _tables(data: Mapping[str, object], name: str, source: str) -> list[dict[str, Any]]:
    raw = data.get(name, [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ConfigError(f"FLARE_CONFIG: [[{name}]] in {source} must be a list of tables")
    return list(raw)


def _text(item: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = item.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"FLARE_CONFIG: {where} needs {key} (text)")
    return value.strip()


def _count(item: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = item.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
        raise ConfigError(f"FLARE_CONFIG: {where} {key} must be a whole number from 1 to 1000")
    return value


def _http_url(value: str, where: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"FLARE_CONFIG: {where} url must be an http(s) URL")
    return value.rstrip("/")


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
        automation = str(item.get("automation", "suggest")).strip().lower()
        if automation not in AUTOMATION:
            raise ConfigError(
                f"FLARE_CONFIG: component {key} automation must be suggest, auto or off"
            )
        components.append(
            ComponentConfig(
                key=key,
                name=str(item.get("name") or key),
                group=str(item["group"]) if item.get("group") else None,
                description=str(item["description"]) if item.get("description") else None,
                showcase=bool(item.get("showcase", True)),
                only_show_if_degraded=bool(item.get("only_show_if_degraded", False)),
                automation=automation,
            )
        )
    return tuple(components)


def load_signal_maps(
    data: Mapping[str, object], keys: set[str], *, source: str
) -> tuple[SignalMap, ...]:
    signals = data.get("signals", {})
    if not isinstance(signals, dict):
        raise ConfigError(f"FLARE_CONFIG: [signals] in {source} must be a table")
    maps = []
    for n, item in enumerate(_tables(signals, "map", source), start=1):
        where = f"signals.map #{n} in {source}"
        match = item.get("match")
        if (
            not isinstance(match, dict)
            or not match
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in match.items())
        ):
            raise ConfigError(f'FLARE_CONFIG: {where} needs match = {{ label = "value" }}')
        component = _text(item, "component", where)
        if component not in keys:
            raise ConfigError(f"FLARE_CONFIG: {where} names unknown component {component!r}")
        assert component is not None
        maps.append(SignalMap(tuple(sorted(match.items())), component))
    return tuple(maps)


def _statuses(value: object, where: str) -> tuple[tuple[int, int], ...]:
    """`"200-399"`, `"200"`, `"200,204"` or `[200, 204]` → inclusive ranges."""
    items: list[str] = [str(v) for v in value] if isinstance(value, list) else str(value).split(",")
    ranges = []
    for item in (i.strip() for i in items):
        low, _, high = item.partition("-")
        if not re.fullmatch(r"[1-5][0-9]{2}", low) or (
            high and not re.fullmatch(r"[1-5][0-9]{2}", high)
        ):
            raise ConfigError(f"FLARE_CONFIG: {where} expect_status {item!r} is not like 200-399")
        ranges.append((int(low), int(high or low)))
    return tuple(ranges)


def load_checks(
    data: Mapping[str, object], keys: set[str], *, source: str
) -> tuple[CheckConfig, ...]:
    checks, names = [], set()
    for n, item in enumerate(_tables(data, "checks", source), start=1):
        where = f"checks #{n} in {source}"
        name = _text(item, "name", where)
        assert name is not None
        where = f"check {name!r} in {source}"
        if name in names:
            raise ConfigError(f"FLARE_CONFIG: {where} is named twice")
        names.add(name)
        component = _text(item, "component", where)
        if component not in keys:
            raise ConfigError(f"FLARE_CONFIG: {where} names unknown component {component!r}")
        level = str(item.get("level", "major")).strip().lower()
        if level not in LEVEL_WORDS:
            raise ConfigError(f"FLARE_CONFIG: {where} level must be degraded, partial or major")
        interval = read_duration(str(item.get("interval", "60s")), name=f"{where} interval")
        timeout = read_duration(str(item.get("timeout", "10s")), name=f"{where} timeout")
        if interval < timedelta(seconds=5) or timeout > interval:
            raise ConfigError(
                f"FLARE_CONFIG: {where} interval must be at least 5s and timeout at most it"
            )
        assert component is not None
        checks.append(
            CheckConfig(
                name=name,
                url=_http_url(_text(item, "url", where) or "", where),
                component=component,
                interval=interval,
                timeout=timeout,
                expect_status=_statuses(item.get("expect_status", "200-399"), where),
                contains=_text(item, "contains", where, required=False),
                failure_threshold=_count(item, "failure_threshold", 3, where),
                success_threshold=_count(item, "success_threshold", 2, where),
                level=LEVEL_WORDS[level],
            )
        )
    return tuple(checks)


def load_oncall(data: Mapping[str, object], *, source: str) -> OnCallConfig | None:
    raw = data.get("oncall")
    if raw is None:
        return None
    where = f"[oncall] in {source}"
    if not isinstance(raw, dict):
        raise ConfigError(f"FLARE_CONFIG: {where} must be a table")
    group = raw.get("usergroup")
    rotation = raw.get("rotation")
    if (group is None) == (rotation is None):
        raise ConfigError(f"FLARE_CONFIG: {where} needs either usergroup or rotation")
    if group is not None:
        if not isinstance(group, str) or not _GROUP.match(group.strip()):
            raise ConfigError(f"FLARE_CONFIG: {where} usergroup must be a group ID like S0123")
        return OnCallConfig(usergroup=group.strip())
    if (
        not isinstance(rotation, list)
        or not rotation
        or not all(isinstance(u, str) and _USER.match(u.strip()) for u in rotation)
    ):
        raise ConfigError(f"FLARE_CONFIG: {where} rotation must list user IDs like U0123")
    handoff = str(raw.get("handoff", "mon 09:00")).strip().lower()
    match = re.fullmatch(r"(mon|tue|wed|thu|fri|sat|sun)\s+([0-2][0-9]):([0-5][0-9])", handoff)
    if not match or int(match.group(2)) > 23:
        raise ConfigError(f'FLARE_CONFIG: {where} handoff must look like "mon 09:00"')
    zone = str(raw.get("time_zone", "Etc/UTC"))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"FLARE_CONFIG: {where} time_zone {zone!r} is unknown") from exc
    return OnCallConfig(
        rotation=tuple(u.strip() for u in rotation),
        handoff_weekday=_WEEKDAYS.index(match.group(1)),
        handoff_time=time(int(match.group(2)), int(match.group(3))),
        time_zone=zone,
    )


def load_dependencies(
    data: Mapping[str, object], keys: set[str], *, source: str
) -> tuple[DependencyConfig, ...]:
    found, names = [], set()
    for n, item in enumerate(_tables(data, "dependencies", source), start=1):
        where = f"dependencies #{n} in {source}"
        name = _text(item, "name", where)
        assert name is not None
        if name in names:
            raise ConfigError(f"FLARE_CONFIG: dependency {name!r} in {source} is named twice")
        if len(name) > 100:
            raise ConfigError(
                f"FLARE_CONFIG: dependency name {name[:40]!r}… is over 100 characters"
            )
        names.add(name)
        components = item.get("components", [])
        if not isinstance(components, list) or not all(c in keys for c in components):
            raise ConfigError(
                f"FLARE_CONFIG: dependency {name!r} components must be configured keys"
            )
        poll = read_duration(str(item.get("poll", "60s")), name=f"dependency {name!r} poll")
        if poll < timedelta(seconds=10):
            raise ConfigError(f"FLARE_CONFIG: dependency {name!r} poll must be at least 10s")
        found.append(
            DependencyConfig(
                name=name,
                url=_http_url(_text(item, "url", where) or "", where),
                components=tuple(components),
                poll=poll,
            )
        )
    return tuple(found)
