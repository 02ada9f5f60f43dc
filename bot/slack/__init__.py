"""Everything that speaks Slack: the Bolt listeners, Block Kit, the board and the outbox's
Slack drain. The rest of Flare reaches it only through what this module exports."""

from bot.slack.delivery.sender import SlackSender
from bot.slack.http import SlackEndpoint, start_socket_mode, stop_socket_mode

__all__ = ["SlackEndpoint", "SlackSender", "start_socket_mode", "stop_socket_mode"]
