"""Every `/incident` sub-command, one implementation for Slack and the CLI."""

from bot.commands.base import PlainStyle, Reply, Style
from bot.commands.context import on_call_commander
from bot.commands.dispatch import checks_responder, execute, reads_only
from bot.commands.replies import describe_event, one_line, show

__all__ = [
    "PlainStyle",
    "Reply",
    "Style",
    "checks_responder",
    "reads_only",
    "describe_event",
    "execute",
    "on_call_commander",
    "one_line",
    "show",
]
