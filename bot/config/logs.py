"""One log format for Flare, uvicorn and APScheduler: plain text by default, one JSON object a
line with `FLARE_LOG_FORMAT=json`.

    2026-11-29T20:44:22.123Z INFO flare.worker: worker started: sweeping every 5.0s
    {"time": "2026-11-29T20:44:22.123Z", "level": "INFO", "logger": "flare.worker", "message": …}

uvicorn is run with `log_config=None` and `access_log=False`: its loggers propagate to the
root handler set up here, and the access log is Flare's own (web/access.py), written with
`log_line()` so it has the same shape. APScheduler's per-run lines ("Running job …", "… executed
successfully") are silenced: a job logs itself when it did something.
"""

from __future__ import annotations

import json
import logging
import sys
import textwrap
import time
from typing import Any, TextIO

FORMATS = ("text", "json")
# Loggers whose INFO lines are noise: one line per scheduler run, alembic's migration chatter.
QUIET = {
    "apscheduler.executors.default": logging.WARNING,
    "apscheduler.scheduler": logging.WARNING,
    "alembic": logging.WARNING,
}
# A run skipped because the previous one is still going is the design (max_instances=1,
# coalesce): the next tick does the work, and a scheduler that stopped sweeping shows on the
# board and /healthz. It is not worth a warning a tick under load.
_OVERLAP = "maximum number of running instances reached"


def _not_overlap(record: logging.LogRecord) -> bool:
    return _OVERLAP not in str(record.msg) and _OVERLAP not in record.getMessage()


_stamps: tuple[int, str] = (-1, "")


def stamp(created: float) -> str:
    """UTC, milliseconds, ISO 8601: `2026-11-29T20:44:22.123Z`."""
    global _stamps
    second = int(created)
    cached_second, text = _stamps
    if second != cached_second:  # one strftime a second, however many lines
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _stamps = (second, text)
    return f"{text}.{int((created - second) * 1000):03d}Z"


def log_line(fmt: str, created: float, level: str, name: str, message: str, **fields: Any) -> str:
    """One log line (no newline) in `fmt`; `fields` appear only in JSON."""
    if fmt == "json":
        doc = {"time": stamp(created), "level": level, "logger": name, "message": message}
        doc.update(fields)
        return json.dumps(doc, ensure_ascii=False, default=str)
    return f"{stamp(created)} {level} {name}: {message}"


class Formatter(logging.Formatter):
    """`log_line()` for records, with the traceback (text: indented lines; JSON: a field).
    A text line's message has its newlines escaped (`\\n`): every line that starts at the
    margin is a record's own."""

    def __init__(self, fmt: str = "text") -> None:
        super().__init__()
        if fmt not in FORMATS:
            raise ValueError(f"log format {fmt!r} is not text or json")
        self.kind = fmt

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        trace = ""
        if record.exc_info:
            trace = self.formatException(record.exc_info)
        elif record.stack_info:
            trace = self.formatStack(record.stack_info)
        if self.kind == "json":
            extra = {"exception": trace} if trace else {}
            return log_line("json", record.created, record.levelname, record.name, message, **extra)
        # One record, one line: a newline in the message (a remote server's reply, a name
        # someone typed) cannot start a forged line, and the traceback's lines are indented.
        if "\n" in message or "\r" in message:
            message = message.replace("\r", "\\r").replace("\n", "\\n")
        text = log_line("text", record.created, record.levelname, record.name, message)
        return f"{text}\n{textwrap.indent(trace, '  ')}" if trace else text


def configure_logging(fmt: str = "text", *, stream: TextIO | None = None) -> logging.Handler:
    """Route every logger (Flare's, uvicorn's, APScheduler's) through one handler on stderr
    (or `stream`) in `fmt`. Idempotent: a second call replaces the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(Formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "flare", False):
            root.removeHandler(old)
    handler.flare = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)  # the root's level, whatever a uvicorn config set
    # Flare writes its own access log (web/access.py): uvicorn's must stay off, and uvicorn
    # logs access whenever this logger has a handler, its ancestors' included.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)
    scheduler = logging.getLogger("apscheduler.scheduler")
    if _not_overlap not in scheduler.filters:
        scheduler.addFilter(_not_overlap)
    return handler


def log_handler() -> logging.Handler | None:
    """The handler `configure_logging` installed, if any."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, "flare", False):
            return handler
    return None
