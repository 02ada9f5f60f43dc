"""The Bolt app: thin listeners over bot.slack.listeners (commands, buttons, views).

`token_verification_enabled=False` and an `authorize` that needs no network: Flare starts
and acknowledges while Slack is down or slow. Every listener does its database work, acks,
and only then (for modals) calls `views.open` with the trigger id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.runtime import Runtime
from bot.slack import blocks, modals
from bot.slack.ids import BUTTONS, MODALS
from bot.slack.listeners.buttons import run_button
from bot.slack.listeners.commands import run_command
from bot.slack.listeners.replies import Ack
from bot.slack.listeners.views import run_view
from bot.slack.responders import ResponderDirectory

log = logging.getLogger("flare.slack")
COMMAND = "/incident"
FAILED = (
    "Something went wrong and nothing was changed. Try again, or use `flare incident` from a shell."
)


def web_client(runtime: Runtime, timeout: int = 10) -> WebClient:
    settings = runtime.settings
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=[],
    )


def build_app(
    runtime: Runtime,
    *,
    client: WebClient | None = None,
    directory: ResponderDirectory | None = None,
) -> App:
    settings = runtime.settings
    directory = directory or ResponderDirectory(settings)

    def authorize(enterprise_id: str | None, team_id: str | None, **_: Any) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, bot_token=settings.slack_bot_token
        )

    app = App(
        client=client or web_client(runtime),
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=bool(settings.slack_signing_secret),
        authorize=authorize,
        token_verification_enabled=False,
        ignoring_self_events_enabled=False,
        url_verification_enabled=True,
        ssl_check_enabled=True,
    )

    @app.use
    def ignore_retries(request: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        # Slack retries an event it thinks we missed; the first delivery already acted.
        if request.headers.get("x-slack-retry-num"):
            return BoltResponse(status=200, body="")
        return next()

    def open_modal(outcome: Ack, body: dict[str, Any], client: WebClient) -> None:
        if outcome.modal is None:
            return
        try:  # right after the ack: the trigger id lives three seconds
            client.views_open(trigger_id=body["trigger_id"], view=outcome.modal)
        except (SlackApiError, OSError) as error:
            log.warning("could not open a modal: %s", error)

    def guarded(run: Callable[..., Ack], body: dict[str, Any]) -> Ack:
        try:
            return run(runtime, directory, body)
        except Exception:  # the transaction rolled back: say so rather than time out
            log.exception("Slack request failed")
            return Ack(blocks.ephemeral(FAILED))

    @app.command(COMMAND)
    def on_command(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        outcome = guarded(run_command, body)
        ack(outcome.body)
        open_modal(outcome, body, client)

    def on_button(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        outcome = guarded(run_button, body)
        ack()
        open_modal(outcome, body, client)

    def on_view(ack: Any, body: dict[str, Any]) -> None:
        outcome = guarded(run_view, body)
        if outcome.body and "response_action" not in outcome.body:
            ack(response_action="update", view=modals.result_view("Not done", FAILED))
            return
        ack(**(outcome.body or {}))

    for action in BUTTONS:
        app.action(action.value)(on_button)
    for callback in MODALS:
        app.view(callback.value)(on_view)
    return app
