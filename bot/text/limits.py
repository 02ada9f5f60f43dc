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
