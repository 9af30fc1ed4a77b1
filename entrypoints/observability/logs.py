"""Log lines as text or JSON (``LOG_FORMAT``), each with the id of the request it belongs to.

JSON lines come from python-json-logger: one object per line with ``timestamp``, ``level``,
``logger``, ``message``, ``request_id`` and whatever the call passed as ``extra`` (the access
line's method, route, status and duration). ``logging_config`` is a ``dictConfig`` for the
whole process, uvicorn's loggers included, so ``tenantrag serve`` and
``uvicorn --factory tenantrag.entrypoints.http.app:app_from_environment`` log alike. uvicorn's
own access line is dropped: the middleware writes one with the request id instead.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from tenantrag.entrypoints.observability import request_ids

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_JSON_FIELDS = ["levelname", "name", "message", "request_id"]


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or None) on every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_ids.current()
        return True


def make_formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            _JSON_FIELDS,
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
            # uvicorn repeats each message with terminal colours as an extra: not for JSON.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
    if log_format == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"LOG_FORMAT must be text or json, got {log_format!r}")


def make_handler(log_format: LogFormat, stream: Any = None) -> logging.Handler:
    """A handler writing ``log_format`` lines to ``stream`` (standard error by default)."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(make_formatter(log_format))
    handler.addFilter(RequestIdFilter())
    return handler


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """The process's logging as a ``dictConfig`` (also uvicorn's ``log_config``)."""
    handler = {"()": make_handler, "log_format": log_format}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"default": handler},
        # Other libraries' own INFO lines (httpx's per request...) stay out unless they warn.
        "root": {"level": "WARNING", "handlers": ["default"]},
        "loggers": {
            "tenantrag": {"level": level, "handlers": [], "propagate": True},
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            # Replaced by the middleware's access line, which carries the request id.
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


def configure_logging(log_format: LogFormat, level: str) -> None:
    logging.config.dictConfig(logging_config(log_format, level))
