"""The id of the request being served: returned as ``X-Request-ID``, put on every log line
and recorded in the query logs of the searches it made.

A caller's own ``X-Request-ID`` is kept when it is a plausible id (a proxy or a client tying
its logs to ours); anything else is replaced, so a header cannot smuggle text into logs.
"""

from __future__ import annotations

import contextvars
import re
import uuid

HEADER = "X-Request-ID"
MAX_LENGTH = 128
# Letters, digits and the separators ids use (UUIDs, ULIDs, trace ids, "req-123").
_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenantrag_request_id", default=None)


def current() -> str | None:
    """The id of the request this code runs for, None outside a request."""
    return _current.get()


def is_valid(value: str) -> bool:
    return _VALID.fullmatch(value) is not None


def new() -> str:
    return uuid.uuid4().hex


def accept(incoming: str | None) -> str:
    """The caller's id when it is a valid one, else a new id."""
    if incoming is not None and is_valid(incoming):
        return incoming
    return new()


def bind(request_id: str) -> contextvars.Token[str | None]:
    """Make ``request_id`` the current one; ``reset`` with the token undoes it."""
    return _current.set(request_id)


def reset(token: contextvars.Token[str | None]) -> None:
    _current.reset(token)
