"""`POST /hooks/deploy`: CI reports a change (README "The board", docs/dashboard.md).

`{"service", "version", "environment"?, "url"?, "actor"?, "at"?}`: every field is checked
before anything is written; a bad report is answered 400 and changes nothing.
"""

from __future__ import annotations

from typing import Any

from bot import context
from bot.errors import InvalidInput
from bot.runtime import Runtime
from web.hooks import BadPayload, Hook, json_object


def parse(body: bytes) -> context.ChangeReport:
    try:
        return context.report_from_json(json_object(body))
    except InvalidInput as error:
        raise BadPayload(str(error)) from None


def apply(runtime: Runtime, report: context.ChangeReport) -> dict[str, Any]:
    now = runtime.now()
    try:
        with runtime.sessions.begin() as session:
            change = context.record_change(session, report, now=now, source="hook")
            change_id = change.id
    except InvalidInput as error:
        raise BadPayload(str(error)) from None
    return {"ok": True, "id": change_id}


HOOK = Hook("/hooks/deploy", parse, apply)
