"""The Slack side of the outbox: thread posts, DMs, reminders and the pinned board.

Rows are claimed in one short transaction, sent after it closes, and marked sent or failed
in another: no transaction is ever open across a Slack call. A message whose first attempt
ended ambiguously (a timeout, a 5xx) is looked up by its outbox key, carried in the message
metadata, before it is posted again, so a slow Slack does not make it appear twice.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.error import URLError

from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot import outbox
from bot.db.models import OutboxMessage
from bot.outbox import kinds
from bot.slack.api import error_code, header
from bot.slack.delivery.messages import Messages
from bot.slack.delivery.posting import (
    KINDS,
    MAX_BACKOFF,
    PERMANENT,
    Deferred,
    Dropped,
    SlackJob,
    log,
)


class SlackSender(Messages):
    """The Slack drain: claim due rows, send each (isolated), record the outcome."""

    def drain(self) -> int:
        """Send what is due; returns how many rows were completed."""
        now = self.runtime.now()
        with self.runtime.sessions.begin() as session:
            rows = outbox.claim(session, now=now, kinds=KINDS, limit=self.batch, worker=self.worker)
            jobs = [
                SlackJob(r.id, r.key, r.kind, dict(r.payload), r.attempts, r.last_error)
                for r in rows
            ]
        done = 0
        for job in jobs:
            done += self._run(job)
        return done

    def _run(self, job: SlackJob) -> int:
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
        self, job: SlackJob, error: str, retry_after: timedelta | None, *, give_up: bool
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

    def _release(self, job: SlackJob) -> None:
        with self.runtime.sessions.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == job.id)
                .values(claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def _perform(self, job: SlackJob) -> None:
        handler = {
            kinds.SLACK_EVENT: self._send_event,
            kinds.SLACK_DM: self._send_role_dm,
            kinds.SLACK_MAINTENANCE: self._send_maintenance,
            kinds.SLACK_REMINDER: self._send_reminder,
            kinds.SLACK_ESCALATION: self._send_escalation,
            kinds.SLACK_RESPOND: self._send_response,
            kinds.SLACK_COMPONENT: self._send_component,
        }.get(job.kind)
        if handler is None:
            raise Dropped(job.kind)
        handler(job)

    def refresh_board(self) -> bool:
        """Edit the pinned board if what it shows changed; True if Slack was touched."""
        return self.board.refresh()
