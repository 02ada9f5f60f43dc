"""Files into an incident's thread (the postmortem), by Slack's external upload flow:
`files.getUploadURLExternal`, the bytes POSTed to the URL it hands out, then
`files.completeUploadExternal` shares the file in the thread.

The outbox row carries only the incident and when it was asked for; the document is
rendered here, when it is sent, in a read-only session (an internal document: it goes only
to the incident's own thread). The upload URL must be Slack's (bot.slack.urls), and
redirects are never followed: otherwise the row is given up with the reason. The file's id
is saved on the row as soon as Slack gives it, and whether the bytes went up, so a retry
after an ambiguous failure first looks for the file in the thread and reuses an uploaded,
not yet shared file rather than sharing a second copy.
"""

from __future__ import annotations

import urllib.request
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot import records
from bot.db.engine import read_only
from bot.db.models import Incident, OutboxMessage
from bot.slack.api import error_code
from bot.slack.delivery.posting import Dropped, GiveUp, SlackJob
from bot.slack.delivery.threads import ThreadPosts
from bot.slack.urls import refusal

UPLOAD_TIMEOUT = 10  # seconds, for the upload URL
THREAD_PAGES = 10  # pages of 200 replies looked through for an earlier share


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is then an HTTPError: the bytes go nowhere else


_OPENER = urllib.request.build_opener(_NoRedirects)


class FilePosts(ThreadPosts):
    def _send_file(self, job: SlackJob) -> None:
        payload = job.payload
        incident_id = int(payload["incident_id"])
        filename = str(payload.get("filename") or "postmortem.md")
        title = str(payload.get("title") or filename)
        channel, ts = self._root(job, incident_id)
        file_id = payload.get("file_id")
        if file_id and self._shared_in_thread(channel, ts, str(file_id)):
            return  # an earlier attempt got through: nothing more to send
        if not (file_id and payload.get("uploaded")):
            file_id = self._upload(job, filename)
        try:
            self._complete(payload, str(file_id), title, channel, ts)
        except SlackApiError as error:
            if error_code(error) != "file_not_found" or not payload.get("uploaded"):
                raise
            # The saved file is gone (expired, or shared after all and not seen): once more.
            self._complete(payload, self._upload(job, filename), title, channel, ts)

    def _complete(
        self, payload: dict[str, Any], file_id: str, title: str, channel: str, ts: str
    ) -> None:
        self.client.files_completeUploadExternal(
            files=[{"id": file_id, "title": title}],
            channel_id=channel,
            thread_ts=ts,
            initial_comment=str(payload.get("comment") or "") or None,
        )

    def _upload(self, job: SlackJob, filename: str) -> str:
        """Render the document, get an upload URL, POST the bytes; the new file's id."""
        content = self._document(job).encode("utf-8")
        target = self.client.files_getUploadURLExternal(filename=filename, length=len(content))
        url, file_id = str(target["upload_url"]), str(target["file_id"])
        why = refusal(url, self.runtime.settings.slack_api_url)
        if why is not None:
            raise GiveUp(f"the upload URL Slack gave is refused: {why}; nothing was sent")
        self._remember(job, file_id=file_id, uploaded=False)
        request = urllib.request.Request(
            url,
            data=content,
            method="POST",
            headers={"Content-Type": "application/octet-stream"},
        )
        with _OPENER.open(request, timeout=UPLOAD_TIMEOUT) as answer:
            answer.read()
        self._remember(job, file_id=file_id, uploaded=True)
        return file_id

    def _document(self, job: SlackJob) -> str:
        payload = job.payload
        if "content" in payload:  # a row queued before documents were rendered here
            return str(payload["content"])
        asked = payload.get("asked_at")
        with read_only(self.runtime.sessions) as session:
            incident = session.get(Incident, int(payload["incident_id"]))
            if incident is None:
                raise Dropped("incident gone")
            now = datetime.fromisoformat(str(asked)) if asked else self.runtime.now()
            document = records.build(
                session, incident, now, public_url=self.runtime.settings.public_url
            )
            return records.clip_document(records.render_markdown(document), incident.ref)

    def _remember(self, job: SlackJob, **state: Any) -> None:
        """Save the upload's progress on the row (its own short transaction)."""
        job.payload.update(state)
        with self.runtime.sessions.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == job.id)
                .values(payload=dict(job.payload))
                .execution_options(synchronize_session=False)
            )

    def _shared_in_thread(self, channel: str, ts: str, file_id: str) -> bool:
        cursor: str | None = None
        for _ in range(THREAD_PAGES):
            response = self.client.conversations_replies(
                channel=channel, ts=ts, limit=200, cursor=cursor
            )
            for message in response.get("messages") or []:
                if any(f.get("id") == file_id for f in message.get("files") or []):
                    return True
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
        return False
