"""After the incident: the postmortem export, stats, corrections of the public record,
maintenance changes and backups. README "Records"; docs/records.md.

This package's public face is what it exports here."""

from bot.records import sections  # noqa: F401  (registers the other features' sections)
from bot.records.backup import BackupResult, backup_sqlite, pg_dump_command, verify
from bot.records.corrections import (
    Corrected,
    correct_title,
    correct_update,
    current_wording,
    latest_public_update,
)
from bot.records.export import SECTIONS, Postmortem, Section, as_json, build
from bot.records.markdown import render as render_markdown
from bot.records.stats import Stats
from bot.records.stats import compute as compute_stats
from bot.records.stats import summary as stats_summary
from bot.records.upload import MAX_CHARS, Queued, clip_document, queue_postmortem

__all__ = [
    "BackupResult",
    "backup_sqlite",
    "pg_dump_command",
    "verify",
    "SECTIONS",
    "Postmortem",
    "Section",
    "Stats",
    "as_json",
    "compute_stats",
    "stats_summary",
    "build",
    "queue_postmortem",
    "Queued",
    "MAX_CHARS",
    "clip_document",
    "render_markdown",
    "Corrected",
    "correct_title",
    "correct_update",
    "current_wording",
    "latest_public_update",
]
