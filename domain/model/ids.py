"""Identifiers: time-ordered UUIDs (version 7, RFC 9562), generated in the domain.

Lists page by (created_at, id). When two rows share a timestamp (a frozen clock in
tests, or one microsecond in production) the id breaks the tie, and a time-ordered
id breaks it in creation order, so a chat's messages never swap places.
Python 3.11's uuid module has no uuid7, hence this small implementation: a 48-bit
millisecond timestamp, then a 12-bit counter that keeps ids from one process
strictly increasing within a millisecond, then 62 random bits.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0
_COUNTER_MAX = 0xFFF


def new_id() -> uuid.UUID:
    global _last_ms, _counter  # noqa: PLW0603 - process-wide monotonic state is the point
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _counter = now_ms, 0
        elif _counter < _COUNTER_MAX:
            _counter += 1
        else:  # 4096 ids in one millisecond: borrow the next one rather than repeat an order
            _last_ms, _counter = _last_ms + 1, 0
        ms, counter = _last_ms, _counter
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version 7
    value |= counter << 64
    value |= 0b10 << 62  # RFC 4122 variant
    value |= secrets.randbits(62)
    return uuid.UUID(int=value)
