"""Signed, optionally expiring tokens for subscription links, and the key that signs them.

Signing is itsdangerous's `URLSafeSerializer`: compact JSON, base64url, an HMAC with the
purpose as salt, so a confirmation token can never be replayed as an unsubscribe token.
The expiry rides inside the signed payload and is checked against Flare's injected clock.
The key is `FLARE_SECRET_KEY`, or one generated on first use and kept in the state table,
so every process (web and worker) signs with the same key without configuration.
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

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import KeyValue
from bot.db.state import get_state

SECRET_STATE_KEY = "secret_key"
TOKEN_LIMIT = 2000
PURPOSES = ("confirm", "unsubscribe")


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


def _serializer(key: bytes, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(
        derive(key, "token"),
        salt=f"flare:{purpose}",
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def sign(
    key: bytes,
    purpose: str,
    subject: dict[str, Any],
    *,
    now: datetime,
    ttl: timedelta | None = None,
) -> str:
    body: dict[str, Any] = dict(subject)
    if ttl is not None:
        body["e"] = int((now + ttl).timestamp())
    return str(_serializer(key, purpose).dumps(body))


def verify(key: bytes, token: str, purpose: str, *, now: datetime) -> dict[str, Any]:
    """The token's subject; raises BadToken for anything but a valid, current token."""
    if not token or len(token) > TOKEN_LIMIT:
        raise BadToken("malformed")
    try:
        body = _serializer(key, purpose).loads(token)
    except BadData:
        if any(_valid(key, token, other) for other in PURPOSES if other != purpose):
            raise BadToken("signed for another purpose") from None
        body = _legacy(key, token, purpose)
    if not isinstance(body, dict):
        raise BadToken("malformed")
    expires = body.pop("e", None)
    if expires is not None and (
        not isinstance(expires, int | float) or now.timestamp() > float(expires)
    ):
        raise BadToken("expired")
    return body


def _valid(key: bytes, token: str, purpose: str) -> bool:
    try:
        _serializer(key, purpose).loads(token)
    except BadData:
        return False
    return True


def _legacy(key: bytes, token: str, purpose: str) -> dict[str, Any]:
    """Tokens signed before itsdangerous (`b64(json).b64(hmac)`, purpose inside): unsubscribe
    links in mail already sent must keep working."""
    head, dot, tail = token.partition(".")
    try:
        raw = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
        mac = base64.urlsafe_b64decode(tail + "=" * (-len(tail) % 4))
        expected = hmac.new(derive(key, "token"), raw, hashlib.sha256).digest()
        if not dot or not hmac.compare_digest(mac, expected):
            raise BadToken("bad signature")
        body = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise BadToken("malformed") from error
    if not isinstance(body, dict) or body.pop("p", None) != purpose:
        raise BadToken("wrong purpose")
    return body
