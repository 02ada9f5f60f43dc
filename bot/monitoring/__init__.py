"""Monitoring: signals from Alertmanager, Grafana and built-in checks; component episodes;
what each automation policy does; drift between the page and the monitors.

This package's public face is what it exports here; other features import `bot.monitoring`,
never its modules (`make lint` checks it).
"""

from bot.monitoring.checks import prune_results as prune_check_results
from bot.monitoring.checks import run_due as run_checks
from bot.monitoring.episodes import evaluate, open_episodes, touch_triage
from bot.monitoring.expiry import clear as clear_signal
from bot.monitoring.expiry import prune_signals
from bot.monitoring.report import (
    Report,
    SignalRow,
    checks_text,
    report,
    signal_line,
    signals_text,
    stale_checks,
)
from bot.monitoring.signals import (
    Batch,
    Ingested,
    firing_signals,
    ingest,
    parse_payload,
)
from bot.monitoring.sweeps import sweep
from bot.monitoring.triage import TriageView, dismiss, mark, save_message, triage_view

__all__ = [
    "Batch",
    "Ingested",
    "Report",
    "SignalRow",
    "checks_text",
    "clear_signal",
    "TriageView",
    "dismiss",
    "evaluate",
    "firing_signals",
    "ingest",
    "mark",
    "open_episodes",
    "parse_payload",
    "prune_check_results",
    "prune_signals",
    "report",
    "run_checks",
    "save_message",
    "signal_line",
    "signals_text",
    "stale_checks",
    "sweep",
    "touch_triage",
    "triage_view",
]
