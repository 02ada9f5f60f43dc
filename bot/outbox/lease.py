"""Keeping claimed rows leased while their sends are in flight.

A drain claims rows with a lease, sends after the claim's transaction closed, and records the
outcomes in another. A send that takes longer than the lease (a slow endpoint, a long batch)
would let another worker claim the same rows and send them again. `LeaseKeeper` renews the
leases from a background thread, in short transactions of their own, until the block ends;
rows another worker took meanwhile (our renewal came too late) are listed in `lost`, and a
sender asks `holds(id)` right before each send: a lost row is not sent (the other worker
sends it), and recording its outcome changes nothing (mark_sent/mark_failed check the claim).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from bot.outbox.queue import WORKER_ID, renew

log = logging.getLogger("flare.outbox")


def worker_id() -> str:
    """A claimant name for one drain pass: renewals tell it apart from every other pass,
    in other processes and in this one (claimed_by holds 64 characters)."""
    return f"{WORKER_ID}:{secrets.token_hex(4)}"[-64:]


class LeaseKeeper:
    """Renew the leases on `ids` every `every` (a third of the lease by default)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        ids: Iterable[int],
        *,
        worker: str,
        lease: timedelta,
        clock: Callable[[], datetime],
        every: timedelta | None = None,
        since: datetime | None = None,
    ) -> None:
        self.sessions = sessions
        self.ids = list(ids)
        self.worker = worker
        self.lease = lease
        self.clock = clock
        self.every = (every or lease / 3).total_seconds()
        self.lost: set[int] = set()
        self.renewals = 0
        # When the leases were last known to run a full `lease` from: the claim's `now`
        # (`since`, else the keeper's creation), then the start of every successful round.
        self._confirmed = since or clock()
        self._dropped: set[int] = set()
        self._lock = threading.Lock()  # a round of renewals, or a drop, at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def renew_now(self) -> None:
        """One round of renewals, in one short transaction (no outside call in it)."""
        with self._lock:
            keep = [i for i in self.ids if i not in self.lost and i not in self._dropped]
            if not keep:
                return
            started = self.clock()
            with self.sessions.begin() as session:
                for message_id in keep:
                    if not renew(
                        session, message_id, now=self.clock(), worker=self.worker, lease=self.lease
                    ):
                        self.lost.add(message_id)
            self.renewals += 1
            self._confirmed = started

    def drop(self, message_id: int) -> None:
        """Stop renewing a row (given back, or failed and rescheduled): once this returns no
        renewal of it is under way or will come, so it cannot be re-leased behind our back."""
        with self._lock:
            self._dropped.add(message_id)

    def holds(self, message_id: int) -> bool:
        """True while our lease on the row surely runs for another third of `lease`: no
        renewal found it taken and the last confirmed round is recent (a round that failed,
        the database away, leaves this False, and the caller renews the row itself or skips
        it). Asked right before each send: a lost row is never sent by us."""
        if message_id in self.lost:
            return False
        return self.clock() - self._confirmed < self.lease * 2 / 3

    def secure(self, message_id: int) -> bool:
        """`holds`, or else one renewal of this row alone (its own short transaction): True
        if the row is surely ours for a full lease from now. Only a row another worker took
        (or that is no longer ours to renew) answers False; the database away also answers
        False, and the row's lease simply lapses."""
        if self.holds(message_id):
            return True
        with self._lock:
            if message_id in self._dropped:
                return False
            try:
                with self.sessions.begin() as session:
                    renewed = renew(
                        session, message_id, now=self.clock(), worker=self.worker, lease=self.lease
                    )
            except Exception as error:  # noqa: BLE001 - database away: not surely ours
                log.warning("outbox %s lease not renewed: %s", message_id, error)
                return False
            if renewed:
                self.lost.discard(message_id)
            else:
                self.lost.add(message_id)
            return renewed

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.renew_now()
            except Exception as error:  # noqa: BLE001 - database away: try again next round
                log.warning("outbox leases not renewed: %s", error)

    def __enter__(self) -> LeaseKeeper:
        if self.ids:
            self._thread = threading.Thread(
                target=self._run, name="flare-lease-keeper", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
