"""Atom and RSS history feeds: one entry per incident or maintenance, updates newest first.

Built with ElementTree, which escapes every text node; the entry content is HTML that was
escaped once more by markupsafe before going in, so it is inert in any feed reader.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC
from email.utils import format_datetime

from markupsafe import Markup, escape

from bot.text.times import iso, stamp
from web.public.pagedata import IncidentView, PageData

ATOM = "http://www.w3.org/2005/Atom"
FEED_LIMIT = 50


def entry_html(item: IncidentView) -> str:
    """The entry's content: each update (newest first) with its time and status."""
    parts: list[Markup] = []
    if item.scheduled_for and item.scheduled_until:
        parts.append(
            Markup("<p><strong>Window:</strong> {} – {}</p>").format(
                stamp(item.scheduled_for), stamp(item.scheduled_until)
            )
        )
    for update in item.updates:
        body = Markup("<br>").join(escape(line) for line in update.body.splitlines())
        parts.append(
            Markup("<p><small>{}</small><br><strong>{}</strong> - {}</p>").format(
                stamp(update.at), update.label, body
            )
        )
    if item.components:
        names = ", ".join(c.name for c in item.components)
        parts.append(Markup("<p>This {} affected: {}.</p>").format(_noun(item), names))
    return str(Markup("").join(parts))


def _noun(item: IncidentView) -> str:
    return "scheduled maintenance" if item.is_maintenance else "incident"


def _entries(data: PageData) -> list[IncidentView]:
    items = [*data.incidents, *data.maintenances]
    items.sort(key=lambda i: (i.updated_at, i.public_id), reverse=True)
    return items[:FEED_LIMIT]


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def atom(data: PageData) -> bytes:
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "en-US"})
    sub(feed, "id", f"{data.url}/history")
    sub(feed, "link", rel="alternate", type="text/html", href=data.url)
    sub(feed, "link", rel="self", type="application/atom+xml", href=f"{data.url}/history.atom")
    sub(feed, "title", f"{data.name} Status - Incident History")
    entries = _entries(data)
    sub(feed, "updated", iso(entries[0].updated_at if entries else data.updated_at))
    sub(sub(feed, "author"), "name", data.name)
    for item in entries:
        entry = sub(feed, "entry")
        sub(entry, "id", data.shortlink(item.public_id))
        sub(entry, "published", iso(item.created_at))
        sub(entry, "updated", iso(item.updated_at))
        sub(entry, "link", rel="alternate", type="text/html", href=data.shortlink(item.public_id))
        sub(entry, "title", item.name)
        sub(entry, "content", entry_html(item), type="html")
    return _xml(feed)


def rss(data: PageData) -> bytes:
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")

    def sub(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, tag, attrs)
        element.text = text
        return element

    sub(channel, "title", f"{data.name} Status - Incident History")
    sub(channel, "link", data.url)
    sub(channel, "description", f"Statuspage for {data.name}")
    sub(channel, "language", "en-us")
    entries = _entries(data)
    latest = entries[0].updated_at if entries else data.updated_at
    sub(channel, "lastBuildDate", format_datetime(latest.astimezone(UTC), usegmt=True))
    for item in entries:
        element = ET.SubElement(channel, "item")
        sub(element, "title", item.name)
        sub(element, "description", entry_html(item))
        sub(element, "pubDate", format_datetime(item.created_at.astimezone(UTC), usegmt=True))
        sub(element, "link", data.shortlink(item.public_id))
        sub(element, "guid", data.shortlink(item.public_id), isPermaLink="true")
    return _xml(root)
