"""Small shared pieces of talking to the Slack Web API: error codes, headers, posting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.text.durations import parse_count

# A message that is no longer there to edit or reply to.
GONE = {"message_not_found", "thread_not_found", "cant_update_message"}
RETRY_AFTER_CAP = timedelta(hours=1)  # a header asking for more is not believed


def header(error: SlackApiError, name: str) -> str | None:
    headers = getattr(error.response, "headers", None) or {}
    for key, value in dict(headers).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def retry_after(error: SlackApiError) -> timedelta | None:
    """How long Slack asks us to wait: `Retry-After` in whole ASCII seconds (at most an
    hour); one second for a rate limit whose header is missing or odd ("²", a date); None
    when Slack did not rate-limit."""
    status = getattr(error.response, "status_code", 200)
    if status != 429 and error_code(error) != "ratelimited":
        return None
    seconds = parse_count(header(error, "Retry-After") or "")
    if seconds is None:
        return timedelta(seconds=1)
    return min(timedelta(seconds=max(seconds, 1)), RETRY_AFTER_CAP)


def error_code(error: SlackApiError) -> str:
    data = getattr(error.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "unknown_error")
    return "unknown_error"


def post_message(client: WebClient, channel: str, **kwargs: Any) -> str:
    """chat.postMessage; joins the channel first if nobody invited the bot."""
    try:
        response = client.chat_postMessage(channel=channel, **kwargs)
    except SlackApiError as error:
        if error_code(error) != "not_in_channel":
            raise
        client.conversations_join(channel=channel)
        response = client.chat_postMessage(channel=channel, **kwargs)
    return str(response["ts"])
