"""Which precomputed encoding a request gets, and whether its `If-None-Match` matches.

`Accept-Encoding` is read with its q-values (RFC 9110 §12.5.3): each of brotli, gzip and
identity gets the quality the header gives it by name, else the quality of `*`. A coding with
q=0 is refused. The best quality wins; on a tie the smaller body does (br, then gzip). Identity
that the header does not name counts as barely acceptable: it is sent only when neither
compressed coding is acceptable (a header refusing everything still gets identity, which is
what every browser and cache expects rather than a 406).

Both headers are parsed on the event loop, so their size is bounded: repeated headers are
joined (RFC 9110 §5.3), and a value longer than MAX_VALUE bytes or of more than MAX_ITEMS items
counts as absent (identity; no match, so the full body) — no client sends such a header, and
parsing a hostile megabyte one would stall every other request.
"""

from __future__ import annotations

import re

# A quality value as the RFC writes it: 0, 0.5, 1, 1.000 …; anything else reads as 0.
_QVALUE = re.compile(rb"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
BR, GZIP, IDENTITY = "br", "gzip", "identity"
_NAMES = {b"br": BR, b"gzip": GZIP, b"x-gzip": GZIP, b"identity": IDENTITY}
MAX_VALUE = 1024  # bytes of one header, repeats joined
MAX_ITEMS = 32  # comma-separated items


def bounded(values: list[bytes]) -> bytes | None:
    """The repeats of one header joined, or None (absent) if too long or too many items."""
    if not values:
        return None
    value = values[0] if len(values) == 1 else b", ".join(values)
    if len(value) > MAX_VALUE or value.count(b",") >= MAX_ITEMS:
        return None
    return value


def _quality(params: bytes) -> float:
    for param in params.split(b";"):
        key, _, value = param.strip().partition(b"=")
        if key.strip().lower() == b"q":
            value = value.strip()
            return float(value) if _QVALUE.match(value) else 0.0
    return 1.0


def choose_encoding(value: bytes | None) -> str:
    """`br`, `gzip` or `identity` for this `Accept-Encoding` header value (None: absent)."""
    if not value or bounded([value]) is None:
        return IDENTITY
    named: dict[str, float] = {}
    star: float | None = None
    for item in value.split(b","):
        name, _, params = item.strip().partition(b";")
        name = name.strip().lower()
        if name == b"*":
            star = _quality(params)
        elif name in _NAMES:
            named.setdefault(_NAMES[name], _quality(params))
    best, best_q = IDENTITY, named.get(IDENTITY, star if star is not None else 0.0005)
    for coding in (GZIP, BR):  # later wins ties: br over gzip over identity
        q = named.get(coding, star if star is not None else 0.0)
        if q > 0 and q >= best_q:
            best, best_q = coding, q
    return best


def etag_matches(value: bytes, etag: bytes) -> bool:
    """`If-None-Match` uses the weak comparison: `W/"x"` matches `"x"`; `*` matches all."""
    if bounded([value]) is None:
        return False
    for item in value.split(b","):
        tag = item.strip()
        if tag == b"*":
            return True
        if tag.startswith((b"W/", b"w/")):
            tag = tag[2:]
        if tag == etag:
            return True
    return False
