"""Subscriber mail: a plain-text and an HTML part from the one Jinja environment, threaded
per incident, with RFC 8058 one-click unsubscribe headers.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from bot.config import Settings
from bot.subscribers.notices import Notice
from bot.text.render import render
from bot.text.times import hhmm, stamp


def _paragraph_lines(text: str) -> list[list[str]]:
    blocks = re.split(r"\n\s*\n", text.strip())
    return [block.splitlines() for block in blocks if block.strip()]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _message(
    settings: Settings,
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    now: datetime,
    unsubscribe_url: str | None,
    thread: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((f"{settings.page_name} Status", settings.sender_address))
    message["To"] = to
    message["Subject"] = _one_line(subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=settings.public_host)
    message["Auto-Submitted"] = "auto-generated"
    if thread:
        # Mail clients thread every notice about one incident together.
        message["References"] = f"<{thread}@{settings.public_host}>"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    context = {**context, "page_name": settings.page_name, "page_url": settings.public_url}
    message.set_content(render(f"mail/{template}.txt", context))
    message.add_alternative(render(f"mail/{template}.html", context), subtype="html")
    return message


def update_mail(
    notice: Notice,
    settings: Settings,
    *,
    to: str,
    unsubscribe_url: str,
    scope: list[str],
    now: datetime,
) -> EmailMessage:
    return _message(
        settings,
        to=to,
        subject=f"[{settings.page_name}] {notice.name}: {notice.status_label}",
        template="update",
        context={
            "notice": notice,
            "paragraphs": _paragraph_lines(notice.body),
            "at": stamp(notice.at),
            "next_update": (hhmm(notice.next_update_due) if notice.next_update_due else None),
            "window": (
                f"{stamp(notice.scheduled_for)} – {stamp(notice.scheduled_until)}"
                if notice.scheduled_for and notice.scheduled_until
                else None
            ),
            "scope": scope,
            "unsubscribe_url": unsubscribe_url,
        },
        now=now,
        unsubscribe_url=unsubscribe_url,
        thread=f"{notice.kind}-{notice.public_id}",
    )


def confirmation_mail(
    settings: Settings, *, to: str, confirm_url: str, scope: list[str], now: datetime
) -> EmailMessage:
    return _message(
        settings,
        to=to,
        subject=f"Confirm your subscription to {settings.page_name} status updates",
        template="confirm",
        context={"confirm_url": confirm_url, "scope": scope},
        now=now,
        unsubscribe_url=None,
    )
