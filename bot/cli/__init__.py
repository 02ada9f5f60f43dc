"""The `flare` command (console script `flare = bot.cli:main`)."""

from bot.cli.main import main

__all__ = ["main"]
