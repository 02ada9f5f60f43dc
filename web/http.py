"""Reading request bodies with a size cap: every POST entry point goes through `read_body`.

A body is refused with 413 before a byte is read when `Content-Length` says it is too large,
and otherwise streamed only up to the limit (a chunked body has no length to trust), so no
client can make a process hold more than `limit` bytes of its request.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

TOO_LARGE = 413


def declared_length(value: str | None) -> int | None:
    """`Content-Length` as a number, or None when absent or not plain ASCII digits."""
    if value is None:
        return None
    text = value.strip()
    if not text or not all("0" <= c <= "9" for c in text):
        return None
    return int(text) if len(text) <= 18 else 10**18  # past any limit (and int()'s digit cap)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body if it is at most `limit` bytes; raises HTTPException(413) otherwise."""
    length = declared_length(request.headers.get("content-length"))
    if length is not None and length > limit:
        raise HTTPException(TOO_LARGE, "Request too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(TOO_LARGE, "Request too large")
        chunks.append(chunk)
    return b"".join(chunks)
