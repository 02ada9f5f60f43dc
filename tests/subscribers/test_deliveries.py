"""Deliveries end to end: real SMTP (aiosmtpd) and a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot import incidents as svc
from bot import subscribers
from bot.config import Settings
from bot.db.models import OutboxMessage, Subscriber
from bot.errors import InvalidInput
from bot.incidents import maintenance as mnt
from bot.incidents import sync_components
from bot.runtime import Runtime
from bot.subscribers import deliveries
from bot.subscribers.smtp import Mailer, SmtpConfig, Throttle
from bot.subscribers.webhooks import verify_signature
from bot.text.status import ComponentStatus, IncidentStatus
from bot.worker import background_jobs
from tests.conftest import COMPONENTS, Clock, with_settings
from tests.support.factories import make_incident, responder
from tests.support.mailbox import (
    Receiver,
    SmtpServer,
    TestClient,
    html_part,
    receiver,
    smtp,
    text_part,
)
from tests.support.publicdata import client as public_client
from web import subscriptions

__all__ = ["receiver", "smtp"]  # fixtures
CONFIRM = re.compile(r"https://status\.acme\.test(/subscriptions/confirm/[A-Za-z0-9_.=-]+)")


def configured(runtime: Runtime, smtp: SmtpServer | None = None) -> Runtime:
    return with_settings(
        runtime,
        smtp_url=smtp.url if smtp else None,
        webhook_allow_private=True,
        secret_key="test-secret",
    )


def client(runtime: Runtime) -> TestClient:
    return TestClient(Starlette(routes=subscriptions.routes(runtime)))


def drain_all(runtime: Runtime) -> int:
    total = 0
    for _ in range(50):
        done = deliveries.drain(runtime)
        if not done:
            return total
        total += done
    raise AssertionError("the drain never ran dry")


def subscribe_email(
    runtime: Runtime, smtp: SmtpServer, address: str, components: tuple[str, ...] = ()
) -> None:
    with runtime.sessions.begin() as session:
        subscribers.subscribe(
            session, runtime.settings, now=runtime.now(), email=address, components=components
        )
    drain_all(runtime)
    link = CONFIRM.search(text_part(smtp.mailbox.to(address)[-1]))
    assert link is not None
    assert client(runtime).get(link.group(1)).status_code == 200


def publish(runtime: Runtime, **kwargs: object) -> int:
    with runtime.sessions.begin() as session:
        incident = make_incident(session, runtime.settings, runtime.now(), **kwargs)  # type: ignore[arg-type]
        svc.publish_update(
            session,
            runtime.settings,
            incident,
            message="We are investigating <script>alert(1)</script> errors on the API.",
            actor=responder("U1"),
            now=runtime.now(),
            status=IncidentStatus.INVESTIGATING,
            components={"api": ComponentStatus.PARTIAL_OUTAGE},
        )
        return incident.number


def test_deliveries_confirmation_mail_confirms(runtime: Runtime, smtp: SmtpServer):
    rt = configured(runtime, smtp)
    with rt.sessions.begin() as session:
        subscribers.subscribe(session, rt.settings, now=rt.now(), email="ana@example.com")
    drain_all(rt)
    [mail] = smtp.mailbox.to("ana@example.com")
    assert "Confirm your subscription" in mail["Subject"]
    assert mail["List-Unsubscribe"] is None  # nothing to leave yet
    link = CONFIRM.search(text_part(mail))
    assert link and link.group(0) in html_part(mail)
    with rt.sessions.begin() as session:
        assert session.scalars(select(Subscriber)).one().confirmed_at is None
    response = client(rt).get(link.group(1))
    assert response.status_code == 200 and "You are subscribed" in response.text
    with rt.sessions.begin() as session:
        assert session.scalars(select(Subscriber)).one().confirmed_at == rt.now()


def test_deliveries_update_mail_has_both_parts_and_unsubscribe_headers(
    runtime: Runtime, smtp: SmtpServer
):
    rt = configured(runtime, smtp)
    subscribe_email(rt, smtp, "ana@example.com")
    number = publish(rt, title="db-prod-3 is on fire, blame Bob")
    with rt.sessions.begin() as session:
        incident = svc.get_incident(session, number)
        svc.add_note(
            session, incident, text="secret internal note", actor=responder("U1"), now=rt.now()
        )
    drain_all(rt)
    [mail] = smtp.mailbox.to("ana@example.com")[1:]
    assert mail["Subject"] == "[Acme] Partial outage: API: Investigating"
    assert mail["From"] == "Acme Status <status@status.acme.test>"
    unsubscribe = mail["List-Unsubscribe"]
    assert re.fullmatch(r"<https://status\.acme\.test/subscriptions/unsubscribe/\S+>", unsubscribe)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = text_part(mail), html_part(mail)
    assert "We are investigating <script>alert(1)</script> errors on the API." in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "API: Partial outage" in text and "Next update by 14:20 UTC" in text
    assert unsubscribe.strip("<>") in text and unsubscribe.strip("<>") in html
    for part in (text, html, mail["Subject"]):
        assert "db-prod-3" not in part and "Bob" not in part and "secret internal" not in part


def test_deliveries_one_click_unsubscribe_stops_mail(runtime: Runtime, smtp: SmtpServer):
    rt = configured(runtime, smtp)
    subscribe_email(rt, smtp, "ana@example.com")
    publish(rt)
    drain_all(rt)
    url = smtp.mailbox.to("ana@example.com")[-1]["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("https://status.acme.test")
    web = client(rt)
    assert "Unsubscribe</button>" in web.get(path).text  # a link scanner changes nothing
    with rt.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 1
    response = web.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and "unsubscribed" in response.text
    with rt.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0
    before = len(smtp.mailbox.messages)
    publish(rt, title="Second")
    drain_all(rt)
    assert len(smtp.mailbox.messages) == before


def test_deliveries_follow_the_chosen_components(runtime: Runtime, smtp: SmtpServer):
    rt = configured(runtime, smtp)
    subscribe_email(rt, smtp, "api@example.com", ("api",))
    subscribe_email(rt, smtp, "dash@example.com", ("dashboard",))
    subscribe_email(rt, smtp, "all@example.com")
    publish(rt)
    drain_all(rt)
    assert len(smtp.mailbox.to("api@example.com")) == 2
    assert len(smtp.mailbox.to("dash@example.com")) == 1  # only the confirmation
    assert len(smtp.mailbox.to("all@example.com")) == 2


def test_deliveries_resolution_and_maintenance_reach_subscribers(
    runtime: Runtime, smtp: SmtpServer, clock: Clock
):
    rt = configured(runtime, smtp)
    subscribe_email(rt, smtp, "ana@example.com")
    number = publish(rt)
    with rt.sessions.begin() as session:
        incident = svc.get_incident(session, number)
        svc.resolve(session, rt.settings, incident, actor=responder("U1"), now=rt.now())
        mnt.schedule_maintenance(
            session,
            rt.settings,
            title="Database upgrade",
            starts_at=rt.now() + timedelta(hours=1),
            duration=timedelta(hours=1),
            keys=["api"],
            actor=responder("U1"),
            now=rt.now(),
        )
    drain_all(rt)
    clock.advance(hours=1)
    with rt.sessions.begin() as session:
        mnt.advance(session, rt.now())
    drain_all(rt)
    subjects = [m["Subject"] for m in smtp.mailbox.to("ana@example.com")[1:]]
    assert subjects == [
        "[Acme] Partial outage: API: Investigating",
        "[Acme] Partial outage: API: Resolved",
        "[Acme] Database upgrade: Scheduled",
        "[Acme] Database upgrade: In progress",
    ]
    resolved = text_part(smtp.mailbox.to("ana@example.com")[2])
    assert "This incident has been resolved." in resolved and "Next update" not in resolved


def test_deliveries_internal_only_incident_reaches_nobody(runtime: Runtime, smtp: SmtpServer):
    rt = configured(runtime, smtp)
    subscribe_email(rt, smtp, "ana@example.com")
    number = publish(rt)
    with rt.sessions.begin() as session:
        incident = svc.get_incident(session, number)
        svc.mark_internal(session, incident, actor=responder("U1"), now=rt.now())
    drain_all(rt)
    assert len(smtp.mailbox.to("ana@example.com")) == 1


def test_deliveries_survive_an_smtp_server_that_refuses_then_recovers(
    runtime: Runtime, smtp: SmtpServer, clock: Clock
):
    rt = configured(runtime, smtp)
    subscribe_email(rt, smtp, "ana@example.com")
    publish(rt)
    smtp.mailbox.refuse = True
    drain_all(rt)
    assert smtp.mailbox.refused == 1 and len(smtp.mailbox.messages) == 1
    with rt.sessions.begin() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "mail.update")
        ).one()
        assert row.attempts == 1 and row.sent_at is None and "451" in (row.last_error or "")
        assert row.available_at > rt.now()  # backoff
    smtp.mailbox.refuse = False
    assert deliveries.drain(rt) == 0  # not before its time
    clock.advance(seconds=5)
    drain_all(rt)
    assert len(smtp.mailbox.to("ana@example.com")) == 2
    with rt.sessions.begin() as session:
        subscriber = session.scalars(select(Subscriber)).one()
        # The server's trouble is not the subscriber's: nothing counts against them.
        assert subscriber.consecutive_failures == 0 and subscriber.disabled_at is None


def test_deliveries_webhook_is_confirmed_signed_and_shaped_like_statuspage(
    runtime: Runtime, receiver: Receiver, clock: Clock
):
    rt = configured(runtime)
    with rt.sessions.begin() as session:
        subscribers.subscribe(
            session, rt.settings, now=rt.now(), webhook_url=receiver.url(), components=["api"]
        )
    drain_all(rt)
    [confirmation] = receiver.hooks
    offer = confirmation.json()["subscription_confirmation"]
    secret = offer["signing_secret"].encode()
    header = confirmation.headers["X-Flare-Signature"]
    assert verify_signature(secret, confirmation.body, header, now=clock().timestamp())
    assert (
        client(rt).get(offer["confirm_url"].removeprefix("https://status.acme.test")).status_code
        == 200
    )

    publish(rt, title="Internal: kafka-7 melted")
    drain_all(rt)
    [_, hook] = receiver.hooks
    header = hook.headers["X-Flare-Signature"]
    # What a receiver does, by hand: HMAC-SHA256 over "<t>.<body>".
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret, f"{fields['t']}.".encode() + hook.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    assert not verify_signature(b"wrong", hook.body, header, now=clock().timestamp())
    assert not verify_signature(secret, hook.body + b" ", header, now=clock().timestamp())
    payload = hook.json()
    assert set(payload) == {"meta", "page", "incident"}
    assert payload["meta"]["unsubscribe"].startswith(
        "https://status.acme.test/subscriptions/unsubscribe/"
    )
    assert payload["page"]["status_indicator"] == "major"
    incident = payload["incident"]
    assert incident["name"] == "Partial outage: API" and incident["status"] == "investigating"
    assert incident["impact"] == "major" and incident["shortlink"].startswith(
        "https://status.acme.test/incidents/"
    )
    assert incident["incident_updates"][0]["body"].startswith("We are investigating <script>")
    assert incident["components"][0]["name"] == "API"
    assert "kafka" not in hook.body.decode()


def test_deliveries_failing_webhook_is_disabled_and_reported(
    runtime: Runtime, receiver: Receiver, clock: Clock
):
    rt = configured(runtime)
    with rt.sessions.begin() as session:
        subscribers.subscribe(session, rt.settings, now=rt.now(), webhook_url=receiver.url())
    drain_all(rt)
    offer = receiver.hooks[0].json()["subscription_confirmation"]
    client(rt).get(offer["confirm_url"].removeprefix("https://status.acme.test"))
    receiver.status = 500
    publish(rt)
    for _ in range(subscribers.FAILURE_LIMIT + 2):
        drain_all(rt)
        clock.advance(minutes=6)
    with rt.sessions.begin() as session:
        subscriber = session.scalars(select(Subscriber)).one()
        assert subscriber.disabled_at is not None and "HTTP 500" in (
            subscriber.disabled_reason or ""
        )
        text = subscribers.summary(session)
        assert "1 disabled" in text and "webhook 127.0.0.1 (disabled)" in text
        assert subscribers.board_notes(session) == [
            "1 subscriber disabled after repeated delivery failures "
            "(`/incident subscribers`, `flare subscribers list`)"
        ]
    assert len(receiver.hooks) == 1 + subscribers.FAILURE_LIMIT
    publish(rt, title="Later")
    drain_all(rt)
    assert len(receiver.hooks) == 1 + subscribers.FAILURE_LIMIT  # disabled: nothing more


def test_deliveries_webhook_to_private_address_refused_unless_allowed(
    runtime: Runtime, receiver: Receiver, clock: Clock
):
    strict = with_settings(runtime, webhook_allow_private=False, secret_key="test-secret")
    for url in (
        receiver.url(),
        "http://localhost/x",
        "http://10.0.0.5/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest",
        "ftp://example.com/x",
        "http://u:p@example.com/",
    ):
        with pytest.raises(InvalidInput):  # checked before any transaction (DNS)
            subscribers.check_webhook(strict.settings, url)
        if "localhost" not in url:  # and what needs no DNS, in the transaction too
            with strict.sessions.begin() as session, pytest.raises(InvalidInput):
                subscribers.subscribe(session, strict.settings, now=clock(), webhook_url=url)

    def rebinding(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.1.2.3"]  # one private answer is enough to refuse

    with pytest.raises(InvalidInput, match="public"):
        subscribers.check_webhook(strict.settings, "https://hooks.example.com/", resolve=rebinding)
    # Subscribed while allowed, then the setting is turned off: the send is refused too.
    loose = configured(runtime)
    with loose.sessions.begin() as session:
        subscribers.subscribe(session, loose.settings, now=clock(), webhook_url=receiver.url())
    drain_all(strict)
    assert receiver.hooks == []
    with strict.sessions.begin() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "webhook.confirm")
        ).one()
        assert "public addresses" in (row.last_error or "")


def test_deliveries_exactly_once_with_two_workers_on_postgresql(
    pg_url: str, clock: Clock, smtp: SmtpServer, receiver: Receiver
):
    from tests.conftest import _truncate_pg

    _truncate_pg(pg_url)
    settings = Settings(
        database_url=pg_url,
        components=COMPONENTS,
        public_url="https://status.acme.test",
        page_name="Acme",
        smtp_url=smtp.url,
        webhook_allow_private=True,
        secret_key="test-secret",
    )
    first, second = Runtime.create(settings, clock=clock), Runtime.create(settings, clock=clock)
    try:
        with first.sessions.begin() as session:
            sync_components(session, settings, clock())
            for n in range(30):
                subscriber = Subscriber(
                    kind="email",
                    address=f"user{n}@example.com",
                    created_at=clock(),
                    confirmed_at=clock(),
                    component_keys=[],
                )
                session.add(subscriber)
            for n in range(10):
                session.add(
                    Subscriber(
                        kind="webhook",
                        address=receiver.url(f"/hook/{n}"),
                        created_at=clock(),
                        confirmed_at=clock(),
                        component_keys=[],
                    )
                )
        publish(first)
        publish(first, title="Another")
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def work(rt: Runtime) -> None:
            try:
                barrier.wait()
                for _ in range(40):
                    deliveries.drain(rt)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(rt,)) for rt in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        drain_all(first)
        mails = Counter((m["To"], m["References"]) for m in smtp.mailbox.messages)
        assert len(mails) == 60 and set(mails.values()) == {1}
        hooks = Counter((h.path, h.json()["incident"]["id"]) for h in receiver.hooks)
        assert len(hooks) == 20 and set(hooks.values()) == {1}
        with first.sessions.begin() as session:
            assert subscribers.summary(session).splitlines()[1] == (
                "Deliveries: 0 queued, 0 retrying, 0 given up."
            )
    finally:
        first.close()
        second.close()


def test_deliveries_smtp_credentials_need_tls(smtp: SmtpServer):
    config = SmtpConfig.from_url(f"smtp://user:secret@127.0.0.1:{smtp.port}")
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@b.test", "c@d.test", "hi"
    message.set_content("hello")
    [result] = Mailer(config).send([message])
    assert not result.ok and "STARTTLS" in (result.error or "")
    assert smtp.mailbox.messages == []


def test_deliveries_throttle_spaces_messages():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = Throttle(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        throttle.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]


def test_deliveries_run_in_the_worker_even_without_slack(runtime: Runtime):
    assert "deliveries" in [name for name, _, _ in background_jobs(runtime)]


def test_deliveries_webhook_says_what_the_page_says(runtime: Runtime, receiver: Receiver):
    """The same incident, the same moment: the webhook's status_indicator, wording and
    component levels are the page's (a level lowered later once made them disagree)."""
    rt = configured(runtime)
    with rt.sessions.begin() as session:
        subscribers.subscribe(session, rt.settings, now=rt.now(), webhook_url=receiver.url())
    drain_all(rt)
    [confirmation] = receiver.hooks
    confirm = confirmation.json()["subscription_confirmation"]["confirm_url"]
    client(rt).get(confirm.removeprefix("https://status.acme.test"))
    number = publish(rt)  # API partial outage
    with rt.sessions.begin() as session:
        svc.publish_update(
            session,
            rt.settings,
            svc.get_incident(session, number),
            message="Errors are down; <@U0ALICE01> is watching.",
            actor=responder("U1"),
            now=rt.now(),
            components={"api": ComponentStatus.DEGRADED_PERFORMANCE},
            force=True,  # hygiene flags the mention; published anyway, the scrubber still works
        )
    drain_all(rt)
    hook = receiver.hooks[-1].json()
    _, http = public_client(rt)
    with http:
        summary = http.get("/api/v2/summary.json").json()
    page_incident = summary["incidents"][0]
    assert hook["page"]["status_indicator"] == summary["status"]["indicator"] == "major"
    assert hook["incident"]["impact"] == page_incident["impact"]
    assert (
        hook["incident"]["incident_updates"][0]["body"]
        == (page_incident["incident_updates"][0]["body"])
        == "Errors are down; our team is watching."
    )
    assert (
        [c["status"] for c in hook["incident"]["components"]]
        == [c["status"] for c in page_incident["components"]]
        == ["degraded_performance"]
    )
