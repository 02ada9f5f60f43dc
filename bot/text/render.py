"""The one Jinja environment: mail, the public page and the subscription forms.

Templates live in `bot/templates/` (`mail/`, `public/`, `subscriptions/`). HTML is
autoescaped, plain-text mail is not, and an undefined variable is an error
(`StrictUndefined`), never an empty string on a public page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from bot.text import times
from bot.text.status import LEVEL_LABELS, ComponentStatus

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ICONS = {
    "none": "✓",
    "operational": "✓",
    "minor": "~",
    "degraded_performance": "~",
    "major": "!",
    "partial_outage": "!",
    "critical": "✕",
    "major_outage": "✕",
    "maintenance": "⚙",
    "under_maintenance": "⚙",
}


def paragraphs(text: str) -> Markup:
    return Markup("<br>").join(escape(line) for line in text.strip().splitlines())


def duration(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def percent(value: float | None) -> str:
    """99.95%, never rounding a real outage up to 100%."""
    if value is None:
        return "No data"
    if value >= 100.0:
        return "100%"
    return f"{min(value, 99.99):.2f}%"


# One letter per level for the 90 bars of each component (base.html styles `.d.o` …): the
# bars are most of the page's weight, so a quiet day is `<i class="d o"></i>`.
BAR_CODES = {
    None: "n",
    ComponentStatus.OPERATIONAL: "o",
    ComponentStatus.DEGRADED_PERFORMANCE: "g",
    ComponentStatus.PARTIAL_OUTAGE: "p",
    ComponentStatus.MAJOR_OUTAGE: "m",
    ComponentStatus.UNDER_MAINTENANCE: "u",
}


def daybar(day: Any) -> tuple[str, str]:
    """A bar's level letter and tooltip: none on a quiet or no-data day (the range under the
    bars dates them), the day's account on a day with anything to tell."""
    quiet = day.worst in (None, ComponentStatus.OPERATIONAL) and not day.seconds
    return BAR_CODES.get(day.worst, "n"), "" if quiet else daytip(day)


def daytip(day: Any) -> str:
    """One day of an uptime bar (`day`, `worst`, `seconds`), as its tooltip says it."""
    when = day.day.strftime("%b %d")  # the 90 days the bars cover: the year goes unsaid
    if day.worst is None:
        return f"{when}: no data"
    if not day.seconds:
        if day.worst == ComponentStatus.OPERATIONAL:
            return f"{when}: no downtime recorded"
        return f"{when}: {LEVEL_LABELS[day.worst].lower()}"
    parts = [
        f"{LEVEL_LABELS[status].lower()} for {duration(seconds)}"
        for status, seconds in sorted(day.seconds.items(), key=lambda kv: -kv[1])
    ]
    return f"{when}: {', '.join(parts)}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt",), default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        iso=times.iso,
        stamp=times.stamp,
        promise=times.promise,
        paragraphs=paragraphs,
        percent=percent,
        daytip=daytip,
        daybar=daybar,
        longdate=lambda d: d.strftime("%a, %b %d, %Y"),
        monthname=lambda d: d.strftime("%B %Y"),
    )
    env.globals["ICONS"] = ICONS
    return env


ENV = _environment()


def render(template: str, context: dict[str, Any]) -> str:
    return ENV.get_template(template).render(context)
