"""No outside call (DNS, HTTP, SMTP, Slack) inside a write transaction, in any flow that
calls out: subscribing, the subscriber drain, the Slack drain and the board. A slow
resolver or server must never hold the write lock every /incident command waits for."""

# ruff: noqa: F811  (the fixtures are imported by name)

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import select

from bot import subscribers
from bot.db.engine import read_only
from bot.db.models import Subscriber
from bot.runtime import Runtime
from bot.subscribers import deliveries
from tests.conftest import Clock, with_settings
from tests.support.factories import make_incident
from tests.support.guards import Guard, OutsideCallInTransaction, no_outside_calls_in_transactions
from tests.support.mailbox import Receiver, SmtpServer, TestClient, receiver, smtp
from tests.support.slackutil import BOB, Slack, fake, slack  # noqa: F401
from web.app import create_app

__all__ = ["no_outside_calls_in_transactions", "receiver", "smtp"]  # fixtures


def test_transactions_guard_catches_a_lookup_inside_a_write_transaction(
    runtime: Runtime, no_outside_calls_in_transactions: Guard
):
    guard = no_outside_calls_in_transactions
    with runtime.sessions.begin(), pytest.raises(OutsideCallInTransaction):
        socket.getaddrinfo("localhost", 80)  # before any statement: still inside
    with runtime.sessions.begin() as session, pytest.raises(OutsideCallInTransaction):
        session.execute(select(Subscriber.id))
        socket.create_connection(("127.0.0.1", 9))
    with runtime.sessions.begin():  # handed to a helper thread, still inside
        caught: list[BaseException] = []

        def lookup() -> None:
            try:
                socket.getaddrinfo("localhost", 80)
            except OutsideCallInTransaction as error:
                caught.append(error)

        helper = threading.Thread(target=lookup)
        helper.start()
        helper.join()
        assert len(caught) == 1
    assert len(guard.violations) == 3
    guard.violations.clear()  # seen; the fixture would fail the test otherwise
    with read_only(runtime.sessions) as session:
        session.execute(select(Subscriber.id))
        socket.getaddrinfo("localhost", 80)  # a read-only session holds no write lock
    socket.getaddrinfo("localhost", 80)  # outside any transaction: allowed
    assert guard.calls == 2


def test_transactions_subscribing_resolves_outside_the_transaction(
    runtime: Runtime, receiver: Receiver, no_outside_calls_in_transactions: Guard
):
    strict = with_settings(
        runtime,
        smtp_url="smtp://127.0.0.1:1",
        secret_key="test-secret",
        webhook_allow_private=False,
    )
    client = TestClient(create_app(strict, mode="web"))
    hook = f"http://localhost:{receiver.port}/hook"  # a name: the check resolves it
    refused = client.post("/subscriptions", data={"webhook_url": hook})
    assert refused.status_code == 400 and "public addresses" in refused.text
    assert no_outside_calls_in_transactions.calls >= 1  # it did resolve, outside
    assert client.post("/subscriptions", data={"email": "ana@example.com"}).status_code == 200


def test_transactions_subscriber_drain_calls_out_only_outside_transactions(
    runtime: Runtime,
    clock: Clock,
    smtp: SmtpServer,
    receiver: Receiver,
    no_outside_calls_in_transactions: Guard,
):
    rt = with_settings(
        runtime, smtp_url=smtp.url, secret_key="test-secret", webhook_allow_private=True
    )
    with rt.sessions.begin() as session:
        for address, kind in (
            ("ana@example.com", "email"),
            (f"http://localhost:{receiver.port}/hook", "webhook"),
        ):
            session.add(
                Subscriber(kind=kind, address=address, created_at=clock(), confirmed_at=clock())
            )
        make_incident(session, rt.settings, clock(), public=True)
    with rt.sessions.begin() as session:
        subscribers.subscribe(session, rt.settings, now=clock(), email="bob@example.com")
    while deliveries.drain(rt):
        pass
    assert len(smtp.mailbox.messages) == 2 and receiver.paths() == ["/hook"]
    assert no_outside_calls_in_transactions.calls >= 3  # SMTP, DNS and the webhook


def test_transactions_slack_drain_and_board_call_out_only_outside_transactions(
    slack: Slack, no_outside_calls_in_transactions: Guard
):
    slack.command("declare sev2 Card declines")
    slack.command(f"owner 1 <@{BOB}>")
    slack.command("update 1 identified We found the cause.")
    slack.command("note 1 rolled back")
    slack.command("resolve 1")
    slack.flush()
    assert len(slack.roots()) == 1 and slack.board()
    assert no_outside_calls_in_transactions.calls >= 5
