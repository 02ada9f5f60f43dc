"""The Slack side of the outbox: thread posts, DMs, reminders and the pinned board.

Rows are claimed in one short transaction, sent after it closes, and marked sent or failed
in another: no transaction is ever open across a Slack call. A message whose first attempt
ended ambiguously (a timeout, a 5xx) is looked up by its outbox key, carried in the message
metadata, before it is posted again, so a slow Slack does not make it appear twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy import update

from bot import outbox
from bot.db.engine import read_only
from bot.db.models import Incident, Maintenance, OutboxMessage, TimelineEvent
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.slack import blocks
from bot.slack.api import GONE, error_code, header, post_message
from bot.slack.delivery.board_sync import BoardSync

log = logging.getLogger("flare.slack.sender")

KINDS = kinds.SLACK_KINDS
METADATA_TYPE = "flare_outbox"
# Errors that retrying cannot fix: the message itself is wrong.
PERMANENT = {"invalid_blocks", "msg_too_long", "invalid_arguments", "no_text", "invalid_json"}
# Slack failing is transient (429, 5xx, timeouts, a misconfigured channel that someone
# fixes): keep retrying, never drop a message, and catch up within a minute of recovery.
MAX_BACKOFF = timedelta(seconds=60)


class Deferred(Exception):
    """Not now (pacing): put the row back without counting an attempt."""


class Dropped(Exception):
    """Nothing to send any more (stale reminder, vanished incident): mark it done."""


@dataclass(frozen=True)
class Job:
    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    last_error: str | None

    @property
    def ambiguous_before(self) -> bool:
        """An earlier attempt may have reached Slack (timeout, 5xx, dropped connection)."""
        return self.attempts > 0 and (self.last_error or "").startswith("ambiguous:")


class SlackSender:
    def __init__(
        self,
        runtime: Runtime,
        client: WebClient | None = None,
        *,
        post_interval: float = 1.0,
        batch: int = 20,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.client = client or WebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            timeout=10,
            retry_handlers=[],
        )
        self.channel = settings.incidents_channel
        self.post_interval = post_interval
        self.batch = batch
        self._monotonic = monotonic
        self._last_post: dict[str, float] = {}
        # Each sender claims as itself, so a lapsed lease is noticed even within one process.
        self.worker = f"{outbox.WORKER_ID}:{id(self):x}"
        self.board = BoardSync(runtime, self.client, self.channel)

    # --- the drain ------------------------------------------------------------------------

    def drain(self) -> int:
        """Send what is due; returns how many rows were completed."""
        now = self.runtime.now()
        with self.runtime.sessions.begin() as session:
            rows = outbox.claim(session, now=now, kinds=KINDS, limit=self.batch, worker=self.worker)
            jobs = [
                Job(r.id, r.key, r.kind, dict(r.payload), r.attempts, r.last_error) for r in rows
            ]
        done = 0
        for job in jobs:
            done += self._run(job)
        return done

    def _run(self, job: Job) -> int:
        with self.runtime.sessions.begin() as session:
            if not outbox.renew(session, job.id, now=self.runtime.now(), worker=self.worker):
                return 0  # our lease lapsed during a slow batch: another worker has it
        try:
            self._perform(job)
        except Deferred:
            self._release(job)
            return 0
        except Dropped:
            pass
        except SlackApiError as error:
            code = error_code(error)
            status = getattr(error.response, "status_code", 200)
            retry_after = None
            if status == 429 or code == "ratelimited":
                seconds = header(error, "Retry-After")
                wait = int(seconds) if seconds and seconds.isdigit() else 1
                retry_after = timedelta(seconds=wait)
            label = f"ambiguous:{status}" if status >= 500 else code
            self._failed(job, label, retry_after, give_up=code in PERMANENT)
            return 0
        except (URLError, TimeoutError, OSError) as error:
            self._failed(job, f"ambiguous:{type(error).__name__}: {error}", None, give_up=False)
            return 0
        with self.runtime.sessions.begin() as session:
            outbox.mark_sent(session, job.id, now=self.runtime.now())
        return 1

    def _failed(
        self, job: Job, error: str, retry_after: timedelta | None, *, give_up: bool
    ) -> None:
        log.warning("outbox %s (%s) failed: %s", job.key, job.kind, error)
        if job.ambiguous_before and not error.startswith("ambiguous:"):
            error = f"ambiguous:earlier; {error}"  # an earlier attempt may still have got through
        with self.runtime.sessions.begin() as session:
            outbox.mark_failed(
                session,
                job.id,
                now=self.runtime.now(),
                error=error,
                retry_after=retry_after,
                give_up=give_up,
                max_backoff=MAX_BACKOFF,
            )

    def _release(self, job: Job) -> None:
        with self.runtime.sessions.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == job.id)
                .values(claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def _pace(self, channel: str) -> None:
        """About one message a second per channel, as Slack asks for chat.postMessage."""
        if self.post_interval <= 0:
            return
        last = self._last_post.get(channel)
        if last is not None and self._monotonic() - last < self.post_interval:
            raise Deferred(channel)

    def _post(self, job: Job, channel: str, **kwargs: Any) -> str:
        self._pace(channel)
        kwargs["metadata"] = {"event_type": METADATA_TYPE, "event_payload": {"key": job.key}}
        try:
            return self._post_now(channel, **kwargs)
        finally:
            self._last_post[channel] = self._monotonic()

    def _post_now(self, channel: str, **kwargs: Any) -> str:
        return post_message(self.client, channel, **kwargs)

    def _find_posted(self, job: Job, channel: str, thread_ts: str | None) -> str | None:
        """The ts of a message this job already posted, if an ambiguous attempt got through."""
        if not job.ambiguous_before:
            return None
        try:
            if channel[:1] in ("U", "W"):  # a DM: its history lives under the D… channel
                opened = self.client.conversations_open(users=channel)
                channel = str((opened.get("channel") or {}).get("id") or channel)
            if thread_ts:
                response = self.client.conversations_replies(
                    channel=channel, ts=thread_ts, include_all_metadata=True, limit=200
                )
            else:
                response = self.client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=100
                )
        except SlackApiError as error:
            status = getattr(error.response, "status_code", 200)
            if status == 429 or status >= 500 or error_code(error) == "ratelimited":
                raise  # cannot tell yet: try again later rather than post a second copy
            return None
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            if (meta.get("event_payload") or {}).get("key") == job.key:
                return str(message["ts"])
        return None

    def _perform(self, job: Job) -> None:
        handler = {
            kinds.SLACK_EVENT: self._send_event,
            kinds.SLACK_DM: self._send_role_dm,
            kinds.SLACK_MAINTENANCE: self._send_maintenance,
            kinds.SLACK_REMINDER: self._send_reminder,
            kinds.SLACK_ESCALATION: self._send_escalation,
            kinds.SLACK_RESPOND: self._send_response,
        }.get(job.kind)
        if handler is None:
            raise Dropped(job.kind)
        handler(job)

    # --- incident threads -----------------------------------------------------------------

    def _root(self, job: Job, incident_id: int) -> tuple[str, str]:
        """The incident's root message (channel, ts), posted first if it has none yet."""
        with read_only(self.runtime.sessions) as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                raise Dropped(f"incident {incident_id}")
            channel = incident.slack_channel or self.channel
            if incident.slack_ts and channel:
                return channel, incident.slack_ts
            text, root_blocks = self._root_content(incident)
        if not channel:
            raise Dropped("no incidents channel configured")
        root_job = Job(job.id, f"root:{incident_id}", job.kind, {}, job.attempts, job.last_error)
        ts = self._find_posted(root_job, channel, None) or self._post(
            root_job, channel, text=text, blocks=root_blocks
        )
        with self.runtime.sessions.begin() as session:
            session.execute(
                update(Incident)
                .where(Incident.id == incident_id, Incident.slack_ts.is_(None))
                .values(slack_ts=ts, slack_channel=channel)
                .execution_options(synchronize_session=False)
            )
        return channel, ts

    @staticmethod
    def _root_content(incident: Incident) -> tuple[str, list[blocks.Block]]:
        return blocks.incident_root(
            number=incident.number,
            title=incident.title,
            severity=incident.severity.value,
            status=incident.status.value,
            commander=incident.commander_id,
            owner=incident.owner_id,
            declared_by=incident.declared_by,
            is_open=incident.is_open,
        )

    def _send_event(self, job: Job) -> None:
        with read_only(self.runtime.sessions) as session:
            event = session.get(TimelineEvent, job.payload.get("event_id"))
            if event is None:
                raise Dropped("event gone")
            incident = session.get(Incident, event.incident_id)
            assert incident is not None
            number, incident_id = incident.number, incident.id
            text = blocks.event_post(event, number)
            is_declared = event.kind == "declared"
            refresh_root = event.kind != "note"
        if is_declared:
            self._root(job, incident_id)  # the root message is the declaration
            return
        channel, ts = self._root(job, incident_id)
        if self._find_posted(job, channel, ts) is None:
            try:
                self._post(job, channel, text=text, thread_ts=ts)
            except SlackApiError as error:
                if error_code(error) not in GONE or self._root_exists(channel, ts):
                    raise
                self._forget_root(incident_id, ts)  # deleted by hand: start a new thread
                channel, ts = self._root(job, incident_id)
                self._post(job, channel, text=text, thread_ts=ts)
        if refresh_root:
            self._refresh_root(incident_id, channel, ts)

    def _root_exists(self, channel: str, ts: str) -> bool:
        """Whether the root is still there: a passing error must not fork the thread."""
        try:
            self.client.conversations_replies(channel=channel, ts=ts, limit=1)
        except SlackApiError as error:
            if error_code(error) in GONE:
                return False
            raise
        return True

    def _forget_root(self, incident_id: int, ts: str) -> None:
        with self.runtime.sessions.begin() as session:
            session.execute(
                update(Incident)
                .where(Incident.id == incident_id, Incident.slack_ts == ts)
                .values(slack_ts=None)
                .execution_options(synchronize_session=False)
            )

    def _refresh_root(self, incident_id: int, channel: str, ts: str) -> None:
        """Keep the root message's status line current; best effort, never re-sent."""
        with read_only(self.runtime.sessions) as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                return
            text, root_blocks = self._root_content(incident)
        try:
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=root_blocks)
        except (SlackApiError, URLError, TimeoutError, OSError) as error:
            log.info("root message of incident %s not refreshed: %s", incident_id, error)

    def _send_escalation(self, job: Job) -> None:
        incident_id = int(job.payload["incident_id"])
        self._check_stale(job)
        with read_only(self.runtime.sessions) as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                raise Dropped("incident gone")
            number = incident.number
        due = datetime.fromisoformat(str(job.payload["due_at"]))
        text, actions = blocks.escalation_post(number, job.payload.get("mentions") or [], due)
        channel, ts = self._root(job, incident_id)
        if self._find_posted(job, channel, ts) is None:
            self._post(
                job, channel, text=text, thread_ts=ts, blocks=[blocks.section(text), actions]
            )

    def _check_stale(self, job: Job) -> None:
        from bot.incidents import reminders

        with read_only(self.runtime.sessions) as session:
            if reminders.is_stale(session, job.payload, self.runtime.now()):
                raise Dropped("stale")

    # --- direct messages ------------------------------------------------------------------

    def _send_role_dm(self, job: Job) -> None:
        user = str(job.payload["user"])
        with read_only(self.runtime.sessions) as session:
            event = session.get(TimelineEvent, job.payload.get("event_id"))
            if event is None:
                raise Dropped("event gone")
            incident = session.get(Incident, event.incident_id)
            assert incident is not None
            data = event.data or {}
            role = data.get("role") or ("owner" if data.get("owner") == user else "commander")
            due = incident.next_update_due or incident.reminder_due
            text = blocks.role_dm(incident.number, incident.title, role, due)
        if self._find_posted(job, user, None) is None:
            self._post(job, user, text=text)

    def _send_reminder(self, job: Job) -> None:
        self._check_stale(job)
        recipient = str(job.payload["recipient"])
        with read_only(self.runtime.sessions) as session:
            incident = session.get(Incident, job.payload["incident_id"])
            if incident is None:
                raise Dropped("incident gone")
            number, title = incident.number, incident.title
        due = datetime.fromisoformat(str(job.payload["due_at"]))
        text, dm_blocks = blocks.reminder_dm(number, title, due)
        if self._find_posted(job, recipient, None) is None:
            self._post(job, recipient, text=text, blocks=dm_blocks)

    def _send_maintenance(self, job: Job) -> None:
        if not self.channel:
            raise Dropped("no incidents channel")
        with read_only(self.runtime.sessions) as session:
            window = session.get(Maintenance, job.payload.get("maintenance_id"))
            if window is None:
                raise Dropped("maintenance gone")
            text = blocks.maintenance_post(
                window.title, str(job.payload.get("status")), window.starts_at, window.ends_at
            )
        if self._find_posted(job, self.channel, None) is None:
            self._post(job, self.channel, text=text)

    def _send_response(self, job: Job) -> None:
        """An ephemeral answer to a button click, through the click's response_url."""
        webhook = WebhookClient(str(job.payload["response_url"]), timeout=10)
        response = webhook.send(
            text=job.payload.get("text") or "",
            blocks=job.payload.get("blocks"),
            response_type="ephemeral",
            replace_original=False,
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise OSError(f"response_url answered {response.status_code}")

    # --- the board ------------------------------------------------------------------------

    def refresh_board(self) -> bool:
        """Edit the pinned board if what it shows changed; True if Slack was touched."""
        return self.board.refresh()
