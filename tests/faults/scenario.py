"""The scripted incident the fault tests run, and the checks that the database kept it all."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from bot.db.models import Incident, TimelineEvent
from tests.faults.procs import USERS, Cluster, Reply

DECLARED = re.compile(r"Declared INC-(\d+)")


def _contains(expected: str) -> Callable[[str], bool]:
    """An answer check that keeps its own copy of the expected text (a loop's lambda would not)."""
    return lambda answer: expected in answer


@dataclass
class Script:
    """One incident from declaration to resolution; `acked` is what Slack's user was told."""

    tag: str
    number: int | None = None
    acked: list[Reply] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: BaseException | None = None
    pause: float = 0.0  # seconds between commands, as people type

    def steps(self, number: int) -> list[tuple[str, str, str]]:
        """(text, user, what a successful answer says)"""
        alice, bob, carol, dave = USERS
        n, tag = number, self.tag
        return [
            (
                f"update {n} investigating api=degraded We are investigating slow checkout "
                f"requests ({tag}).",
                alice,
                "Published on",
            ),
            (f"note {n} {tag} note one", bob, "Internal note added"),
            (f"commander {n} <@{bob}>", alice, "is now commander"),
            (f"owner {n} {carol}", bob, "is now owner"),
            (f"note {n} {tag} note two", carol, "Internal note added"),
            (f"sev {n} sev1", bob, "is now sev1"),
            (
                f"update {n} identified api=partial The cause is identified and a change is "
                f"being rolled out ({tag}).",
                carol,
                "Published on",
            ),
            (f"note {n} {tag} note three", dave, "Internal note added"),
            (
                f"update {n} monitoring api=operational A fix has been implemented and we are "
                f"monitoring ({tag}).",
                carol,
                "Published on",
            ),
            (f"resolve {n} Checkout works normally again ({tag}).", carol, "Resolved"),
        ]

    def run(self, cluster: Cluster, *, deadline: float = 90) -> None:
        try:
            reply = cluster.command(
                f"declare sev2 Checkout errors {self.tag}",
                user=USERS[0],
                deadline=deadline,
                accept=lambda a: "Declared INC-" in a,
            )
            self.acked.append(reply)
            match = DECLARED.search(reply.answer)
            assert match, reply.answer
            self.number = int(match.group(1))
            for text, user, expect in self.steps(self.number):
                reply = cluster.command(
                    text, user=user, deadline=deadline, accept=_contains(expect)
                )
                self.acked.append(reply)
                time.sleep(self.pause)
                if text.startswith("note"):
                    self.notes.append(text.split(" ", 2)[2])
        except BaseException as error:  # reported by the test thread that joins this one
            self.error = error


def run_scripts(
    cluster: Cluster, tags: list[str], *, deadline: float = 90, pause: float = 0.0
) -> list[Script]:
    """Several incidents at once, one thread each (commands within one go in order)."""
    scripts = [Script(tag, pause=pause) for tag in tags]
    threads = [
        threading.Thread(target=s.run, args=(cluster,), kwargs={"deadline": deadline})
        for s in scripts
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=deadline * 12)
    for script in scripts:
        if script.error is not None:
            raise script.error
    return scripts


def check_database(cluster: Cluster, scripts: list[Script]) -> list[str]:
    """Every acknowledged change is in the database, once: a list of what is wrong."""
    problems: list[str] = []

    def load(session: Any) -> tuple[list[Any], list[Any]]:
        incidents = list(session.execute(select(Incident)).scalars().all())
        events = list(session.execute(select(TimelineEvent)).scalars().all())
        session.expunge_all()  # plain values from here on: the read-only session rolls back
        return incidents, events

    incidents, events = cluster.query(load)
    titles = Counter(i.title for i in incidents)
    by_number = {i.number: i for i in incidents}
    for script in scripts:
        title = f"Checkout errors {script.tag}"
        if titles[title] != 1:
            problems.append(f"{title!r}: {titles[title]} incidents")
        incident = by_number.get(script.number or -1)
        if incident is None:
            problems.append(f"{script.tag}: no incident")
            continue
        mine = [e for e in events if e.incident_id == incident.id]
        kinds = Counter(str(e.kind) for e in mine)
        notes = Counter(e.body for e in mine if e.kind == "note")
        for note in script.notes:
            if notes[note] != 1:
                problems.append(f"{script.tag}: note {note!r} stored {notes[note]} times")
        if kinds["public_update"] != 4:  # three updates and the resolution
            problems.append(f"{script.tag}: {kinds['public_update']} public updates, not 4")
        if kinds["declared"] != 1:
            problems.append(f"{script.tag}: declared {kinds['declared']} times")
        if incident.is_open or incident.commander_id != USERS[1] or incident.owner_id != USERS[2]:
            problems.append(
                f"{script.tag}: open={incident.is_open} commander={incident.commander_id} "
                f"owner={incident.owner_id}"
            )
        if str(incident.severity) != "sev1":
            problems.append(f"{script.tag}: severity {incident.severity}")
    return problems
