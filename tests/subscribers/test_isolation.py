"""One bad row never jams the subscriber queue: a row that raises anywhere (rendering, the
resolver, the sender) or an endpoint that trickles fails alone, with its error recorded and
a backoff; every other row is delivered exactly once and nothing is sent again. Fan-outs
expand in committed chunks, and mail batches end at their deadline."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from bot import outbox
from bot.db.models import OutboxMessage, Subscriber
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.subscribers import deliveries, fanout
from bot.subscribers.smtp import Mailer, SmtpConfig
from bot.subscribers.webhooks import system_resolver
from tests.conftest import Clock, with_settings
from tests.support.factories import make_incident
from tests.support.mailbox import Receiver, SmtpServer, receiver, smtp

__all__ = ["receiver", "smtp"]  # fixtures


def configured(runtime: Runtime) -> Runtime:
    return with_settings(runtime, webhook_allow_private=True, secret_key="test-secret")


def add_webhooks(runtime: Runtime, clock: Clock, urls: list[str]) -> list[int]:
    with runtime.sessions.begin() as session:
        subscribers = [
            Subscriber(kind="webhook", address=url, created_at=clock(), confirmed_at=clock())
            for url in urls
        ]
        session.add_all(subscribers)
        session.flush()
        return [s.id for s in subscribers]


def rows(runtime: Runtime, kind: str) -> list[OutboxMessage]:
    with runtime.sessions.begin() as session:
        return list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
            )
        )


def resolver_with_a_bug(host: str, port: int) -> list[str]:
    if host == "boom.flare.test":
        raise RuntimeError("resolver bug")  # no OSError: nothing expects it
    return system_resolver(host, port)


def drain(runtime: Runtime) -> None:
    for _ in range(20):
        if not deliveries.drain(runtime, resolve=resolver_with_a_bug, webhook_deadline=1.0):
            return
    raise AssertionError("the drain never ran dry")


def test_isolation_a_row_that_raises_and_one_that_trickles_fail_alone(
    runtime: Runtime, receiver: Receiver, clock: Clock
):
    rt = configured(runtime)
    receiver.trickle.add("/trickle")
    good = [receiver.url(f"/hook/{n}") for n in range(5)]
    ids = add_webhooks(
        rt,
        clock,
        [*good, receiver.url("/trickle"), f"http://boom.flare.test:{receiver.port}/boom"],
    )
    with rt.sessions.begin() as session:
        make_incident(session, rt.settings, clock(), public=True)
    deliveries.expand_fanouts(rt)
    with rt.sessions.begin() as session:  # a row the renderer cannot read
        outbox.enqueue(
            session,
            key=f"deliver:{ids[0]}:broken",
            kind=kinds.WEBHOOK_UPDATE,
            now=clock(),
            payload={"subscriber_id": ids[0], "event_id": "not-a-number"},
        )

    drain(rt)
    expected = {f"/hook/{n}": 1 for n in range(5)} | {"/trickle": 1}
    assert Counter(receiver.paths()) == expected
    by_key = {row.key: row for row in rows(rt, kinds.WEBHOOK_UPDATE)}
    failed = {
        key: row.last_error or ""
        for key, row in by_key.items()
        if row.sent_at is None and row.attempts == 1 and row.claimed_until is None
    }
    assert len(failed) == 3, by_key
    errors = sorted(failed.values())
    assert any("deadline" in e for e in errors)  # the trickler
    assert any("RuntimeError: resolver bug" in e for e in errors)  # the unexpected exception
    assert any("not rendered" in e for e in errors)  # the row that raised while rendering
    assert all(row.sent_at is not None for key, row in by_key.items() if key not in failed)

    clock.advance(minutes=4)  # past every lease: nothing delivered is sent again
    drain(rt)
    again = Counter(receiver.paths())
    assert {path: again[path] for path in expected if path != "/trickle"} == {
        f"/hook/{n}": 1 for n in range(5)
    }
    assert again["/trickle"] == 2  # a failed row is retried, after its backoff


def test_isolation_a_slow_send_keeps_its_lease_and_is_sent_once(
    runtime: Runtime, receiver: Receiver, clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    rt = configured(runtime)
    lease = timedelta(seconds=0.3)  # renewed every 0.1 s while the send is in flight
    monkeypatch.setattr(deliveries, "LEASE", lease)
    gate = receiver.held["/slow"] = threading.Event()
    [subscriber] = add_webhooks(rt, clock, [receiver.url("/slow")])
    with rt.sessions.begin() as session:
        make_incident(session, rt.settings, clock(), public=True)
    deliveries.expand_fanouts(rt)
    first = threading.Thread(target=deliveries.drain, args=(rt,))
    first.start()
    try:
        wait_for(lambda: receiver.paths() == ["/slow"])  # the send is in flight, held
        clock.advance(minutes=10)  # far past the lease it was claimed with
        later = clock() + lease / 2

        def renewed() -> bool:
            [row] = rows(rt, kinds.WEBHOOK_UPDATE)
            return row.claimed_until is not None and row.claimed_until > later

        wait_for(renewed)  # the keeper renewed it from the sending worker
        assert deliveries.drain(rt) == 0  # a second worker finds nothing to take
    finally:
        gate.set()
        first.join()
    assert receiver.paths() == ["/slow"]
    [row] = rows(rt, kinds.WEBHOOK_UPDATE)
    assert row.sent_at is not None and row.payload["subscriber_id"] == subscriber


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.02)


def test_isolation_a_fanout_row_that_raises_fails_alone(runtime: Runtime, clock: Clock):
    rt = configured(runtime)
    add_webhooks(rt, clock, ["http://127.0.0.1:1/a"])
    with rt.sessions.begin() as session:
        make_incident(session, rt.settings, clock(), public=True)
        outbox.enqueue(
            session,
            key="fanout:update:broken",
            kind=kinds.FANOUT,
            now=clock(),
            payload={"event_id": "not-a-number"},
        )
    assert deliveries.expand_fanouts(rt) == 2
    by_key = {row.key: row for row in rows(rt, kinds.FANOUT)}
    broken = by_key.pop("fanout:update:broken")
    assert (
        broken.sent_at is None
        and broken.attempts == 1
        and "ValueError" in (broken.last_error or "")
    )
    assert [row.sent_at is not None for row in by_key.values()] == [True]
    assert len(rows(rt, kinds.WEBHOOK_UPDATE)) == 1


def test_isolation_fanout_expands_in_committed_chunks_with_its_progress(
    runtime: Runtime, clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    rt = configured(runtime)
    add_webhooks(rt, clock, [f"http://127.0.0.1:1/{n}" for n in range(7)])
    with rt.sessions.begin() as session:
        make_incident(session, rt.settings, clock(), public=True)
    monkeypatch.setattr(deliveries, "FANOUT_CHUNKS", 2)
    deliveries.expand_fanouts(rt, chunk=3)  # two chunks of three, then handed back
    [row] = rows(rt, kinds.FANOUT)
    assert row.sent_at is None and row.claimed_until is None and row.attempts == 0
    assert row.payload[fanout.PROGRESS] == 6
    assert len(rows(rt, kinds.WEBHOOK_UPDATE)) == 6
    deliveries.expand_fanouts(rt, chunk=3)
    [row] = rows(rt, kinds.FANOUT)
    assert row.sent_at is not None
    updates = rows(rt, kinds.WEBHOOK_UPDATE)
    assert len(updates) == 7 and all(fanout.PROGRESS not in u.payload for u in updates)
    # Expanding again from the start (a lost progress mark) adds nothing.
    with rt.sessions.begin() as session:
        message = session.get(OutboxMessage, row.id)
        assert message is not None
        message.payload = {"event_id": row.payload["event_id"]}
        session.flush()
        assert fanout.expand(session, rt.settings, message, clock(), limit=100) == (7, True)
    assert len(rows(rt, kinds.WEBHOOK_UPDATE)) == 7


def _mail(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "status@acme.test", to, "hi"
    message.set_content("hello")
    return message


class _Unreadable(EmailMessage):
    """A rendered mail that raises what nothing expects when smtplib reads it."""

    def get_all(self, name: str, failobj: object = None) -> object:  # type: ignore[override]
        raise KeyError(f"rendering bug: {name}")


def test_isolation_a_mail_that_raises_or_names_nobody_fails_alone(smtp: SmtpServer):
    mailer = Mailer(SmtpConfig.from_url(smtp.url))
    nobody = _mail("x@example.com")
    del nobody["To"]
    broken = _Unreadable()
    broken.set_content("hello")
    results = mailer.send(
        [_mail("ana@example.com"), broken, nobody, _mail("bob@example.com")], deadline=30
    )
    assert [r.ok for r in results] == [True, False, False, True]
    assert "KeyError" in (results[1].error or "") and not results[1].permanent
    assert "no recipient" in (results[2].error or "") and not results[2].recipient_fault
    assert sorted(m["To"] for m in smtp.mailbox.messages) == ["ana@example.com", "bob@example.com"]


@pytest.fixture
def trickling_smtp() -> Iterator[int]:
    """An SMTP server that answers its greeting one byte every 0.2 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                for byte in b"220 " + b"x" * 150:
                    if stop.wait(0.2):
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_isolation_a_trickling_smtp_server_is_cut_at_the_batch_deadline(trickling_smtp: int):
    mailer = Mailer(SmtpConfig.from_url(f"smtp://127.0.0.1:{trickling_smtp}"), timeout=5)
    results = mailer.send([_mail("ana@example.com"), _mail("bob@example.com")], deadline=1.0)
    assert [r.ok for r in results] == [False, False]
    assert all("deadline" in (r.error or "") for r in results)
