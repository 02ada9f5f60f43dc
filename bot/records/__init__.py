"""After the incident: the postmortem export, stats, corrections of the public record,
maintenance changes and backups. README "Records"."""
