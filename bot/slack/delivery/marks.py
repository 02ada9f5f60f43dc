"""Recording the Slack drain's sent rows: batched, and never waiting on another row's send.

The drain hands each row it sent (with its follow-ups) to a `SentMarks`; a thread of its own
records whatever is pending, in one transaction, every MARK_EVERY, whether or not the drain
is in the middle of another (slow) send. A worker killed mid-batch so resends at most
MARK_EVERY's worth of posts, as one killed between a post and its mark always could.

Should the mark transaction fail, it is tried once more, then row by row; a row whose mark
still cannot be written is given back with last_error "ambiguous:unrecorded" (no attempt
counted), so its retry looks for the message in Slack before posting, and its lease is no
longer renewed. Only if even that cannot be written does the row wait for its lease to lapse.
"""

from __future__ import annotations

import threading
from types import TracebackType

from bot import outbox
from bot.runtime import Runtime
from bot.slack.delivery.posting import SlackJob, log
from bot.slack.delivery.threads import FollowUps

# Pending sent rows are recorded at least this often, independently of the sends.
MARK_EVERY = 0.2
UNRECORDED = "ambiguous:unrecorded"

Sent = tuple[SlackJob, FollowUps]


class SentMarks:
    """Pending sent rows and the thread that records them (use as a context manager)."""

    def __init__(
        self,
        runtime: Runtime,
        keeper: outbox.LeaseKeeper,
        *,
        worker: str,
        every: float = MARK_EVERY,
    ) -> None:
        self.runtime = runtime
        self.keeper = keeper
        self.worker = worker
        self.every = every
        self.done = 0  # rows recorded sent
        self._pending: list[Sent] = []
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one recording at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, job: SlackJob, follow_ups: FollowUps) -> None:
        with self._pending_lock:
            self._pending.append((job, follow_ups))

    def flush(self) -> None:
        """Record every pending row now (the thread calls this every `every`)."""
        with self._flush_lock:
            with self._pending_lock:
                batch, self._pending = self._pending, []
            if batch:
                self.done += self._record(batch)

    def _record(self, batch: list[Sent]) -> int:
        for _ in range(2):  # a blip (a serialization failure, a dropped connection): again
            try:
                self._mark(batch)
            except Exception:
                log.exception("outbox: %d sent rows not recorded", len(batch))
                continue
            self._drop(batch)
            return len(batch)
        done = 0
        for sent in batch:  # one row must not keep the others unrecorded
            try:
                self._mark([sent])
            except Exception:
                log.exception("outbox %s sent but not recorded", sent[0].key)
                self._unrecorded(sent[0])
                continue
            self._drop([sent])
            done += 1
        return done

    def _mark(self, batch: list[Sent]) -> None:
        """Mark rows sent, each with its follow-ups, in one transaction (sent implies its
        follow-ups are queued)."""
        with self.runtime.sessions.begin() as session:
            now = self.runtime.now()
            for job, follow_ups in batch:
                recorded = outbox.mark_sent(session, job.id, now=now, worker=self.worker)
                if recorded and follow_ups:
                    outbox.enqueue_many(session, now=now, messages=follow_ups)

    def _drop(self, batch: list[Sent]) -> None:
        for job, _ in batch:  # marked: nothing left to renew
            self.keeper.drop(job.id)

    def _unrecorded(self, job: SlackJob) -> None:
        """Sent, as far as we know, but not recorded: give it back so that its retry looks
        for the message before posting (an ambiguous resend), and stop renewing it."""
        self.keeper.drop(job.id)
        try:
            with self.runtime.sessions.begin() as session:
                outbox.release(session, job.id, worker=self.worker, note=UNRECORDED)
        except Exception:
            log.exception("outbox %s left claimed until its lease ends", job.key)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - recorded or given back row by row; go on
                log.exception("outbox: recording sent rows failed")

    def __enter__(self) -> SentMarks:
        self._thread = threading.Thread(target=self._run, name="flare-sent-marks", daemon=True)
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
        self.flush()  # what is left, also when the drain is being stopped
