"""Where Flare may send what Slack's answers or Slack's requests point it to (an upload URL, a
click's response_url): only to Slack. https to slack.com or slack-gov.com (or a subdomain),
or the very origin of the configured SLACK_API_URL (a test or a proxy in front of Slack).
Anything else is refused, never followed: the postmortem carries internal notes."""

from __future__ import annotations

from urllib.parse import urlsplit

SLACK_DOMAINS = ("slack.com", "slack-gov.com")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower() + f":{parts.port or ''}"


def refusal(url: str, api_url: str) -> str | None:
    """Why `url` is not a Slack URL Flare may send to, or None when it is."""
    try:
        parts = urlsplit(url)
        origin = _origin(url)
        configured = _origin(api_url)
    except ValueError:
        return f"{url[:200]!r} is not a URL"
    if parts.username or parts.password:
        return "it carries credentials"
    if origin == configured:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() != "https":
        return f"it is not https ({parts.scheme or 'no scheme'}://{host})"
    if not any(host == d or host.endswith("." + d) for d in SLACK_DOMAINS):
        return f"{host or 'no host'} is not a Slack host"
    return None
