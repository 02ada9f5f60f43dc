"""Small shared pieces of talking to the Slack Web API: error codes, headers, posting."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

# A message that is no longer there to edit or reply to.
GONE = {"message_not_found", "thread_not_found", "cant_update_message"}


def header(error: SlackApiError, name: str) -> str | None:
    headers = getattr(error.response, "headers", None) or {}
    for key, value in dict(headers).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


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
