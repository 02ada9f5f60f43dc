"""Monitoring: signals from Alertmanager, Grafana and built-in checks; component episodes;
what each automation policy does; drift between the page and the monitors.

This package's public face is what it exports here; other features import `bot.monitoring`,
never its modules (`make lint` checks it).
"""

from bot.monitoring.episodes import evaluate, open_episodes, touch_triage
from bot.monitoring.signals import Batch, Ingested, firing_signals, ingest, parse_payload
from bot.monitoring.sweeps import sweep
from bot.monitoring.triage import TriageView, dismiss, mark, save_message, triage_view

__all__ = [
    "Batch",
    "Ingested",
    "TriageView",
    "dismiss",
    "evaluate",
    "firing_signals",
    "ingest",
    "mark",
    "open_episodes",
    "parse_payload",
    "save_message",
    "sweep",
    "touch_triage",
    "triage_view",
]
