"""The postmortem as Markdown: what `/incident postmortem` uploads to the incident's thread
and `flare incident export` prints. Pure: a `Postmortem` in, text out."""

from __future__ import annotations

from datetime import timedelta

from bot.records.export import Postmortem
from bot.text.status import LEVEL_LABELS, ComponentStatus
from bot.text.times import full, hhmm


def cell(text: str) -> str:
    """Table-safe: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def span(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    total = int(delta.total_seconds() // 60)
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if mins or not parts:
        parts.append(f"{mins} min")
    return " ".join(parts)


def _minutes(value: float) -> str:
    return f"{value:g} min"


def _level(value: str) -> str:
    try:
        return LEVEL_LABELS[ComponentStatus(value)]
    except ValueError:
        return value


def render(pm: Postmortem) -> str:
    out: list[str] = [f"# Postmortem {pm.ref}: {cell(pm.title)}", ""]
    out += [
        f"_Internal: names people and internal notes. Generated {full(pm.generated_at)}._",
        "",
        "## Summary",
        "",
        "| | |",
        "|---|---|",
        f"| Severity | {pm.severity} |",
        f"| Status | {pm.status}{' (internal-only)' if pm.internal_only else ''} |",
        f"| Public title | {cell(pm.public_title) if pm.public_title else '—'} |",
        f"| Declared | {full(pm.declared_at)} by {pm.declared_by} |",
        f"| Impact started | {full(pm.impact_started_at)} |",
        f"| Commander | {pm.commander or '—'} |",
        f"| Owner | {pm.owner or '—'} |",
        "| First public update | "
        + (
            f"{full(pm.first_public_update_at)} ({span(pm.time_to_first_public_update)} "
            "after declaring) |"
            if pm.first_public_update_at
            else "none |"
        ),
        "| Resolved | "
        + (
            f"{full(pm.resolved_at)} ({span(pm.time_to_resolve)} after declaring) |"
            if pm.resolved_at
            else "not yet |"
        ),
    ]
    if pm.public_url:
        out.append(f"| Public page | {pm.public_url} |")
    out += ["", "## Impact", ""]
    if pm.impact:
        out += ["| Component | Level | Minutes |", "|---|---|---|"]
        for item in pm.impact:
            if not item.minutes:
                out.append(f"| {cell(item.component)} | — | 0 min |")
            for level, value in item.minutes.items():
                out.append(f"| {cell(item.component)} | {_level(level)} | {_minutes(value)} |")
    else:
        out.append("No component was named in a public update.")
    out += ["", "## Promises", ""]
    if pm.promises:
        out.append(f"{pm.promises_kept} of {pm.promises_settled} kept.")
        out += ["", "| Made | Due | Outcome |", "|---|---|---|"]
        for p in pm.promises:
            if p.kept is None:
                outcome = "open"
            elif p.kept:
                outcome = f"kept ({hhmm(p.answered_at)})" if p.answered_at else "kept"
            else:
                outcome = f"missed by {_minutes(p.late_minutes)}"
            out.append(f"| {hhmm(p.made_at)} | {hhmm(p.due_at)} | {outcome} |")
    else:
        out.append("No promise was made to customers.")
    for section in pm.sections:
        out += ["", f"## {section.title}", ""]
        out += [f"- {full(at)} {cell(text)}" for at, text in section.rows] or ["None."]
    out += ["", "## Timeline", "", "Internal entries are marked **[internal]**.", ""]
    for entry in pm.timeline:
        mark = "**[internal]** " if entry.internal else "**[public]** "
        status = f" ({entry.status})" if entry.status and not entry.internal else ""
        out.append(
            f"- {full(entry.at)} · {entry.actor} · {mark}{entry.kind}{status}: {cell(entry.text)}"
        )
    return "\n".join(out) + "\n"
