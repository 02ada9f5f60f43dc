"""Subscriber mail over SMTP (stdlib smtplib): STARTTLS or SMTPS, one connection per batch.

`FLARE_SMTP_URL` is `smtp://user:pass@host:587` (STARTTLS; required when credentials are
given, used when offered otherwise) or `smtps://user:pass@host:465` (TLS from the first byte).
A throttle spaces messages so a large subscriber list does not trip the server's limits.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

DEFAULT_RATE = 10.0  # messages per second per process
TIMEOUT = 20.0


class MailConfigError(Exception):
    pass


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)  # never in a repr, a log line or an error
    implicit_tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise MailConfigError("FLARE_SMTP_URL: must look like smtp://user:pass@host:587")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
        )


@dataclass(frozen=True)
class MailResult:
    """`ok`, or a failure that is `permanent` (5xx for this recipient) or worth retrying.

    `recipient_fault` says whether the failure is the address's (a bounce) rather than the
    server's (down, refusing, throttling us): only the former counts against a subscriber.
    """

    ok: bool
    error: str | None = None
    permanent: bool = False
    recipient_fault: bool = False


class Throttle:
    """At most `rate` calls of `wait()` per second; clock and sleep injectable for tests."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.sleep = sleep
        self.next_at = 0.0
        self._lock = threading.Lock()  # drains in several threads share one pace

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            if now < self.next_at:
                self.sleep(self.next_at - now)
                now = self.next_at
            self.next_at = now + self.interval


class Mailer:
    def __init__(
        self, config: SmtpConfig, *, throttle: Throttle | None = None, timeout: float = TIMEOUT
    ) -> None:
        self.config = config
        self.throttle = throttle or Throttle()
        self.timeout = timeout

    def _connect(self, timeout: float, watchdog: _Watchdog) -> smtplib.SMTP:
        config = self.config
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if config.implicit_tls:
            client = smtplib.SMTP_SSL(timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(timeout=timeout)
        # Connected only once the watchdog holds the client, so the deadline covers the
        # greeting too; smtplib names the TLS server from `_host`, set by its constructor.
        client._host = config.host  # type: ignore[attr-defined]
        watchdog.watch(client)
        client.connect(config.host, config.port)
        if not config.implicit_tls:
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif config.username:
                client.close()
                # Never send a password in the clear.
                raise smtplib.SMTPNotSupportedError(
                    "the server does not offer STARTTLS; refusing to send credentials in clear"
                )
        if config.username:
            client.login(config.username, config.password or "")
        return client

    def send(
        self,
        messages: Sequence[EmailMessage],
        *,
        deadline: float | None = None,
        keep: Callable[[int], bool] | None = None,
    ) -> list[MailResult]:
        """Send each message over one connection; one result per message, in order.

        With a `deadline` (seconds), the whole batch ends by then: a server that trickles
        its answers has the connection cut, and the messages not sent fail (to be retried).
        A message that raises anything fails alone; the next one is still sent. `keep(i)`,
        asked right before message i goes out, False: it is skipped (its lease was lost).
        """
        results: list[MailResult] = []
        if not messages:
            return results
        watchdog = _Watchdog(deadline)
        try:
            return self._send(messages, results, watchdog, keep or _always)
        finally:
            watchdog.stop()

    def _send(
        self,
        messages: Sequence[EmailMessage],
        results: list[MailResult],
        watchdog: _Watchdog,
        keep: Callable[[int], bool],
    ) -> list[MailResult]:
        try:
            client = self._connect(watchdog.timeout(self.timeout), watchdog)
        except (OSError, smtplib.SMTPException) as error:
            error_text = f"SMTP connection: {_describe(error)}"
            failure = MailResult(ok=False, error=watchdog.label(error_text))
            return [failure] * len(messages)
        try:
            for index, message in enumerate(messages):
                if watchdog.passed():
                    late = MailResult(ok=False, error=watchdog.label("SMTP"))
                    results.extend([late] * (len(messages) - index))
                    break
                self.throttle.wait()
                if not keep(index):
                    results.append(MailResult(ok=False, error="not sent: lease lost"))
                    continue
                try:
                    refused = client.send_message(message)
                except smtplib.SMTPRecipientsRefused as error:
                    refusals = list(error.recipients.values())
                    if refusals:
                        results.append(_refusal(*refusals[0], recipient=True))
                    else:  # the message named nobody: ours to fix, not a bounce
                        results.append(MailResult(ok=False, error="SMTP: no recipient in mail"))
                except smtplib.SMTPNotSupportedError as error:  # this message alone (SMTPUTF8)
                    results.append(MailResult(ok=False, error=f"SMTP: {_describe(error)}"))
                    _reset(client)
                except smtplib.SMTPResponseException as error:
                    results.append(_refusal(error.smtp_code, error.smtp_error, recipient=False))
                    if error.smtp_code == 421:  # the server is closing on us
                        rest = MailResult(ok=False, error="SMTP 421: service closing")
                        results.extend([rest] * (len(messages) - index - 1))
                        break
                    client.rset()
                except (OSError, smtplib.SMTPException) as error:
                    lost = MailResult(ok=False, error=watchdog.label(f"SMTP: {_describe(error)}"))
                    results.extend([lost] * (len(messages) - index))
                    break
                except Exception as error:  # this message alone (a header it cannot encode)
                    results.append(MailResult(ok=False, error=f"not sent: {_describe(error)}"))
                    _reset(client)
                else:
                    if refused:
                        code, reply = next(iter(refused.values()))
                        results.append(_refusal(code, reply, recipient=True))
                    else:
                        results.append(MailResult(ok=True))
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        return results


def _always(_index: int) -> bool:
    return True


class _Watchdog:
    """Cuts the SMTP connection (shutdown, which wakes a blocked read) when the batch's
    deadline passes; `label` then says so in the recorded error."""

    def __init__(self, seconds: float | None) -> None:
        self.ends = None if seconds is None else time.monotonic() + seconds
        self.fired = False
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def timeout(self, per_call: float) -> float:
        if self.ends is None:
            return per_call
        return max(0.1, min(per_call, self.ends - time.monotonic()))

    def passed(self) -> bool:
        return self.fired or (self.ends is not None and time.monotonic() >= self.ends)

    def watch(self, client: smtplib.SMTP) -> None:
        if self.ends is None:
            return

        def cut() -> None:
            with self._lock:
                self.fired = True
                sock = getattr(client, "sock", None)
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)

        self._timer = threading.Timer(max(0.0, self.ends - time.monotonic()), cut)
        self._timer.daemon = True
        self._timer.start()

    def label(self, error: str) -> str:
        if self.passed():
            return f"SMTP batch deadline passed before this message was sent ({error})"[:500]
        return error[:500]

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _reset(client: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        client.rset()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _refusal(code: int, reply: bytes | str, *, recipient: bool) -> MailResult:
    """A 5xx on the recipient is a bounce: final, and the address's fault. Anything else
    (4xx, or a 5xx on the sender or the data, often our own misconfiguration) is retried."""
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    bounce = recipient and 500 <= code < 600
    return MailResult(
        ok=False, error=f"SMTP {code}: {text}"[:500], permanent=bounce, recipient_fault=bounce
    )
