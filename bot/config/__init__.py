"""The one place that reads configuration: everything else is handed a frozen `Settings`."""

from bot.config.loading import load_settings
from bot.config.logs import configure_logging, log_handler, log_line
from bot.config.logs import stamp as log_stamp
from bot.config.settings import (
    AUTOMATION,
    CheckConfig,
    ComponentConfig,
    DependencyConfig,
    OnCallConfig,
    Settings,
    SignalMap,
)
from bot.config.values import (
    ConfigError,
    normalize_database_url,
    parse_cadence,
    read_duration,
    redact_url,
)

__all__ = [
    "AUTOMATION",
    "CheckConfig",
    "ComponentConfig",
    "ConfigError",
    "DependencyConfig",
    "OnCallConfig",
    "Settings",
    "SignalMap",
    "configure_logging",
    "load_settings",
    "log_handler",
    "log_line",
    "log_stamp",
    "normalize_database_url",
    "parse_cadence",
    "read_duration",
    "redact_url",
]
