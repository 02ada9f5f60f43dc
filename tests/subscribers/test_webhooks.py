"""Webhook sends against real receivers on 127.0.0.1/127.0.0.2: the request goes to the
address that was checked (never to a later DNS answer), keeps the hostname for Host, TLS SNI
and the certificate, and ends at its deadline whatever the other end trickles."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.subscribers.webhooks import (
    Target,
    WebhookRefused,
    check_shape,
    make_client,
    parse_url,
    post,
)
from tests.support.mailbox import Receiver, receiver, start_receiver

__all__ = ["receiver"]  # fixture
TLS = Path(__file__).resolve().parents[1] / "data" / "tls"
HOST = "hooks.flare.test"


class Answers:
    """A resolver that answers `first` once, then `later` forever (DNS rebinding)."""

    def __init__(self, first: list[str], later: list[str]) -> None:
        self.first, self.later = first, later
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.first if len(self.asked) == 1 else self.later


def send(url: str, resolve: Answers, *, allow_private: bool = True, **kwargs: object) -> object:
    with make_client(**kwargs) as client:  # type: ignore[arg-type]
        return post(
            client,
            url,
            b'{"ok": true}',
            secret=b"s",
            timestamp=0,
            allow_private=allow_private,
            resolve=resolve,
            deadline=5.0,
        )


def test_webhooks_send_goes_to_the_checked_address_never_a_later_answer():
    with start_receiver("127.0.0.1") as checked, start_receiver("127.0.0.2", checked.port) as other:
        answers = Answers(["127.0.0.1"], ["127.0.0.2"])
        result = send(f"http://{HOST}:{checked.port}/hook", answers)
        assert getattr(result, "ok", False), result
        assert answers.asked == [HOST]  # resolved once, for the check and the connection
        [hook] = checked.hooks
        assert hook.headers["Host"] == f"{HOST}:{checked.port}" and hook.path == "/hook"
        assert other.hooks == []


def test_webhooks_rebound_to_loopback_after_the_check_is_refused(receiver: Receiver):
    answers = Answers(["93.184.215.14"], ["127.0.0.1"])
    url = f"http://{HOST}:{receiver.port}/hook"
    # Subscribing checks the public answer; by the send, DNS says loopback: refused.
    from bot.subscribers.webhooks import check_url

    assert check_url(url, allow_private=False, resolve=answers) == url
    result = send(url, answers, allow_private=False)
    assert not getattr(result, "ok", True)
    assert "public addresses" in str(getattr(result, "error", ""))
    assert receiver.hooks == []


def _tls_receiver_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "hooks.pem", TLS / "hooks.key")
    return context


def _client_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(TLS / "ca.pem"))


def test_webhooks_tls_keeps_the_hostname_for_sni_and_the_certificate():
    with start_receiver("127.0.0.1", tls=_tls_receiver_context()) as hooks:
        url = f"https://{HOST}:{hooks.port}/hook"
        result = send(url, Answers(["127.0.0.1"], ["127.0.0.2"]), verify=_client_context())
        assert getattr(result, "ok", False), result
        assert hooks.server_names == [HOST]
        assert hooks.hooks[0].headers["Host"] == f"{HOST}:{hooks.port}"
        # The certificate is checked against the hostname, not the IP we connected to.
        wrong = f"https://other.flare.test:{hooks.port}/hook"
        result = send(wrong, Answers(["127.0.0.1"], []), verify=_client_context())
        assert not getattr(result, "ok", True) and "CERTIFICATE" in str(result).upper()
        assert len(hooks.hooks) == 1


def test_webhooks_ipv6_address_is_written_in_brackets():
    target = Target(httpx.URL(f"https://{HOST}:8443/a?b=1"), ("2001:db8::7",))
    assert str(target.url_for("2001:db8::7")) == "https://[2001:db8::7]:8443/a?b=1"
    assert target.host_header == f"{HOST}:8443" and target.server_name == HOST


@pytest.mark.parametrize("path", ["/slow-body", "/slow-head"])
def test_webhooks_a_trickling_receiver_is_cut_at_the_deadline(receiver: Receiver, path: str):
    receiver.trickle.add("/slow-body")
    receiver.trickle_head.add("/slow-head")
    with make_client() as client:
        result = post(
            client,
            receiver.url(path),
            b"{}",
            secret=b"s",
            timestamp=0,
            allow_private=True,
            deadline=1.0,
        )
    assert not result.ok and "deadline" in (result.error or "")
    assert receiver.paths() == [path]


@pytest.mark.parametrize(
    "url",
    [
        "http://ex\x00ample.com/",
        "http://xn--/",
        "http://\u00ad.example.com/",
        "http://\uff21.example.com/",  # fullwidth A: urlsplit takes it, httpx does not
        "http://[::1/",
        "http://example.com:99999/",
        "http://example.com:0/",
        "http://user@example.com/",
        "javascript:alert(1)",
    ],
)
def test_webhooks_urls_the_sender_cannot_parse_are_refused_when_subscribing(url: str):
    with pytest.raises(WebhookRefused):
        check_shape(url, allow_private=True)


@settings(max_examples=300, deadline=None)
@given(
    st.builds(
        lambda scheme, host, rest: f"{scheme}://{host}{rest}",
        st.sampled_from(["http", "https", "HTTP"]),
        st.text(max_size=30),
        st.text(max_size=30),
    )
)
def test_webhooks_any_url_accepted_when_subscribing_parses_for_the_sender(url: str):
    try:
        accepted = check_shape(url, allow_private=True)
    except WebhookRefused:
        return
    parsed = parse_url(accepted)  # the sender parses the stored URL the same way
    Target(parsed, ("192.0.2.1",)).url_for("192.0.2.1")
    assert parse_url(str(parsed)) == parsed


@pytest.mark.parametrize("stamp", ["١٢٣", "１２３", "²", " 123", "+123", "1_23"])
def test_webhooks_signature_timestamp_is_ascii_digits_only(stamp: str):
    from bot.subscribers.webhooks import signature, verify_signature

    header = signature(b"s", b"{}", 123).replace("t=123", f"t={stamp}")
    assert not verify_signature(b"s", b"{}", header, now=123)
    assert verify_signature(b"s", b"{}", signature(b"s", b"{}", 123), now=123)


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::7f00:1", "2002:7f00:1::1", "::7f00:1", "fec0::1", "::ffff:10.0.0.1", "2002:a00:1::"],
)
def test_webhooks_private_addresses_inside_ipv6_forms_are_private(address: str):
    from bot.subscribers.webhooks import _is_private

    assert _is_private(address)


def test_webhooks_public_addresses_stay_public():
    from bot.subscribers.webhooks import _is_private

    assert not _is_private("2606:4700:4700::1111") and not _is_private("8.8.8.8")
