"""Real receivers for subscriber tests: an SMTP server (aiosmtpd) and a webhook endpoint,
both on 127.0.0.1, recording what they get. No mocks of smtplib or httpx."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette nags once, at import, that it prefers httpx2; pyproject's filter names
    # DeprecationWarning but this is a UserWarning subclass. The client works as documented.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

__all__ = ["TestClient"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """aiosmtpd handler: records each message; `refuse` answers 451 to every recipient."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = False
        self.refused = 0

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse:
            self.refused += 1
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(mailbox, port)
    finally:
        controller.stop()


@dataclass
class Hook:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook endpoint; `status` is what it answers. Paths in `trickle` get their answer
    one byte every 0.2 s (for 30 s); in `trickle_head` even the status line trickles."""

    port: int
    host: str = "127.0.0.1"
    hooks: list[Hook] = field(default_factory=list)
    status: int = 200
    trickle: set[str] = field(default_factory=set)
    trickle_head: set[str] = field(default_factory=set)
    server_names: list[str | None] = field(default_factory=list)  # TLS SNI seen
    held: dict[str, threading.Event] = field(default_factory=dict)  # answered once set
    stop: threading.Event = field(default_factory=threading.Event)
    tls: bool = False

    def url(self, path: str = "/hooks/status", host: str | None = None) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [hook.path for hook in self.hooks]


def _trickle(handler: BaseHTTPRequestHandler, stop: threading.Event, data: bytes) -> None:
    try:
        for index in range(len(data)):
            if stop.wait(0.2):
                return
            handler.wfile.write(data[index : index + 1])
            handler.wfile.flush()
    except OSError:  # the sender gave up on us: what it should do
        return


@contextlib.contextmanager
def start_receiver(
    host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None
) -> Iterator[Receiver]:
    state = Receiver(port=port, host=host, tls=tls is not None)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with lock:
                state.hooks.append(Hook(self.path, dict(self.headers.items()), body))
            self.close_connection = True
            gate = state.held.get(self.path)
            if gate is not None:
                gate.wait(30)
            if self.path in state.trickle_head:
                _trickle(self, state.stop, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 150)
                return
            self.send_response(state.status)
            if self.path in state.trickle:
                self.send_header("Content-Length", "150")
                self.end_headers()
                self.wfile.flush()
                _trickle(self, state.stop, b"x" * 150)  # 30 s, far past any test deadline
                return
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    if tls is not None:

        def note(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
            state.server_names.append(name)

        tls.sni_callback = note
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with start_receiver() as state:
        yield state


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
