"""Subscribers: customers who get every public update by email or webhook, with double
opt-in, a fan-out through the outbox, and delivery with retries and per-row isolation.

This package's public face is what it exports here (`make lint` checks that other features
import nothing else of it).
"""

from bot.subscribers.deliveries import drain
from bot.subscribers.fanout import FANOUT, expand
from bot.subscribers.health import FAILURE_LIMIT
from bot.subscribers.operators import (
    board_notes,
    label,
    list_subscribers,
    remove,
    status_of,
    summary,
)
from bot.subscribers.ratelimit import prune as prune_rate_limits
from bot.subscribers.subscribe import (
    IP_LIMIT,
    RateLimited,
    allow_ip,
    check_unsubscribe_token,
    check_webhook,
    confirm,
    confirm_url,
    subscribe,
    unsubscribe,
    unsubscribe_url,
)
from bot.subscribers.tokens import BadToken

# Outbound HTTP with a total deadline, also for other features that poll (bot.context).
from bot.subscribers.transport import DeadlineTransport, deadline

# The host resolved once within a time limit and the request pinned to a checked address.
from bot.subscribers.webhooks import WebhookRefused, resolve_target

__all__ = [
    "FAILURE_LIMIT",
    "FANOUT",
    "IP_LIMIT",
    "BadToken",
    "DeadlineTransport",
    "RateLimited",
    "allow_ip",
    "board_notes",
    "check_unsubscribe_token",
    "check_webhook",
    "confirm",
    "confirm_url",
    "deadline",
    "drain",
    "expand",
    "label",
    "list_subscribers",
    "prune_rate_limits",
    "remove",
    "status_of",
    "subscribe",
    "summary",
    "unsubscribe",
    "unsubscribe_url",
    "WebhookRefused",
    "resolve_target",
]
