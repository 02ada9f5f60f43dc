"""Posts outside incident threads: role DMs, reminder DMs, maintenance posts in #incidents,
and answers to button clicks through their `response_url`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.webhook import WebhookClient

from bot.db.engine import read_only
from bot.db.models import Component, ComponentStatusChange, Incident, Maintenance, TimelineEvent
from bot.slack import blocks
from bot.slack.delivery.files import FilePosts
from bot.slack.delivery.posting import Dropped, GiveUp, SlackJob
from bot.slack.urls import refusal

if TYPE_CHECKING:
    from bot.incidents import ReminderTarget


class Messages(FilePosts):
    def _send_role_dm(self, job: SlackJob) -> None:
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

    def _reminder_target(self, incident_id: int) -> ReminderTarget | None:
        """What decides the reminder, read right before its DM (one primary-key read): a
        promise answered, snoozed or resolved a moment ago is seen."""
        from bot.incidents import reminder_targets

        with read_only(self.runtime.sessions) as session:
            return reminder_targets(session, [incident_id]).get(incident_id)

    def _send_reminder(self, job: SlackJob) -> None:
        from bot.incidents import target_is_stale

        recipient = str(job.payload["recipient"])
        incident_id = job.payload.get("incident_id")
        if self._find_posted(job, recipient, None) is not None:
            return  # an earlier, ambiguous attempt got through
        # Still wanted (not resolved, answered, snoozed or past its promise) as of now: read
        # after any lookup in Slack, so nothing but building the DM stands between the
        # check and the post.
        target = self._reminder_target(incident_id) if isinstance(incident_id, int) else None
        if target_is_stale(target, job.payload, self.runtime.now()):
            raise Dropped("stale")
        assert target is not None
        due = datetime.fromisoformat(str(job.payload["due_at"]))
        text, dm_blocks = blocks.reminder_dm(target.number, target.title, due)
        self._post(job, recipient, text=text, blocks=dm_blocks)

    def _send_maintenance(self, job: SlackJob) -> None:
        if not self.channel:
            raise Dropped("no incidents channel")
        with read_only(self.runtime.sessions) as session:
            window = session.get(Maintenance, job.payload.get("maintenance_id"))
            if window is None:
                raise Dropped("maintenance gone")
            # The window as it was when this post was queued (older rows: as it is now).
            starts, ends = job.payload.get("starts_at"), job.payload.get("ends_at")
            text = blocks.maintenance_post(
                window.title,
                str(job.payload.get("status")),
                datetime.fromisoformat(str(starts)) if starts else window.starts_at,
                datetime.fromisoformat(str(ends)) if ends else window.ends_at,
                ref=window.ref,
            )
        if self._find_posted(job, self.channel, None) is None:
            self._post(job, self.channel, text=text)

    def _send_component(self, job: SlackJob) -> None:
        """A public level change (or a hand-set level) that no incident thread tells."""
        if not self.channel:
            raise Dropped("no incidents channel")
        with read_only(self.runtime.sessions) as session:
            change = session.get(ComponentStatusChange, job.payload.get("change_id"))
            component = session.get(Component, change.component_id) if change else None
            if change is None or component is None:
                raise Dropped("level change gone")
            text = blocks.level_post(
                component.name, change.previous, change.status, change.actor, change.cause
            )
        if self._find_posted(job, self.channel, None) is None:
            self._post(job, self.channel, text=text)

    def _send_response(self, job: SlackJob) -> None:
        """An ephemeral answer to a button click, through the click's response_url."""
        url = str(job.payload["response_url"])
        why = refusal(url, self.runtime.settings.slack_api_url)
        if why is not None:
            raise GiveUp(f"the click's response_url is refused: {why}")
        webhook = WebhookClient(url, timeout=10)
        response = webhook.send(
            text=job.payload.get("text") or "",
            blocks=job.payload.get("blocks"),
            response_type="ephemeral",
            replace_original=False,
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise OSError(f"response_url answered {response.status_code}")
