"""The Slack side of the outbox: thread posts, DMs, reminders, root messages and the board.

Rows are claimed in one short transaction, sent after it closes, and marked sent or failed
in another: no transaction is ever open across a Slack call. A message whose first attempt
ended ambiguously (a timeout, a 5xx) is looked up by its outbox key, carried in the message
metadata, before it is posted again, so a slow Slack does not make it appear twice.

Each row is isolated: whatever it raises (a Slack error, a timeout, or an exception nobody
expected) fails that row alone, with the error recorded and a backoff, and the rest of the
batch goes on. Its lease is renewed while it is in flight.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

from bot import outbox
from bot.outbox import kinds
from bot.slack import dashboard
from bot.slack.api import error_code, retry_after
from bot.slack.delivery.marks import SentMarks
from bot.slack.delivery.messages import Messages
from bot.slack.delivery.posting import (
    KINDS,
    MAX_BACKOFF,
    PERMANENT,
    Deferred,
    Dropped,
    GiveUp,
    SlackJob,
    log,
)
from bot.slack.delivery.threads import FollowUps
from bot.slack.delivery.triage import TriagePosts

LEASE = outbox.LEASE  # short and renewed while a send is in flight
# A row that keeps raising something no Slack failure explains (a bug, a row nobody expected)
# is set aside after this many attempts, so it cannot hold back the incident's thread forever;
# the board says so. Slack being down or slow is never a reason to give up.
UNEXPECTED_ATTEMPTS = 8


class SlackSender(Messages, TriagePosts):
    """The Slack drain: claim due rows, send each (isolated), record the outcome."""

    def drain(self) -> int:
        """Send what is due; returns how many rows were completed.

        One transaction claims the batch; one keeper renews every lease of the batch while it
        is sent; the rows sent are marked (with their follow-ups) by `SentMarks`, one
        transaction per MARK_EVERY on a thread of its own, so a burst costs a few
        transactions per batch instead of four per row and no row's mark waits on another
        row's send. A failure is still recorded for its row alone, at once."""
        now = self.runtime.now()
        with self.runtime.sessions.begin() as session:
            rows = outbox.claim(
                session, now=now, kinds=KINDS, limit=self.batch, lease=LEASE, worker=self.worker
            )
            jobs = [
                SlackJob(r.id, r.key, r.kind, dict(r.payload), r.attempts, r.last_error)
                for r in rows
            ]
        if not jobs:
            return 0
        keeper = outbox.LeaseKeeper(
            self.runtime.sessions,
            [job.id for job in jobs],
            worker=self.worker,
            lease=LEASE,
            clock=self.runtime.now,
            since=now,
        )
        marks = SentMarks(self.runtime, keeper, worker=self.worker)
        with keeper, marks:
            for job in jobs:
                try:
                    if not keeper.secure(job.id):
                        continue  # our lease lapsed during a slow batch: another worker has it
                    follow_ups = self._send(job, keeper)
                except Exception:  # the database, recording it: its lease lapses, it is retried
                    log.exception("outbox %s (%s) not recorded", job.key, job.kind)
                    continue
                if follow_ups is not None:
                    marks.add(job, follow_ups)
        return marks.done

    def _send(self, job: SlackJob, keeper: outbox.LeaseKeeper) -> FollowUps | None:
        """Send one row (its lease is held): its follow-ups once sent (or dropped), None if
        not sent (given back, or failed and recorded)."""
        try:
            return self._perform(job)
        except Dropped:
            return []
        except Exception as error:
            keeper.drop(job.id)  # given back or rescheduled: no longer ours to renew
            self._not_sent(job, error)
            return None

    def _not_sent(self, job: SlackJob, error: Exception) -> None:
        """Give the row back (pacing) or record its failure, for this row alone."""
        if isinstance(error, Deferred):
            self._release(job)
        elif isinstance(error, GiveUp):
            log.error("outbox %s (%s) given up: %s", job.key, job.kind, error)
            self._failed(job, f"refused: {error}"[:500], None, give_up=True)
        elif isinstance(error, SlackApiError):
            code = error_code(error)
            status = getattr(error.response, "status_code", 200)
            label = f"ambiguous:{status}" if status >= 500 else code
            self._failed(job, label, retry_after(error), give_up=code in PERMANENT)
        elif isinstance(error, (URLError, TimeoutError, OSError)):
            self._failed(job, f"ambiguous:{type(error).__name__}: {error}", None, give_up=False)
        else:  # a bug or a row nobody expected: this row alone fails
            log.error("outbox %s (%s) raised", job.key, job.kind, exc_info=error)
            # It may have raised after posting: the next attempt looks before posting again.
            detail = f"ambiguous:{type(error).__name__}: {error}"[:500]
            set_aside = job.attempts + 1 >= UNEXPECTED_ATTEMPTS
            if set_aside:
                log.error("outbox %s set aside after %d attempts", job.key, job.attempts + 1)
            self._failed(job, detail, None, give_up=set_aside)

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
                worker=self.worker,
                error=error,
                retry_after=retry_after,
                give_up=give_up,
                max_backoff=MAX_BACKOFF,
            )

    def _release(self, job: SlackJob) -> None:
        with self.runtime.sessions.begin() as session:
            outbox.release(session, job.id, worker=self.worker)

    def _perform(self, job: SlackJob) -> FollowUps:
        """Send one row; the outbox rows to queue once it is marked sent."""
        if job.kind == kinds.SLACK_EVENT:
            return self._send_event(job)
        handler = {
            kinds.SLACK_DM: self._send_role_dm,
            kinds.SLACK_MAINTENANCE: self._send_maintenance,
            kinds.SLACK_REMINDER: self._send_reminder,
            kinds.SLACK_ESCALATION: self._send_escalation,
            kinds.SLACK_RESPOND: self._send_response,
            kinds.SLACK_COMPONENT: self._send_component,
            kinds.SLACK_ROOT: self._send_root,
            kinds.SLACK_CHANNEL_TEXT: self._send_channel_text,
            kinds.SLACK_FILE: self._send_file,
            kinds.SLACK_TRIAGE: self._send_triage,
            kinds.SLACK_DRIFT: self._send_drift,
        }.get(job.kind)
        if handler is None:
            raise Dropped(job.kind)
        handler(job)
        return []

    def refresh_board(self) -> bool:
        """Edit the pinned board if what it shows changed; True if Slack was touched."""
        return self.board.refresh()

    def read_oncall_group(self) -> bool:
        """Read the `[oncall]` user group through Slack when due (bot.slack.dashboard)."""
        return dashboard.read_oncall_group(self.runtime, self.client)
