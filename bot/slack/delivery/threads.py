"""Each incident's root message in #incidents and its thread: the timeline's posts, the
escalations once a promise passes, and the root kept current.

Keeping the root current is a post like any other: each thread post that changes what the
root shows queues a `slack.root` row (in the transaction that marks the post sent), under
the incident's ordering key. It renders the incident as it is when it is sent, and is
retried after Retry-After or with backoff until it lands, so support never reads a stale
status on the root after a 429.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot.db.engine import read_only
from bot.db.models import Incident, TimelineEvent
from bot.outbox import kinds
from bot.slack import blocks, dashboard
from bot.slack.api import GONE, error_code
from bot.slack.delivery.posting import Dropped, Poster, SlackJob

FollowUps = list[dict[str, Any]]  # outbox rows queued when a job is marked sent


def root_refresh(incident_id: int, after: str) -> dict[str, Any]:
    """The outbox row that brings the root message up to date after the post `after`."""
    return {
        "key": f"rootupdate:{incident_id}:{after}",
        "kind": kinds.SLACK_ROOT,
        "payload": {"incident_id": incident_id},
        "incident_id": incident_id,
        "ordering_key": f"incident:{incident_id}",
    }


class ThreadPosts(Poster):
    def _root(self, job: SlackJob, incident_id: int) -> tuple[str, str]:
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
        root_job = SlackJob(
            job.id, f"root:{incident_id}", job.kind, {}, job.attempts, job.last_error
        )
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

    def _send_event(self, job: SlackJob) -> FollowUps:
        with read_only(self.runtime.sessions) as session:
            event = session.get(TimelineEvent, job.payload.get("event_id"))
            if event is None:
                raise Dropped("event gone")
            incident = session.get(Incident, event.incident_id)
            assert incident is not None
            number, incident_id = incident.number, incident.id
            text = blocks.event_post(event, number)
            post_blocks = blocks.event_blocks(event, number, text)
            is_declared = event.kind == "declared"
            refresh_root = event.kind != "note"
            opening = dashboard.thread_changes(session, incident) if is_declared else None
        if is_declared:
            channel, ts = self._root(job, incident_id)  # the root message is the declaration
            # The thread opens with the changes before it, in this job, so nothing queued
            # for the incident can come first.
            if opening and self._find_posted(job, channel, ts) is None:
                self._post(job, channel, text=opening, thread_ts=ts)
            return []
        channel, ts = self._root(job, incident_id)
        if self._find_posted(job, channel, ts) is None:
            try:
                self._post(job, channel, text=text, thread_ts=ts, blocks=post_blocks)
            except SlackApiError as error:
                if error_code(error) not in GONE or self._root_exists(channel, ts):
                    raise
                self._forget_root(incident_id, ts)  # deleted by hand: start a new thread
                channel, ts = self._root(job, incident_id)
                self._post(job, channel, text=text, thread_ts=ts, blocks=post_blocks)
        return [root_refresh(incident_id, job.key)] if refresh_root else []

    def _send_channel_text(self, job: SlackJob) -> None:
        """Text rendered when it was queued, as a new top-level post in #incidents."""
        if not self.channel:
            raise Dropped("no incidents channel")
        if self._find_posted(job, self.channel, None) is None:
            self._post(job, self.channel, text=str(job.payload["text"]))

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

    def _send_root(self, job: SlackJob) -> None:
        """Edit the root message to show the incident as it is now (a `slack.root` row)."""
        incident_id = int(job.payload["incident_id"])
        with read_only(self.runtime.sessions) as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                raise Dropped("incident gone")
            channel = incident.slack_channel or self.channel
            if not (incident.slack_ts and channel):
                raise Dropped("no root message yet: the next post creates it, current")
            ts = incident.slack_ts
            text, root_blocks = self._root_content(incident)
        try:
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=root_blocks)
        except SlackApiError as error:
            if error_code(error) in GONE:
                raise Dropped("root message gone: the next post starts a new one") from error
            raise

    def _send_escalation(self, job: SlackJob) -> None:
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

    def _check_stale(self, job: SlackJob) -> None:
        from bot.incidents import reminder_is_stale

        with read_only(self.runtime.sessions) as session:
            if reminder_is_stale(session, job.payload, self.runtime.now()):
                raise Dropped("stale")
