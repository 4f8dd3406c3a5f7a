"""Logs as one JSON object per line, tracebacks included, each carrying its request id.

python-json-logger does the encoding, so a message holding `"` or a newline stays one
valid line (a printf-style format string did not). The request id lives in a context
variable: the HTTP middleware sets it for each request, and everything that request runs,
including a websocket's socket.io events and the tasks they start, logs with it.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# An id a proxy in front (nginx's $request_id) or a client passed on: kept when it is
# short and plain, so it can be searched for in both logs; anything else gets a new one.
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def new_request_id(offered: str | None = None) -> str:
    if offered and _GOOD_ID.fullmatch(offered):
        return offered
    return secrets.token_hex(8)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def json_formatter() -> JsonFormatter:
    return JsonFormatter(
        "{levelname}{name}{message}{request_id}",
        style="{",
        timestamp="t",  # ISO 8601, UTC
        rename_fields={"levelname": "level", "name": "logger", "message": "msg"},
        json_ensure_ascii=False,
    )


def configure(level: str) -> None:
    """The root logger writes JSON lines to stderr; warnings go through it too."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
