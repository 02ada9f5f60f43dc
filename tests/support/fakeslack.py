"""A fake Slack Web API server for tests (stdlib only).

Tests talk to it through the *real* ``slack_sdk.WebClient``::

    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        client.chat_postMessage(channel="C1", text="hi")
        assert fake.channel_messages("C1")[0].text == "hi"

It is a plain HTTP server on 127.0.0.1 (``ThreadingHTTPServer`` in a daemon thread), so other
processes only need ``fake.url``.
``python -m tests.support.fakeslack --port N [--record FILE]`` runs it in the foreground and
prints the URL as its first stdout line.

Routes:
  ``/api/<method>``      Slack Web API (form-encoded, JSON or GET query string)
  ``/response/<key>``    a ``response_url`` receiver (see :meth:`FakeSlack.response_url`)
  ``/upload/<file id>``  POST: the upload URL ``files.getUploadURLExternal`` hands out; the
                         bytes are kept in ``fake.files`` until ``files.completeUploadExternal``
                         shares them (a message with ``files`` in the channel or thread)
  ``/_calls``            GET: every recorded call as a JSON list (``?method=`` filters)
  ``/_fault``            POST {"kind": "fail"|"rate_limit"|"server_error"|"delay"|"clear", ...}
  ``/_state``            GET: messages, pins, views, ephemerals, responses as JSON
  ``/_config``           POST: users, usergroups, channels, missing_channels, not_in_channel,
                         archived_channels
  ``/_action``           POST {"action": "delete_message"|"unpin"|"pin"|"reset_calls", ...}

Faults: each registered fault applies to the next ``times`` calls of ``method``; ``"*"`` matches
every Web API method (not ``response_url``; target that one as ``"response_url"``).  Faults are
consumed in registration order.  A delay is independent of the other faults, so a delay and a
``fail`` can apply to the same call.  Faulted calls (fail/rate_limit/server_error) change no state.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time
import traceback
import urllib.request
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

__all__ = ["Call", "FakeSlack", "Message", "RemoteFakeSlack", "StoredFile", "main"]

JSONDict = dict[str, Any]

# Fields that Slack accepts as JSON-encoded strings inside form bodies.
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "unfurled_attachments")
_RESPONSE_URL_METHOD = "response_url"
_SERVER_ERROR_BODY = (
    "<html><head><title>{status} Server Error</title></head>"
    "<body><h1>{status} Server Error</h1></body></html>"
)


@dataclass
class Call:
    """One request received by the fake.

    ``ts`` is ``time.monotonic()`` at arrival, ``end_ts`` when the answer was ready (``None``
    while still in flight; ``status`` is 0 then).  ``response`` is the JSON answer; a non-JSON
    answer (``server_error``) is kept as ``{"_raw": body}``.  ``args`` never contains the token.
    """

    method: str
    args: JSONDict
    ts: float
    status: int = 0
    response: JSONDict = field(default_factory=dict)
    path: str = ""
    token: str | None = None
    seq: int = 0
    end_ts: float | None = None

    def to_json(self) -> JSONDict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSONDict) -> Call:
        return cls(**data)


@dataclass
class Message:
    """A message the fake holds.  ``thread_ts`` is set for thread replies only."""

    ts: str
    channel: str
    text: str = ""
    blocks: list[Any] | None = None
    thread_ts: str | None = None
    user: str | None = None
    deleted: bool = False
    attachments: list[Any] | None = None
    bot_id: str | None = None
    reply_broadcast: bool = False
    metadata: JSONDict | None = None
    edit_count: int = 0
    subtype: str | None = None
    files: list[Any] | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_slack(self) -> JSONDict:
        """The message object as Slack returns it."""
        out: JSONDict = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user is not None:
            out["user"] = self.user
        if self.bot_id is not None:
            out["bot_id"] = self.bot_id
        if self.subtype is not None:
            out["subtype"] = self.subtype
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.attachments is not None:
            out["attachments"] = self.attachments
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if self.reply_broadcast:
            out["reply_broadcast"] = True
        if self.metadata is not None:
            out["metadata"] = self.metadata
        if self.files is not None:
            out["files"] = self.files
        return out


@dataclass
class StoredFile:
    """A file going through Slack's external upload flow."""

    id: str
    filename: str
    length: int
    content: bytes | None = None  # set once its bytes were POSTed to the upload URL
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    shared: bool = False

    @property
    def text(self) -> str:
        return (self.content or b"").decode("utf-8", "replace")


@dataclass
class _Fault:
    kind: Literal["fail", "rate_limit", "server_error", "delay"]
    method: str
    remaining: int | None  # None: until cleared
    error: str = ""
    status: int = 200
    retry_after: int = 1
    seconds: float = 0.0
    phase: Literal["before", "after"] = "before"


class _ApiError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeSlack) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return  # the client went away (e.g. it timed out during an injected delay)
        self.fake._note_error(traceback.format_exc())
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeSlack/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.fake._handle(self)

    def do_POST(self) -> None:
        self.server.fake._handle(self)

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except (ConnectionError, TimeoutError):
            pass  # client gave up


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _dump(data: Any) -> bytes:
    return json.dumps(data, default=str).encode()


def _decode_json_fields(args: JSONDict) -> JSONDict:
    for key in _JSON_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


class FakeSlack:
    """The fake Slack server.  All state is public and may be read (and configured) directly."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, record: str | None = None):
        self.host = host
        self.port = port
        self.record_path = record
        # identity
        self.team_id = "T0FAKE0001"
        self.team_name = "Fake Workspace"
        self.bot_user_id = "U0FLAREBOT"
        self.bot_user_name = "flare"
        self.bot_id = "B0FLAREBOT"
        self.app_id = "A0FLAREAPP"
        self.invalid_tokens: set[str] = {"xoxb-invalid"}
        # state
        self.messages: defaultdict[str, list[Message]] = defaultdict(list)
        self.pins: defaultdict[str, set[str]] = defaultdict(set)
        self.views: list[JSONDict] = []
        self.ephemerals: list[JSONDict] = []
        self.responses: defaultdict[str, list[JSONDict]] = defaultdict(list)
        self.users: dict[str, JSONDict] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.channels: dict[str, JSONDict] = {}  # per-channel overrides for conversations.info
        self.missing_channels: set[str] = set()
        self.not_in_channel: set[str] = set()
        self.archived_channels: set[str] = set()
        self.errors: list[str] = []  # internal errors of the fake itself (should stay empty)
        self.files: dict[str, StoredFile] = {}
        self._file_seq = 0

        self._lock = threading.RLock()
        self._calls_changed = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._seq = 0
        self._faults: list[_Fault] = []
        self._release = threading.Event()  # set to wake sleeping delays (clear_faults / stop)
        self._last_us = 0
        self._view_seq = 0
        self._pin_meta: dict[tuple[str, str], tuple[int, str, int]] = {}
        self._pin_seq = 0
        self._views_by_id: dict[str, JSONDict] = {}
        self._home_view_ids: dict[str, str] = {}
        self._opened: set[str] = set()
        self._inflight = 0
        self._inflight_done = threading.Condition(threading.Lock())
        self._record_file: Any = None
        self._record_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._api: dict[str, Any] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "pins.add": self._pins_add,
            "pins.remove": self._pins_remove,
            "pins.list": self._pins_list,
            "conversations.open": self._conversations_open,
            "conversations.join": self._conversations_join,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        if self.record_path:
            self._record_file = open(self.record_path, "a", encoding="utf-8")  # noqa: SIM115
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fakeslack-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            self._release.set()  # wake in-flight delays
        with self._inflight_done:
            self._inflight_done.wait_for(lambda: self._inflight == 0, timeout=5.0)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        with self._record_lock:
            if self._record_file is not None:
                self._record_file.close()
                self._record_file = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base(self) -> str:
        """Server root, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Web API base URL for ``WebClient(base_url=...)`` (with trailing slash)."""
        return f"{self.base}/api/"

    def response_url(self, key: str) -> str:
        """A response_url whose POSTed JSON bodies land in ``self.responses[key]``."""
        with self._lock:
            self.responses[key]  # noqa: B018 - create the (empty) entry
        return f"{self.base}/response/{quote(key, safe='')}"

    # ------------------------------------------------------------------ calls

    @property
    def calls(self) -> list[Call]:
        """Snapshot of every recorded call, in arrival order."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until ``count`` answered calls to ``method`` exist; return them."""

        def done() -> list[Call]:
            return [c for c in self._calls if c.method == method and c.end_ts is not None]

        with self._calls_changed:
            if not self._calls_changed.wait_for(lambda: len(done()) >= count, timeout=timeout):
                raise TimeoutError(
                    f"expected {count} call(s) to {method} within {timeout}s, "
                    f"got {len(done())}; all calls: {[c.method for c in self._calls]}"
                )
            return done()

    # ------------------------------------------------------------------ state helpers

    def get_message(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            for msg in self.messages.get(channel, []):
                if msg.ts == ts:
                    return msg
            return None

    def channel_messages(self, channel: str) -> list[Message]:
        """Top-level (non-reply) messages of ``channel`` that are not deleted, oldest first."""
        with self._lock:
            return [m for m in self.messages.get(channel, []) if not m.deleted and not m.is_reply]

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        """Non-deleted replies in a thread (root excluded), oldest first."""
        with self._lock:
            return [
                m
                for m in self.messages.get(channel, [])
                if not m.deleted and m.is_reply and m.thread_ts == thread_ts
            ]

    def is_pinned(self, channel: str, ts: str) -> bool:
        with self._lock:
            return ts in self.pins.get(channel, set())

    def add_message(
        self,
        channel: str,
        text: str = "",
        *,
        user: str = "U0HUMAN001",
        thread_ts: str | None = None,
        blocks: list[Any] | None = None,
    ) -> Message:
        """Simulate a human posting a message (not recorded as a call)."""
        with self._lock:
            msg = Message(
                ts=self._next_ts(),
                channel=channel,
                text=text,
                blocks=blocks,
                thread_ts=self._thread_root(channel, thread_ts),
                user=user,
            )
            self.messages[channel].append(msg)
            return msg

    def delete_message(self, channel: str, ts: str) -> None:
        """Simulate a human deleting a message (its pin goes too).  KeyError if unknown."""
        with self._lock:
            msg = self.get_message(channel, ts)
            if msg is None or msg.deleted:
                raise KeyError(f"no message {channel}/{ts}")
            msg.deleted = True
            self._drop_pin(channel, ts)

    def unpin(self, channel: str, ts: str) -> None:
        """Simulate a human unpinning a message.  KeyError if it is not pinned."""
        with self._lock:
            if ts not in self.pins.get(channel, set()):
                raise KeyError(f"{channel}/{ts} is not pinned")
            self._drop_pin(channel, ts)

    def pin(self, channel: str, ts: str, *, user: str = "U0HUMAN001") -> None:
        """Simulate a human pinning a message.  KeyError if the message is unknown."""
        with self._lock:
            msg = self.get_message(channel, ts)
            if msg is None or msg.deleted:
                raise KeyError(f"no message {channel}/{ts}")
            self._add_pin(channel, ts, user)

    def state(self) -> JSONDict:
        """JSON-able snapshot of the stored state."""
        with self._lock:
            return {
                "messages": {
                    ch: [asdict(m) for m in msgs] for ch, msgs in self.messages.items() if msgs
                },
                "pins": {ch: sorted(ts) for ch, ts in self.pins.items() if ts},
                "views": list(self.views),
                "ephemerals": list(self.ephemerals),
                "responses": {k: list(v) for k, v in self.responses.items()},
            }

    # ------------------------------------------------------------------ faults

    def fail(self, method: str, error: str, times: int = 1, status: int = 200) -> None:
        """Answer the next ``times`` calls with ``{"ok": false, "error": error}``."""
        self._add_fault(_Fault("fail", method, times, error=error, status=status))

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls with HTTP 429, ``Retry-After`` and ``ratelimited``."""
        self._add_fault(_Fault("rate_limit", method, times, retry_after=retry_after, status=429))

    def server_error(self, method: str, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` calls with a 5xx and a non-JSON (HTML) body."""
        self._add_fault(_Fault("server_error", method, times, status=status))

    def delay(
        self,
        method: str,
        seconds: float,
        times: int | None = None,
        *,
        phase: Literal["before", "after"] = "before",
    ) -> None:
        """Sleep ``seconds`` before answering the next ``times`` calls (None: until cleared).

        ``phase="before"``: sleep, then process (nothing happens until the sleep ends).
        ``phase="after"``: process (state changes at once), then sleep before answering --
        models "Slack did it but the response was slow / the client timed out".
        """
        self._add_fault(_Fault("delay", method, times, seconds=seconds, phase=phase))

    def clear_faults(self) -> None:
        """Drop all faults and wake requests currently sleeping in a delay."""
        with self._lock:
            self._faults.clear()
            self._release.set()
            self._release = threading.Event()

    def _add_fault(self, fault: _Fault) -> None:
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("times must be >= 1 (or None for delay)")
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, kinds: tuple[str, ...], method: str) -> _Fault | None:
        is_api = method != _RESPONSE_URL_METHOD
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds:
                    continue
                if fault.method == method or (fault.method == "*" and is_api):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return fault
            return None

    def _sleep(self, seconds: float) -> None:
        with self._lock:
            release = self._release
        release.wait(seconds)

    # ------------------------------------------------------------------ HTTP plumbing

    def _note_error(self, text: str) -> None:
        with self._lock:
            self.errors.append(text)

    def _handle(self, h: _Handler) -> None:
        with self._inflight_done:
            self._inflight += 1
        try:
            self._route(h)
        except Exception:
            self._note_error(traceback.format_exc())
            h.send(500, _dump({"ok": False, "error": "fake_internal_error"}))
        finally:
            with self._inflight_done:
                self._inflight -= 1
                self._inflight_done.notify_all()

    def _route(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        path = parts.path
        raw = h.read_body()
        if path.startswith("/api/"):
            self._serve_api(h, path, path[len("/api/") :], parts.query, raw)
        elif path.startswith("/response/") and h.command == "POST":
            self._serve_response_url(h, path, raw)
        elif path.startswith("/upload/") and h.command == "POST":
            self._serve_upload(h, path, raw)
        elif path.startswith("/_"):
            self._serve_control(h, path, parts.query, raw)
        else:
            h.send(404, _dump({"ok": False, "error": "not_found"}))

    def _parse_args(self, h: _Handler, query: str, raw: bytes) -> JSONDict:
        args: JSONDict = dict(parse_qsl(query, keep_blank_values=True))
        ctype = h.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if raw:
            if ctype == "application/json":
                body = json.loads(raw.decode("utf-8"))
                if not isinstance(body, dict):
                    raise ValueError("JSON body must be an object")
                args.update(body)
            else:
                args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        return _decode_json_fields(args)

    def _begin(self, method: str, args: JSONDict, path: str, token: str | None) -> Call:
        with self._lock:
            self._seq += 1
            call = Call(
                method=method,
                args=args,
                ts=time.monotonic(),
                path=path,
                token=token,
                seq=self._seq,
            )
            self._calls.append(call)
            return call

    def _finish(self, call: Call, status: int, response: JSONDict) -> None:
        with self._calls_changed:
            call.status = status
            call.response = response
            call.end_ts = time.monotonic()
            self._calls_changed.notify_all()
        with self._record_lock:
            if self._record_file is not None:
                self._record_file.write(json.dumps(call.to_json(), default=str) + "\n")
                self._record_file.flush()

    def _answer(
        self,
        h: _Handler,
        call: Call,
        delay: _Fault | None,
        produce: Any,
    ) -> None:
        """Apply delay + response faults around ``produce() -> (status, dict)`` and reply."""
        if delay is not None and delay.phase == "before":
            self._sleep(delay.seconds)
        fault = self._take_fault(("fail", "rate_limit", "server_error"), call.method)
        headers: dict[str, str] = {}
        ctype = "application/json; charset=utf-8"
        if fault is None:
            status, response = produce()
            body = _dump(response)
        elif fault.kind == "fail":
            status, response = fault.status, {"ok": False, "error": fault.error}
            body = _dump(response)
        elif fault.kind == "rate_limit":
            status, response = 429, {"ok": False, "error": "ratelimited"}
            headers["Retry-After"] = str(fault.retry_after)
            body = _dump(response)
        else:
            status = fault.status
            text = _SERVER_ERROR_BODY.format(status=status)
            response = {"_raw": text}
            body, ctype = text.encode(), "text/html; charset=utf-8"
        if delay is not None and delay.phase == "after":
            self._sleep(delay.seconds)
        self._finish(call, status, response)
        h.send(status, body, ctype, headers)

    def _serve_api(self, h: _Handler, path: str, method: str, query: str, raw: bytes) -> None:
        try:
            args = self._parse_args(h, query, raw)
        except ValueError:
            call = self._begin(method, {"_raw": raw.decode("utf-8", "replace")}, path, None)
            self._finish(call, 200, {"ok": False, "error": "invalid_json"})
            h.send(200, _dump({"ok": False, "error": "invalid_json"}))
            return
        token: str | None = None
        auth = h.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip() or None
        form_token = args.pop("token", None)
        if token is None and isinstance(form_token, str) and form_token:
            token = form_token
        call = self._begin(method, args, path, token)
        delay = self._take_fault(("delay",), method)

        def produce() -> tuple[int, JSONDict]:
            return 200, self._dispatch(method, args, token)

        self._answer(h, call, delay, produce)

    def _dispatch(self, method: str, args: JSONDict, token: str | None) -> JSONDict:
        handler = self._api.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        if token is None:
            return {"ok": False, "error": "not_authed"}
        if token in self.invalid_tokens or not token.startswith("xox"):
            return {"ok": False, "error": "invalid_auth"}
        try:
            with self._lock:
                result: JSONDict = handler(args)
            return {"ok": True, **result}
        except _ApiError as err:
            return {"ok": False, "error": err.error, **err.extra}

    def _serve_response_url(self, h: _Handler, path: str, raw: bytes) -> None:
        key = unquote(path[len("/response/") :])
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        if not isinstance(body, dict):
            body = {"_raw": body}
        call = self._begin(_RESPONSE_URL_METHOD, body, path, None)
        delay = self._take_fault(("delay",), _RESPONSE_URL_METHOD)

        def produce() -> tuple[int, JSONDict]:
            with self._lock:
                self.responses[key].append(body)
            return 200, {"ok": True}

        self._answer(h, call, delay, produce)

    def _serve_upload(self, h: _Handler, path: str, raw: bytes) -> None:
        """The upload URL: Slack answers 200 with "OK - <bytes>" once the file is stored."""
        file_id = unquote(path[len("/upload/") :])
        with self._lock:
            stored = self.files.get(file_id)
            if stored is None or stored.shared:
                h.send(404, b"file not found", "text/plain")
                return
            stored.content = raw
        h.send(200, f"OK - {len(raw)}".encode(), "text/plain")

    # ------------------------------------------------------------------ control endpoints

    def _serve_control(self, h: _Handler, path: str, query: str, raw: bytes) -> None:
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            result = self._control(h.command, path, dict(parse_qsl(query)), body)
        except (ValueError, KeyError, TypeError) as err:
            h.send(400, _dump({"ok": False, "error": f"{type(err).__name__}: {err}"}))
            return
        if result is None:
            h.send(404, _dump({"ok": False, "error": "not_found"}))
        else:
            h.send(200, _dump(result))

    def _control(self, verb: str, path: str, query: dict[str, str], body: JSONDict) -> Any:
        if path == "/_calls" and verb == "GET":
            calls = self.calls_to(query["method"]) if "method" in query else self.calls
            return [c.to_json() for c in calls]
        if path == "/_state" and verb == "GET":
            return self.state()
        if verb != "POST":
            return None
        if path == "/_fault":
            kind = body.pop("kind")
            if kind == "clear":
                self.clear_faults()
            elif kind == "fail":
                self.fail(**body)
            elif kind == "rate_limit":
                self.rate_limit(**body)
            elif kind == "server_error":
                self.server_error(**body)
            elif kind == "delay":
                self.delay(**body)
            else:
                raise ValueError(f"unknown fault kind {kind!r}")
            return {"ok": True}
        if path == "/_config":
            with self._lock:
                for name in ("users", "usergroups", "channels"):
                    if name in body:
                        getattr(self, name).update(body.pop(name))
                for name in ("missing_channels", "not_in_channel", "archived_channels"):
                    if name in body:
                        setattr(self, name, set(body.pop(name)))
            if body:
                raise ValueError(f"unknown config keys {sorted(body)}")
            return {"ok": True}
        if path == "/_action":
            action = body.pop("action")
            if action == "delete_message":
                self.delete_message(body["channel"], body["ts"])
            elif action == "unpin":
                self.unpin(body["channel"], body["ts"])
            elif action == "pin":
                self.pin(body["channel"], body["ts"])
            elif action == "reset_calls":
                self.reset_calls()
            else:
                raise ValueError(f"unknown action {action!r}")
            return {"ok": True}
        return None

    # ------------------------------------------------------------------ internals

    def _next_ts(self) -> str:
        with self._lock:
            self._last_us = max(self._last_us + 1, time.time_ns() // 1000)
            return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def _thread_root(self, channel: str, thread_ts: str | None) -> str | None:
        if not thread_ts:
            return None
        parent = self.get_message(channel, thread_ts)
        if parent is not None and parent.is_reply:
            return parent.thread_ts  # replying to a reply lands in the parent's thread
        return thread_ts

    def _add_pin(self, channel: str, ts: str, user: str) -> None:
        self.pins[channel].add(ts)
        self._pin_seq += 1
        self._pin_meta[(channel, ts)] = (int(time.time()), user, self._pin_seq)

    def _drop_pin(self, channel: str, ts: str) -> None:
        self.pins[channel].discard(ts)
        self._pin_meta.pop((channel, ts), None)

    def _permalink(self, channel: str, msg: Message) -> str:
        link = f"https://fake.slack/archives/{channel}/p{msg.ts.replace('.', '')}"
        if msg.is_reply:
            link += f"?thread_ts={msg.thread_ts}&cid={channel}"
        return link

    def _check_channel(self, channel: Any, *, posting: bool = False) -> str:
        if not isinstance(channel, str) or not channel or channel in self.missing_channels:
            raise _ApiError("channel_not_found")
        if posting and channel in self.archived_channels:
            raise _ApiError("is_archived")
        if posting and channel in self.not_in_channel:
            raise _ApiError("not_in_channel")
        return channel

    def _live_message(self, channel: str, ts: Any) -> Message:
        msg = self.get_message(channel, ts) if isinstance(ts, str) else None
        if msg is None or msg.deleted:
            raise _ApiError("message_not_found")
        return msg

    def _channel_info(self, channel: str) -> JSONDict:
        created = int(time.time()) - 86400
        info: JSONDict
        if channel.startswith("D"):
            info = {
                "id": channel,
                "created": created,
                "is_im": True,
                "is_org_shared": False,
                "user": channel[1:],
                "is_user_deleted": False,
                "priority": 0,
            }
        else:
            info = {
                "id": channel,
                "name": channel.lower(),
                "name_normalized": channel.lower(),
                "is_channel": channel.startswith("C"),
                "is_group": False,
                "is_im": False,
                "is_mpim": channel.startswith("G"),
                "is_private": channel.startswith("G"),
                "created": created,
                "is_archived": channel in self.archived_channels,
                "is_general": False,
                "is_shared": False,
                "is_ext_shared": False,
                "is_org_shared": False,
                "is_member": channel not in self.not_in_channel,
                "creator": "U0HUMAN001",
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
                "num_members": 1,
            }
        info.update(self.channels.get(channel, {}))
        return info

    def _user_obj(self, user_id: str) -> JSONDict:
        given = self.users[user_id]
        name = given.get("name", user_id.lower())
        real_name = given.get("real_name", name)
        profile: JSONDict = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "email": f"{name}@example.com",
            "team": self.team_id,
            "image_48": "https://fake.slack/avatar_48.png",
        }
        profile.update(given.get("profile", {}))
        user: JSONDict = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": "UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "is_admin": False,
            "is_owner": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": 1700000000,
        }
        user.update({k: v for k, v in given.items() if k != "profile"})
        user["profile"] = profile
        return user

    def _new_view(
        self, view: Any, *, view_id: str | None = None, root: str | None = None
    ) -> JSONDict:
        if not isinstance(view, dict):
            raise _ApiError("invalid_arguments")
        self._view_seq += 1
        vid = view_id or f"VFAKE{self._view_seq:06d}"
        obj: JSONDict = {
            "type": "modal",
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "blocks": [],
            **view,
            "id": vid,
            "team_id": self.team_id,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{self._view_seq:08d}",
            "previous_view_id": None,
            "root_view_id": root or vid,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self._views_by_id[vid] = obj
        self.views.append(obj)
        return obj

    # ------------------------------------------------------------------ Web API methods
    # Each runs under self._lock, returns the success payload (without "ok") or raises _ApiError.

    def _auth_test(self, args: JSONDict) -> JSONDict:
        return {
            "url": "https://fake.slack/",
            "team": self.team_name,
            "user": self.bot_user_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: JSONDict) -> JSONDict:
        channel = args.get("channel")
        if isinstance(channel, str) and channel[:1] in ("U", "W"):
            channel = "D" + channel  # posting to a user id goes to the app's DM with them
        channel = self._check_channel(channel, posting=True)
        text, blocks, attachments = args.get("text"), args.get("blocks"), args.get("attachments")
        if not text and not blocks and not attachments:
            raise _ApiError("no_text")
        msg = Message(
            ts=self._next_ts(),
            channel=channel,
            text=str(text or ""),
            blocks=blocks,
            attachments=attachments,
            thread_ts=self._thread_root(channel, args.get("thread_ts") or None),
            user=self.bot_user_id,
            bot_id=self.bot_id,
            reply_broadcast=_truthy(args.get("reply_broadcast")),
            metadata=args.get("metadata"),
        )
        self.messages[channel].append(msg)
        return {"channel": channel, "ts": msg.ts, "message": msg.to_slack()}

    def _files_get_upload_url_external(self, args: JSONDict) -> JSONDict:
        filename = str(args.get("filename") or "")
        try:
            length = int(str(args.get("length") or ""))
        except ValueError:
            length = 0
        if not filename or length < 1:
            raise _ApiError("invalid_arguments")
        self._file_seq += 1
        file_id = f"F0FAKE{self._file_seq:05d}"
        self.files[file_id] = StoredFile(file_id, filename, length)
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, args: JSONDict) -> JSONDict:
        files = args.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                raise _ApiError("invalid_arguments") from None
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments")
        found = []
        for item in files:
            stored = self.files.get(str((item or {}).get("id")))
            if stored is None or stored.content is None or stored.shared:
                raise _ApiError("file_not_found")
            found.append((stored, item.get("title") or stored.filename))
        channel = args.get("channel_id") or None
        thread_ts = args.get("thread_ts") or None
        if channel is not None:
            channel = self._check_channel(channel, posting=True)
        shared = []
        for stored, title in found:
            stored.title, stored.channel, stored.thread_ts = str(title), channel, thread_ts
            stored.shared = True
            shared.append({"id": stored.id, "title": stored.title, "name": stored.filename})
        if channel is not None:
            self.messages[channel].append(
                Message(
                    ts=self._next_ts(),
                    channel=channel,
                    text=str(args.get("initial_comment") or ""),
                    thread_ts=self._thread_root(channel, thread_ts),
                    user=self.bot_user_id,
                    bot_id=self.bot_id,
                    subtype="file_share",
                    files=shared,
                )
            )
        return {"files": shared}

    def _chat_update(self, args: JSONDict) -> JSONDict:
        channel = self._check_channel(args.get("channel"))
        msg = self._live_message(channel, args.get("ts"))
        has_text = "text" in args and args["text"] is not None
        if has_text:
            msg.text = str(args["text"])
        if "blocks" in args:
            msg.blocks = args["blocks"] or None
        elif has_text:
            msg.blocks = None  # Slack drops old blocks when only text is given
        if "attachments" in args:
            msg.attachments = args["attachments"] or None
        if "metadata" in args:
            msg.metadata = args["metadata"]
        msg.edit_count += 1
        message = msg.to_slack()
        message.pop("ts")
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {"channel": channel, "ts": msg.ts, "text": msg.text, "message": message}

    def _chat_delete(self, args: JSONDict) -> JSONDict:
        channel = self._check_channel(args.get("channel"))
        msg = self._live_message(channel, args.get("ts"))
        msg.deleted = True
        self._drop_pin(channel, msg.ts)
        return {"channel": channel, "ts": msg.ts}

    def _chat_post_ephemeral(self, args: JSONDict) -> JSONDict:
        channel = self._check_channel(args.get("channel"), posting=True)
        user = args.get("user")
        if not user:
            raise _ApiError("user_not_in_channel")
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            raise _ApiError("no_text")
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel,
                "user": user,
                "text": args.get("text") or "",
                "blocks": args.get("blocks"),
                "attachments": args.get("attachments"),
                "thread_ts": args.get("thread_ts"),
                "message_ts": ts,
            }
        )
        return {"message_ts": ts}

    def _chat_get_permalink(self, args: JSONDict) -> JSONDict:
        channel = self._check_channel(args.get("channel"))
        msg = self._live_message(channel, args.get("message_ts"))
        return {"channel": channel, "permalink": self._permalink(channel, msg)}

    def _pins_add(self, args: JSONDict) -> JSONDict:
        channel = self._check_channel(args.get("channel"))
        if not args.get("timestamp"):
            raise _ApiError("no_item_specified")
        msg = self._live_message(channel, args.get("timestamp"))
        if msg.ts in self.pins[channel]:
            raise _ApiError("already_pinned")
        self._add_pin(channel, msg.ts, self.bot_user_id)
        return {}

    def _pins_remove(self, args: JSONDict) -> JSONDict:
        channel = self._check_channel(args.get("channel"))
        ts = args.get("timestamp")
        if not ts:
            raise _ApiError("no_item_specified")
        if ts not in self.pins[channel]:
            raise _ApiError("no_pin")
        self._drop_pin(channel, ts)
        return {}

    def _pins_list(self, args: JSONDict) -> JSONDict:
        channel = self._check_channel(args.get("channel"))
        items = []
        newest_first = sorted(
            self.pins[channel], key=lambda ts: self._pin_meta[(channel, ts)][2], reverse=True
        )
        for ts in newest_first:
            msg = self._live_message(channel, ts)
            created, created_by, _ = self._pin_meta[(channel, ts)]
            message = {
                **msg.to_slack(),
                "permalink": self._permalink(channel, msg),
                "pinned_to": [channel],
            }
            items.append(
                {
                    "type": "message",
                    "channel": channel,
                    "created": created,
                    "created_by": created_by,
                    "message": message,
                }
            )
        return {"items": items}

    def _conversations_open(self, args: JSONDict) -> JSONDict:
        if args.get("channel"):
            channel = self._check_channel(args["channel"])
        else:
            users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
            if not users:
                raise _ApiError("users_list_not_supplied")
            channel = "D" + users[0] if len(users) == 1 else "G" + "".join(sorted(users))[:10]
        already = channel in self._opened
        self._opened.add(channel)
        result: JSONDict = {}
        if already:
            result.update(no_op=True, already_open=True)
        result["channel"] = (
            self._channel_info(channel) if _truthy(args.get("return_im")) else {"id": channel}
        )
        return result

    def _conversations_join(self, args: JSONDict) -> JSONDict:
        channel = self._check_channel(args.get("channel"))
        if channel in self.archived_channels:
            raise _ApiError("is_archived")
        if channel.startswith("D"):
            raise _ApiError("method_not_supported_for_channel_type")
        result: JSONDict = {}
        if channel in self.not_in_channel:
            self.not_in_channel.discard(channel)
        else:
            result = {
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        return {"channel": self._channel_info(channel), **result}

    def _conversations_info(self, args: JSONDict) -> JSONDict:
        channel = self._check_channel(args.get("channel"))
        return {"channel": self._channel_info(channel)}

    def _conversations_history(self, args: JSONDict) -> JSONDict:
        channel = self._check_channel(args.get("channel"))
        if channel in self.not_in_channel:
            raise _ApiError("not_in_channel")
        limit = int(args.get("limit") or 100)
        msgs = [self._with_thread_info(channel, m) for m in self.channel_messages(channel)]
        msgs.reverse()  # newest first, like Slack
        return {
            "messages": msgs[:limit],
            "has_more": len(msgs) > limit,
            "pin_count": len(self.pins[channel]),
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, args: JSONDict) -> JSONDict:
        channel = self._check_channel(args.get("channel"))
        root = self.get_message(channel, args.get("ts") or "")
        if root is None or root.deleted:
            raise _ApiError("thread_not_found")
        root_ts = root.thread_ts if root.is_reply and root.thread_ts else root.ts
        root = self._live_message(channel, root_ts)
        replies = [m.to_slack() for m in self.thread(channel, root_ts)]
        return {
            "messages": [self._with_thread_info(channel, root), *replies],
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }

    def _with_thread_info(self, channel: str, msg: Message) -> JSONDict:
        out = msg.to_slack()
        replies = self.thread(channel, msg.ts)
        if replies:
            out.update(
                thread_ts=msg.ts,
                reply_count=len(replies),
                reply_users=sorted({r.user for r in replies if r.user}),
                latest_reply=replies[-1].ts,
            )
        return out

    def _users_info(self, args: JSONDict) -> JSONDict:
        user = args.get("user")
        if not isinstance(user, str) or user not in self.users:
            raise _ApiError("user_not_found")
        return {"user": self._user_obj(user)}

    def _usergroups_users_list(self, args: JSONDict) -> JSONDict:
        group = args.get("usergroup")
        if not isinstance(group, str) or group not in self.usergroups:
            raise _ApiError("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _views_open(self, args: JSONDict) -> JSONDict:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            raise _ApiError("invalid_arguments")
        return {"view": self._new_view(args.get("view"))}

    def _views_push(self, args: JSONDict) -> JSONDict:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            raise _ApiError("invalid_arguments")
        return {"view": self._new_view(args.get("view"))}

    def _views_update(self, args: JSONDict) -> JSONDict:
        current: JSONDict | None = None
        if args.get("view_id"):
            current = self._views_by_id.get(args["view_id"])
        elif args.get("external_id"):
            wanted = args["external_id"]
            matches = [v for v in self._views_by_id.values() if v["external_id"] == wanted]
            current = matches[-1] if matches else None
        else:
            raise _ApiError("invalid_arguments")
        if current is None:
            raise _ApiError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        view = self._new_view(args.get("view"), view_id=current["id"], root=current["root_view_id"])
        return {"view": view}

    def _views_publish(self, args: JSONDict) -> JSONDict:
        user = args.get("user_id")
        if not user:
            raise _ApiError("invalid_arguments")
        existing = self._home_view_ids.get(user)
        if existing and args.get("hash") and args["hash"] != self._views_by_id[existing]["hash"]:
            raise _ApiError("hash_conflict")
        view = args.get("view")
        if isinstance(view, dict):
            view = {"type": "home", **view}
        obj = self._new_view(view, view_id=existing)
        self._home_view_ids[user] = obj["id"]
        return {"view": obj}


class RemoteFakeSlack:
    """Drive a FakeSlack running in another process through its control endpoints.

    ``url`` may be the server root or the ``/api/`` URL printed by
    ``python -m tests.support.fakeslack``.
    """

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.url = f"{self.base}/api/"
        self.timeout = timeout

    def _request(self, path: str, body: JSONDict | None = None) -> Any:
        data = None if body is None else _dump(body)
        req = urllib.request.Request(
            self.base + path,
            data=data,
            method="GET" if body is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read().decode("utf-8"))

    @property
    def calls(self) -> list[Call]:
        return [Call.from_json(c) for c in self._request("/_calls")]

    def calls_to(self, method: str) -> list[Call]:
        return [Call.from_json(c) for c in self._request(f"/_calls?method={quote(method)}")]

    def state(self) -> JSONDict:
        result: JSONDict = self._request("/_state")
        return result

    def response_url(self, key: str) -> str:
        return f"{self.base}/response/{quote(key, safe='')}"

    def reset_calls(self) -> None:
        self._request("/_action", {"action": "reset_calls"})

    def configure(self, **config: Any) -> None:
        """users=, usergroups=, channels=, missing_channels=, not_in_channel=, ..."""
        self._request(
            "/_config", {k: list(v) if isinstance(v, set) else v for k, v in config.items()}
        )

    def delete_message(self, channel: str, ts: str) -> None:
        self._request("/_action", {"action": "delete_message", "channel": channel, "ts": ts})

    def unpin(self, channel: str, ts: str) -> None:
        self._request("/_action", {"action": "unpin", "channel": channel, "ts": ts})

    def fail(self, method: str, error: str, times: int = 1, status: int = 200) -> None:
        self._fault("fail", method=method, error=error, times=times, status=status)

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        self._fault("rate_limit", method=method, retry_after=retry_after, times=times)

    def server_error(self, method: str, status: int = 500, times: int = 1) -> None:
        self._fault("server_error", method=method, status=status, times=times)

    def delay(
        self,
        method: str,
        seconds: float,
        times: int | None = None,
        *,
        phase: Literal["before", "after"] = "before",
    ) -> None:
        self._fault("delay", method=method, seconds=seconds, times=times, phase=phase)

    def clear_faults(self) -> None:
        self._fault("clear")

    def _fault(self, kind: str, **args: Any) -> None:
        self._request("/_fault", {"kind": kind, **args})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fakeslack", description="Run the fake Slack Web API server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--record", metavar="FILE", help="append every call as a JSON line")
    opts = parser.parse_args(argv)

    stopping = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake = FakeSlack(opts.host, opts.port, record=opts.record).start()
    print(fake.url, flush=True)
    try:
        while not stopping.wait(0.2):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
