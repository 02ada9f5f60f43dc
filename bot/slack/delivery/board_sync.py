"""The pinned board in #incidents: edited in place, at most once a second across every
process (a lease row), re-posted and re-pinned when someone deleted or unpinned it."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, update

from bot.db.engine import read_only
from bot.db.models import KeyValue
from bot.db.state import current_version, get_state
from bot.runtime import Runtime
from bot.slack import blocks, board
from bot.slack.api import GONE, error_code, post_message, retry_after

log = logging.getLogger("flare.slack.board")

BOARD_KEY = "slack_board"
BOARD_LEASE_KEY = "slack_board_lease"
BOARD_EVERY = timedelta(seconds=1)
BOARD_LEASE = timedelta(seconds=30)
PIN_CHECK_EVERY = timedelta(seconds=60)
# While the data version has not moved, the board in Slack matched the database at the last
# read, and no incident's promise comes due meanwhile, a worker skips re-reading every open
# incident for this long, measured on the monotonic clock: one small query a second instead
# of the whole board. Dashboard sections and relative times ("5 min ago"), which the version
# does not count, are re-read at least this often.
BOARD_QUIET = timedelta(seconds=5)


class BoardSync:
    def __init__(self, runtime: Runtime, client: WebClient, channel: str | None) -> None:
        self.runtime = runtime
        self.client = client
        self.channel = channel
        # The last read that found Slack in sync: (data version, wall time of the read, wall
        # time a promise or the pin check comes due, monotonic end of the quiet window).
        self._quiet: tuple[int, datetime, datetime, float] | None = None

    def _still_quiet(self, version: int, now: datetime) -> bool:
        """The quiet window is measured on the monotonic clock; the wall clock only says
        when a promise comes due. A wall clock that stepped back behind the last read ends
        the quiet at once (what it was measured against no longer holds)."""
        if self._quiet is None:
            return False
        quiet_version, read_at, due, quiet_until = self._quiet
        if now < read_at:
            self._quiet = None
            return False
        return quiet_version == version and now < due and self.runtime.monotonic() < quiet_until

    def _in_sync(
        self, version: int, view: board.BoardView, now: datetime, checked: datetime
    ) -> None:
        """Remember that Slack shows `view`: skip reads until the version moves, a promise
        comes due (the board flags it), the pins are due for a check, or BOARD_QUIET."""
        due = checked + PIN_CHECK_EVERY
        for row in view.incidents:
            for promise in (row.next_due, row.first_due):
                if promise is not None and promise > now:
                    due = min(due, promise)
        quiet_until = self.runtime.monotonic() + BOARD_QUIET.total_seconds()
        self._quiet = (version, now, due, quiet_until)

    def _board_state(self) -> dict[str, Any]:
        with read_only(self.runtime.sessions) as session:
            row = session.get(KeyValue, BOARD_KEY)
            return json.loads(row.value) if row and row.value else {}

    def _save_board_state(self, state: dict[str, Any]) -> None:
        with self.runtime.sessions.begin() as session:
            get_state(session, BOARD_KEY)
            session.execute(
                update(KeyValue)
                .where(KeyValue.key == BOARD_KEY)
                .values(value=json.dumps(state), at=self.runtime.now())
                .execution_options(synchronize_session=False)
            )

    def _take_board_lease(self, now: datetime) -> bool:
        """One board edit a second across every process: the row is the claim. A claim
        that ends further ahead than any claim can (the wall clock stepped back since it
        was taken) is void, so a clock step never freezes the board."""
        with self.runtime.sessions.begin() as session:
            get_state(session, BOARD_LEASE_KEY)
        with self.runtime.sessions.begin() as session:
            result = session.execute(
                update(KeyValue)
                .where(
                    KeyValue.key == BOARD_LEASE_KEY,
                    or_(KeyValue.at.is_(None), KeyValue.at <= now, KeyValue.at > now + BOARD_LEASE),
                )
                .values(at=now + BOARD_LEASE)
                .execution_options(synchronize_session=False)
            )
            return getattr(result, "rowcount", 0) == 1

    def _release_board_lease(self, not_before: datetime) -> None:
        with self.runtime.sessions.begin() as session:
            session.execute(
                update(KeyValue)
                .where(KeyValue.key == BOARD_LEASE_KEY)
                .values(at=not_before)
                .execution_options(synchronize_session=False)
            )

    def refresh(self) -> bool:
        """Edit the pinned board if what it shows changed; True if Slack was touched."""
        channel = self.channel
        if not channel:
            return False
        now = self.runtime.now()
        with read_only(self.runtime.sessions) as session:
            version = current_version(session)
            if self._still_quiet(version, now):
                return False
            view = board.gather(session, self.runtime.settings, now)
        self._quiet = None
        text, board_blocks = board.render_board(view)
        digest = board.fingerprint(text, board_blocks)
        state = self._board_state()
        ts = state.get("ts") if state.get("channel") == channel else None
        checked = state.get("pins_checked")
        pins_due = checked is None or now - datetime.fromisoformat(checked) >= PIN_CHECK_EVERY
        if ts and state.get("hash") == digest and not pins_due and not state.get("unpin"):
            assert checked is not None
            self._in_sync(version, view, now, datetime.fromisoformat(checked))
            return False
        if not self._take_board_lease(now):
            return False
        not_before = now + BOARD_EVERY
        try:
            ts = self._put_board(channel, ts, text, board_blocks, digest, state, now)
        except SlackApiError as error:
            wait = retry_after(error)
            if wait is not None:
                not_before = now + wait
            log.warning("board not updated: %s", error_code(error))
            return False
        except (URLError, TimeoutError, OSError) as error:
            log.warning("board not updated: %s", error)
            return False
        finally:
            self._release_board_lease(not_before)
        return True

    def _put_board(
        self,
        channel: str,
        ts: str | None,
        text: str,
        board_blocks: list[blocks.Block],
        digest: str,
        state: dict[str, Any],
        now: datetime,
    ) -> str:
        # Boards replaced earlier whose unpinning failed: retried until they are gone, so
        # the channel never keeps two pinned boards.
        unpin = [str(old) for old in state.get("unpin") or []]
        repost = ts is None
        if ts and state.get("hash") != digest:
            try:
                self.client.chat_update(channel=channel, ts=ts, text=text, blocks=board_blocks)
            except SlackApiError as error:
                if error_code(error) not in GONE:
                    raise
                repost = True
            else:  # recorded at once: a failure below must not make the same edit again
                self._save_board_state(
                    {
                        "channel": channel,
                        "ts": ts,
                        "hash": digest,
                        "pins_checked": None,
                        "unpin": unpin,
                    }
                )
        if ts and not repost:
            repost = not self._is_pinned(channel, ts)
        old = state.get("ts") if repost else None
        if repost:
            new_ts = post_message(self.client, channel, text=text, blocks=board_blocks)
            if old and state.get("channel", channel) == channel:
                unpin.append(str(old))
            elif old:  # the channel was reconfigured: one try in the old one
                self._unpin(str(state.get("channel")), [str(old)])
            # Saved before pinning, so a failure below never posts a second board.
            self._save_board_state(
                {
                    "channel": channel,
                    "ts": new_ts,
                    "hash": digest,
                    "pins_checked": None,
                    "unpin": unpin,
                }
            )
            try:
                self.client.pins_add(channel=channel, timestamp=new_ts)
            except SlackApiError as error:
                if error_code(error) != "already_pinned":
                    raise
            ts = new_ts
        assert ts is not None
        unpin = self._unpin(channel, [old for old in unpin if old != ts])
        self._save_board_state(
            {
                "channel": channel,
                "ts": ts,
                "hash": digest,
                "pins_checked": now.isoformat(),
                "unpin": unpin,
            }
        )
        return ts

    def _unpin(self, channel: str, stale: list[str]) -> list[str]:
        """Unpin old boards; the ones to try again later (Slack failing or rate-limiting)."""
        left: list[str] = []
        for old in stale:
            try:
                self.client.pins_remove(channel=channel, timestamp=old)
            except SlackApiError as error:
                status = getattr(error.response, "status_code", 200)
                if status == 429 or status >= 500 or error_code(error) == "ratelimited":
                    left.append(old)
                else:  # no_pin, message_not_found …: nothing left pinned to remove
                    log.info("old board %s not unpinned: %s", old, error_code(error))
            except (URLError, TimeoutError, OSError) as error:
                log.info("old board %s not unpinned yet: %s", old, error)
                left.append(old)
        return left

    def _is_pinned(self, channel: str, ts: str) -> bool:
        response = self.client.pins_list(channel=channel)
        return any(
            (item.get("message") or {}).get("ts") == ts for item in response.get("items") or []
        )
