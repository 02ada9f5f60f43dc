"""Files into an incident's thread (the postmortem), by Slack's external upload flow:
`files.getUploadURLExternal`, the bytes POSTed to the URL it hands out, then
`files.completeUploadExternal` shares the file in the thread.

The file's content travels in the outbox row, written in the transaction of the command
that asked for it, so what arrives is the document as it was when asked for.
"""

from __future__ import annotations

import urllib.request

from bot.slack.delivery.posting import SlackJob
from bot.slack.delivery.threads import ThreadPosts

UPLOAD_TIMEOUT = 10  # seconds, for the upload URL


class FilePosts(ThreadPosts):
    def _send_file(self, job: SlackJob) -> None:
        payload = job.payload
        incident_id = int(payload["incident_id"])
        content = str(payload.get("content") or "").encode("utf-8")
        filename = str(payload.get("filename") or "postmortem.md")
        channel, ts = self._root(job, incident_id)
        target = self.client.files_getUploadURLExternal(filename=filename, length=len(content))
        request = urllib.request.Request(
            str(target["upload_url"]),
            data=content,
            method="POST",
            headers={"Content-Type": "application/octet-stream"},
        )
        with urllib.request.urlopen(request, timeout=UPLOAD_TIMEOUT) as answer:  # noqa: S310
            answer.read()
        self.client.files_completeUploadExternal(
            files=[{"id": str(target["file_id"]), "title": str(payload.get("title") or filename)}],
            channel_id=channel,
            thread_ts=ts,
            initial_comment=str(payload.get("comment") or "") or None,
        )
