"""The words after `flare incident`: options may stand anywhere, `--` ends them, and the
rest is handed to the slash-command grammar exactly as Slack would send it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.errors import UsageError
from bot.text import grammar


def split_options(words: Sequence[str], flags: dict[str, bool]) -> tuple[dict[str, str], list[str]]:
    """Options may stand anywhere among the words; `--` ends them.

    `flags` maps option name → takes a value. Returns (options, remaining words).
    """
    options: dict[str, str] = {}
    rest: list[str] = []
    it = iter(words)
    for word in it:
        if word == "--":
            rest.extend(it)
            break
        name, eq, value = word.partition("=")
        if name in flags:
            if flags[name]:
                if not eq:
                    value = next(it, "")
                if not value:
                    raise UsageError(f"{name} needs a value.", grammar.usage())
                options[name] = value
            else:
                if eq:  # "--force=false" must not quietly mean "force"
                    raise UsageError(f"{name} takes no value.", grammar.usage())
                options[name] = "1"
            continue
        rest.append(word)
    return options, rest


def join_words(words: Sequence[str]) -> str:
    """Re-quote words the shell grouped, so the slash-command grammar sees the same groups."""
    return " ".join(f'"{w}"' if (not w or any(c.isspace() for c in w)) else w for w in words)
