"""Everything that speaks Slack: the Bolt listeners, Block Kit, the board and the outbox's
Slack drain. The rest of Flare reaches it only through what this module exports."""

from bot.slack import monitoring_board  # noqa: F401  (registers the board's section)
from bot.slack.dedupe import prune as prune_processed_requests
from bot.slack.delivery.sender import SlackSender
from bot.slack.http import SlackEndpoint, start_socket_mode, stop_socket_mode

__all__ = [
    "SlackEndpoint",
    "SlackSender",
    "prune_processed_requests",
    "start_socket_mode",
    "stop_socket_mode",
]
