"""Signed, optionally expiring tokens for subscription links, and the key that signs them.

A token is `base64url(json).base64url(hmac-sha256)`; the JSON names its purpose so a
confirmation token can never be replayed as an unsubscribe token. The key is
`FLARE_SECRET_KEY`, or one generated on first use and kept in the state table, so every
process (web and worker) signs with the same key without configuration.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import KeyValue
from bot.db.state import get_state

SECRET_STATE_KEY = "secret_key"


class BadToken(Exception):
    """The token is forged, malformed, for another purpose, or expired."""


def secret_key(session: Session, settings: Settings) -> bytes:
    """`FLARE_SECRET_KEY`, else the generated key in the state table (created once)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    row = get_state(session, SECRET_STATE_KEY)
    if row.value is None:
        # Conditional write: of two processes racing here, the first key wins for both.
        session.execute(
            update(KeyValue)
            .where(KeyValue.key == SECRET_STATE_KEY, KeyValue.value.is_(None))
            .values(value=secrets.token_urlsafe(32))
            .execution_options(synchronize_session=False)
        )
        session.refresh(row)
    assert row.value is not None
    return row.value.encode()


def derive(key: bytes, purpose: str) -> bytes:
    """A sub-key for one purpose, so no two uses of the secret share a key."""
    return hmac.new(key, purpose.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(
    key: bytes,
    purpose: str,
    subject: dict[str, Any],
    *,
    now: datetime,
    ttl: timedelta | None = None,
) -> str:
    body: dict[str, Any] = {"p": purpose, **subject}
    if ttl is not None:
        body["e"] = int((now + ttl).timestamp())
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(derive(key, "token"), raw, hashlib.sha256).digest()
    return f"{_b64(raw)}.{_b64(mac)}"


def verify(key: bytes, token: str, purpose: str, *, now: datetime) -> dict[str, Any]:
    """The token's subject; raises BadToken for anything but a valid, current token."""
    head, dot, tail = token.partition(".")
    if not dot or len(token) > 2000:
        raise BadToken("malformed")
    try:
        raw, mac = _unb64(head), _unb64(tail)
    except (binascii.Error, ValueError) as error:
        raise BadToken("malformed") from error
    expected = hmac.new(derive(key, "token"), raw, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise BadToken("bad signature")
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise BadToken("malformed") from error
    if not isinstance(body, dict) or body.pop("p", None) != purpose:
        raise BadToken("wrong purpose")
    expires = body.pop("e", None)
    if expires is not None and now.timestamp() > float(expires):
        raise BadToken("expired")
    return body
