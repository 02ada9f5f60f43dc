"""Monitoring: signals from Alertmanager, Grafana and built-in checks; component episodes;
what each automation policy does; drift between the page and the monitors.

This package's public face is what it exports here; other features import `bot.monitoring`,
never its modules (`make lint` checks it).
"""

from bot.monitoring.episodes import evaluate, open_episodes, touch_triage
from bot.monitoring.signals import Batch, Ingested, firing_signals, ingest, parse_payload

__all__ = [
    "Batch",
    "Ingested",
    "evaluate",
    "firing_signals",
    "ingest",
    "open_episodes",
    "parse_payload",
    "touch_triage",
]
