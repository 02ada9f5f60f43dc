"""What the domain raises when it refuses: every message is shown to the person as is."""

from __future__ import annotations


class FlareError(Exception):
    """A refusal with a clear message; the transaction is rolled back, nothing changes."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class InvalidInput(FlareError):
    pass


class NotFound(FlareError):
    pass


class NotAllowed(FlareError):
    pass


class UsageError(FlareError):
    """A command did not parse; `usage` is the help of that sub-command."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage
