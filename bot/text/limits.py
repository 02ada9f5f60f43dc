"""Length limits of what people write, and the one check of them (pure)."""

from __future__ import annotations

from bot.errors import InvalidInput

TITLE_LIMIT = 200


UPDATE_LIMIT = 5_000


NOTE_LIMIT = 10_000


def clean_text(text: str | None, *, what: str, limit: int) -> str:
    value = (text or "").strip()
    if not value:
        raise InvalidInput(f"The {what} is empty.")
    if len(value) > limit:
        raise InvalidInput(
            f"The {what} is {len(value):,} characters; the limit is {limit:,}. Shorten it."
        )
    return value


def clip_escaped(text: str, limit: int) -> str:
    """Escaped text cut to `limit` characters with `…`, never inside an entity (`&amp;`)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"
