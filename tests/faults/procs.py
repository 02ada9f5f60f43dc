"""Real `flare web` / `flare worker` processes for the fault suite, and what it checks after.

A `Cluster` starts the console script against a PostgreSQL URL and a `FakeSlack` on
127.0.0.1, kills processes with SIGKILL, and drives the Slack endpoint with signed commands
the way Slack does (a retried request carries the same `trigger_id`). Each process gets its
own bot token, so every call the fake Slack records says which process made it: a repeated
thread post can then be traced to the process that was killed while sending it.

`STATS` is what the session summary prints: processes killed, faults injected, requests
fuzzed, and what was found lost or doubled.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, func, select

from bot.config import Settings, load_settings
from bot.db.engine import make_engine, make_session_factory, read_only
from bot.db.models import OutboxMessage, TimelineEvent
from bot.slack import board
from tests.support.fakeslack import Call, FakeSlack, Message

ROOT = Path(__file__).resolve().parents[2]
FLARE = ROOT / ".venv" / "bin" / "flare"
SECRET = "fault-suite-signing-secret-0123456"
CHANNEL = "C0INCIDENTS"
USERS = ("U0ALICE01", "U0BOB0001", "U0CAROL01", "U0DAVE001")

STATS: Counter[str] = Counter()  # killed, faults, fuzzed, commands, lost, doubled, repeated


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    condition: Callable[[], Any], *, timeout: float, what: str, detail: Callable[[], str] = str
) -> Any:
    """Poll `condition` until it is truthy; fail with `what` (and `detail()`) at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except (OSError, urllib.error.URLError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{detail()}")
        time.sleep(0.1)


@dataclass
class Proc:
    name: str
    kind: str  # "web" | "worker"
    token: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None
    killed_at: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class Reply:
    """One acknowledged command: what was asked and what Slack would show the user."""

    text: str
    user: str
    trigger: str
    answer: str
    attempts: int


@dataclass
class Cluster:
    database_url: str
    fake: FakeSlack
    logs: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)
    killed: list[Proc] = field(default_factory=list)
    _engine: Engine | None = None
    _generation: int = 0

    # --- processes ----------------------------------------------------------------------

    def env(self, token: str = "xoxb-fault-suite") -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FLARE_", "SLACK_", "DATABASE_URL", "PORT"))
        }
        env.update(
            PYTHONUNBUFFERED="1",
            DATABASE_URL=self.database_url,
            SLACK_BOT_TOKEN=token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=self.fake.url,
            FLARE_INCIDENTS_CHANNEL=CHANNEL,
            FLARE_TICK="1s",
            FLARE_PUBLIC_URL="https://status.example.test",
        )
        env.update(self.extra_env)
        return env

    def settings(self) -> Settings:
        return load_settings(self.env())

    def _spawn(self, kind: str, name: str, args: list[str], port: int | None) -> Proc:
        self._generation += 1
        token = f"xoxb-{name}-{self._generation}"
        log = self.logs / f"{name}.log"
        with log.open("ab") as handle:
            handle.write(f"=== start {kind} {token} ===\n".encode())
            handle.flush()
            popen = subprocess.Popen(
                [str(FLARE), *args],
                env=self.env(token),
                cwd=self.logs,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        proc = Proc(name, kind, token, popen, log, port)
        self.procs.append(proc)
        return proc

    def start_web(self, name: str, *, wait: bool = True, port: int | None = None) -> Proc:
        port = port or free_port()
        proc = self._spawn("web", name, ["web", "--host", "127.0.0.1", "--port", str(port)], port)
        if wait:
            self.wait_web(proc)
        return proc

    def wait_web(self, proc: Proc, timeout: float = 60) -> None:
        def up() -> bool:
            if not proc.alive():
                raise AssertionError(f"{proc.name} exited early\n{self.output()}")
            with urllib.request.urlopen(proc.url + "/healthz", timeout=2) as response:
                return bool(response.status == 200)

        wait_until(up, timeout=timeout, what=f"{proc.name} to serve", detail=self.output)

    def start_worker(self, name: str) -> Proc:
        return self._spawn("worker", name, ["worker"], None)

    def kill(self, proc: Proc) -> None:
        """SIGKILL: no shutdown code runs, as when a machine dies."""
        if proc.alive():
            proc.popen.send_signal(signal.SIGKILL)
            STATS["killed"] += 1
        proc.popen.wait(timeout=10)
        proc.killed_at = time.monotonic()
        self.killed.append(proc)

    def restart(self, proc: Proc, *, wait: bool = False) -> Proc:
        """A new process in the dead one's place (a web keeps its port)."""
        self.procs.remove(proc)
        if proc.kind == "web":
            return self.start_web(proc.name, wait=wait, port=proc.port)
        return self.start_worker(proc.name)

    def live(self, kind: str) -> list[Proc]:
        return [p for p in self.procs if p.kind == kind and p.alive()]

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.alive():
                proc.popen.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(timeout=5)
        if self._engine is not None:
            self._engine.dispose()

    def output(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-2500:]}"
            for path in sorted(self.logs.glob("*.log"))
        )

    # --- Slack's side of the endpoint -------------------------------------------------------

    def post_signed(self, web: Proc, body: str, timeout: float = 10) -> tuple[int, bytes]:
        ts = str(int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
        assert signature is not None
        headers = {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        request = urllib.request.Request(
            web.url + "/slack/events", data=body.encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def command(
        self,
        text: str,
        *,
        user: str = USERS[0],
        trigger: str | None = None,
        deadline: float = 60,
        accept: Callable[[str], bool] = lambda answer: True,
    ) -> Reply:
        """Send `/incident text` to a live web process until one acknowledges it.

        A request that got no answer (the process died, the connection dropped) is sent again
        with the same `trigger_id`, as Slack's retry would be: that is what must never act twice.
        """
        trigger = trigger or f"trig-{uuid.uuid4().hex}"
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T0FAKE0001",
                "channel_id": CHANNEL,
                "user_id": user,
                "command": "/incident",
                "text": text,
                "trigger_id": trigger,
                "response_url": self.fake.response_url(f"cmd-{uuid.uuid4().hex[:8]}"),
            }
        )
        stop = time.monotonic() + deadline
        attempts = 0
        last = ""
        while time.monotonic() < stop:
            webs = [p for p in self.procs if p.kind == "web"]
            web = random.choice(webs)
            attempts += 1
            STATS["commands"] += 1
            try:
                status, raw = self.post_signed(web, body)
            except (OSError, urllib.error.URLError) as error:
                last = f"{web.name}: {error}"
                time.sleep(0.2)
                continue
            if status == 200:
                answer = json.loads(raw).get("text", "") if raw else ""
                if accept(answer):
                    return Reply(text, user, trigger, answer, attempts)
                last = f"{web.name}: not accepted: {answer}"
            else:
                last = f"{web.name}: {status} {raw[:200]!r}"
            time.sleep(0.2)
        raise AssertionError(f"/incident {text} never acknowledged: {last}\n{self.output()}")

    # --- the database -------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.database_url, pool_size=2, max_overflow=2)
        return self._engine

    def query(self, fn: Callable[[Any], Any]) -> Any:
        with read_only(make_session_factory(self.engine)) as session:
            return fn(session)

    def unsent(self) -> int:
        return int(
            self.query(
                lambda s: s.scalar(
                    select(func.count()).where(
                        OutboxMessage.sent_at.is_(None), OutboxMessage.dead.is_(False)
                    )
                )
            )
            or 0
        )

    def dead(self) -> list[tuple[str, str | None]]:
        return list(
            self.query(
                lambda s: s.execute(
                    select(OutboxMessage.key, OutboxMessage.last_error).where(
                        OutboxMessage.dead.is_(True)
                    )
                ).all()
            )
        )

    def board_converged(self) -> bool:
        """The pinned board shows exactly what the database says now."""
        settings = self.settings()
        from datetime import UTC, datetime

        def expected(session: Any) -> list[Any]:
            view = board.gather(session, settings, datetime.now(UTC))
            return board.render_board(view)[1]

        want = self.query(expected)
        pinned = [
            m
            for m in self.fake.channel_messages(CHANNEL)
            if not m.deleted and self.fake.is_pinned(CHANNEL, m.ts)
        ]
        return len(pinned) == 1 and pinned[0].blocks == want


# --- what reached Slack ------------------------------------------------------------------------


def outbox_key(message: Message) -> str | None:
    meta = message.metadata or {}
    payload = meta.get("event_payload") or {}
    key = payload.get("key")
    return str(key) if key else None


@dataclass
class Audit:
    """Every outbox key in the database against the messages the fake Slack holds."""

    lost: list[str]
    doubled: list[str]  # repeated without a process dying while sending it
    repeated: list[str]  # repeated because the sender was killed mid-send (allowed)
    out_of_order: list[str]

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.out_of_order)


def audit(cluster: Cluster, *, killed_tokens: Iterable[str] = ()) -> Audit:
    fake = cluster.fake
    killed = set(killed_tokens)

    def rows(session: Any) -> list[Any]:
        return list(
            session.execute(
                select(
                    OutboxMessage.key,
                    OutboxMessage.kind,
                    OutboxMessage.incident_id,
                    OutboxMessage.sent_at,
                    OutboxMessage.payload,
                    TimelineEvent.kind,
                )
                .outerjoin(
                    TimelineEvent, OutboxMessage.key == func.concat("event:", TimelineEvent.id)
                )
                .where(
                    OutboxMessage.kind.like("slack.%"),
                    # Answers to clicks and root-message edits post nothing of their own.
                    OutboxMessage.kind.not_in(["slack.respond", "slack.root"]),
                )
                .order_by(OutboxMessage.id)
            ).all()
        )

    outbox_rows = cluster.query(rows)
    # Incidents declared through Flare have a root message (seeded ones may not).
    incidents = sorted({i for _k, kind, i, *_ in outbox_rows if kind == "slack.event" and i})
    expected: list[str] = [f"root:{i}" for i in incidents]
    for key, kind, _incident, sent_at, _payload, event_kind in outbox_rows:
        if kind == "slack.event" and event_kind == "declared":
            continue  # the root message is the declaration
        if sent_at is None:
            continue  # dropped as stale (reminders) counts as done; unsent is checked elsewhere
        expected.append(key)

    messages: dict[str, list[Message]] = defaultdict(list)
    for items in list(fake.messages.values()):
        for message in items:
            if message.deleted:
                continue
            key = outbox_key(message)
            if key:
                messages[key].append(message)
    # Which process posted each message, and each process's last keyed post.
    posted_by: dict[str, str] = {}
    last_post: dict[str, str] = {}
    for call in sorted(fake.calls_to("chat.postMessage"), key=lambda c: c.seq):
        ts = (call.response or {}).get("ts")
        if not ts or not call.token:
            continue
        posted_by[str(ts)] = call.token
        if _has_key(call):
            last_post[call.token] = str(ts)
    lost, doubled, repeated = [], [], []
    for key in expected:
        copies = sorted(messages.get(key, []), key=lambda m: float(m.ts))
        if not copies:
            lost.append(key)
        elif len(copies) > 1:
            # Allowed once per kill: the first copy was the last post of a process killed
            # before it could mark the row sent.
            extra = copies[1:]
            first = copies[0]
            sender = posted_by.get(first.ts)
            if sender in killed and last_post.get(sender) == first.ts and len(extra) == 1:
                repeated.append(key)
            else:
                doubled.append(key)
    # Order: within each incident's thread, events in the order they happened.
    out_of_order = []
    for incident in incidents:
        root = messages.get(f"root:{incident}")
        if not root:
            continue
        events = [
            int(m_key.split(":")[1])
            for m in sorted(
                (m for ms in messages.values() for m in ms if m.thread_ts == root[0].ts),
                key=lambda m: float(m.ts),
            )
            if (m_key := outbox_key(m) or "").startswith("event:")
        ]
        firsts = list(dict.fromkeys(events))
        if firsts != sorted(firsts):
            out_of_order.append(f"incident {incident}: {firsts}")
    STATS["lost"] += len(lost)
    STATS["doubled"] += len(doubled)
    STATS["repeated"] += len(repeated)
    return Audit(lost, doubled, repeated, out_of_order)


def _has_key(call: Call) -> bool:
    meta = call.args.get("metadata")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            return False
    return bool(isinstance(meta, dict) and (meta.get("event_payload") or {}).get("key"))


def board_edits_doubled(fake: FakeSlack) -> int:
    """Board edits that changed nothing: the same content sent twice in a row."""
    last: dict[str, str] = {}
    doubled = 0
    for call in sorted(fake.calls_to("chat.update"), key=lambda c: c.seq):
        if not (call.response or {}).get("ok"):
            continue
        ts = str(call.args.get("ts"))
        content = json.dumps([call.args.get("text"), call.args.get("blocks")], sort_keys=True)
        if last.get(ts) == content and _is_board(call):
            doubled += 1
        last[ts] = content
    return doubled


def _is_board(call: Call) -> bool:
    blocks = call.args.get("blocks")
    return bool(
        isinstance(blocks, list)
        and blocks
        and isinstance(blocks[0], dict)
        and (blocks[0].get("text") or {}).get("text") == "Incident board"
    )
