"""After the incident: the postmortem export, stats, corrections of the public record,
maintenance changes and backups. README "Records"; docs/records.md.

This package's public face is what it exports here."""

from bot.records.corrections import (
    Corrected,
    correct_title,
    correct_update,
    current_wording,
    latest_public_update,
)

__all__ = [
    "Corrected",
    "correct_title",
    "correct_update",
    "current_wording",
    "latest_public_update",
]
