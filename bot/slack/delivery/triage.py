"""The monitoring triage message: posted once per component episode in #incidents, then
edited in place. Each outbox row renders the episode as it is when sent; a row older than
the episode's latest revision is dropped once the message exists (the latest edit shows it)."""

from __future__ import annotations

from bot import monitoring
from bot.db.engine import read_only
from bot.db.models import Incident
from bot.slack import blocks
from bot.slack.delivery.posting import Dropped, SlackJob
from bot.slack.delivery.threads import ThreadPosts
from bot.slack.style import escape
from bot.slack.triage import triage_message


class TriagePosts(ThreadPosts):
    def _send_triage(self, job: SlackJob) -> None:
        episode_id = int(job.payload["episode_id"])
        with read_only(self.runtime.sessions) as session:
            view = monitoring.triage_view(session, episode_id)
        if view is None:
            raise Dropped("episode gone")
        channel = view.channel or self.channel
        if not channel:
            raise Dropped("no incidents channel")
        text, blocks = triage_message(view)
        if view.ts is None:
            ts = self._find_posted(job, channel, None) or self._post(
                job, channel, text=text, blocks=blocks
            )
            with self.runtime.sessions.begin() as session:
                monitoring.save_message(session, episode_id, channel, ts)
            return
        if int(job.payload.get("revision") or 0) < view.revision:
            raise Dropped("a later revision edits the message")
        self.client.chat_update(channel=channel, ts=view.ts, text=text, blocks=blocks)

    def _send_drift(self, job: SlackJob) -> None:
        """A drift nag: a DM to the owner (commander if none) with the incident's buttons,
        or, with nobody to ask, a post in the incident's thread."""
        incident_id = int(job.payload["incident_id"])
        with read_only(self.runtime.sessions) as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                raise Dropped("incident gone")
            number = incident.number
        text = escape(str(job.payload.get("text") or ""))
        recipient = job.payload.get("recipient")
        body = [blocks.section(blocks.clip(text)), blocks.incident_actions(number)]
        if recipient:
            if self._find_posted(job, str(recipient), None) is None:
                self._post(job, str(recipient), text=text, blocks=body)
            return
        channel, ts = self._root(job, incident_id)
        if self._find_posted(job, channel, ts) is None:
            self._post(job, channel, text=text, thread_ts=ts, blocks=body[:1])
