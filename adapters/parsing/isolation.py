"""Parsing PDFs in child processes that are killed when they run out of time.

A thread cannot be stopped, and a parse that holds the GIL slows everything else in the
process; a child process can be killed. So :class:`IsolatedParser` sends each PDF (the
format whose cost is not bounded by its size, see ``limits.py``) to a pool of worker
processes (pebble's ``ProcessPool``, started with ``spawn``: no copy of the server's
threads, sockets or event loop; at a lower CPU priority than the server), with
``limits.timeout_seconds`` per document. A parse
that runs over is killed with its process, which the pool replaces, and the document is
refused with an error naming the limit. Text formats (plain text, Markdown, HTML) are
parsed in the calling thread: their cost grows with their size, which the upload limit
bounds, and a process hop would cost every small document a round trip.

``parse`` blocks its caller until the child answers, so callers on an event loop run it in
a worker thread (ingestion does). The pool starts with the first PDF and is stopped by
:meth:`IsolatedParser.close` (the container does it at shutdown), or when the parser is
garbage collected.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import threading
import weakref

import attrs
from pebble import ProcessExpired, ProcessPool

from tenantrag.adapters.parsing.limits import ParseLimits
from tenantrag.adapters.parsing.pdf import PdfParser
from tenantrag.adapters.parsing.registry import PDF, ParserRegistry, default_parsers
from tenantrag.domain.ports.parser import ParsedDocument, UnparseableDocument

#: The media types parsed in a child process.
ISOLATED = frozenset({PDF})
# Worker processes run at a lower priority than the server (Unix niceness, 0 to 19).
_NICENESS = 10


@attrs.frozen
class _Refused:
    """An UnparseableDocument, carried back from the child as plain data (exceptions with
    custom constructors do not survive pickling)."""

    problem: str


def _parse_pdf(data: bytes, media_type: str, filename: str, limits: ParseLimits) -> ParsedDocument | _Refused:
    """Runs in a worker process."""
    try:
        return PdfParser(limits).parse(data, media_type, filename)
    except UnparseableDocument as refused:
        return _Refused(refused.problem)


class IsolatedParser:
    """A :class:`~tenantrag.domain.ports.parser.MediaTypeParser`: ``registry``'s parsers, with
    PDFs parsed in killable child processes under ``limits``."""

    def __init__(self, limits: ParseLimits | None = None, registry: ParserRegistry | None = None) -> None:
        self.limits = limits or ParseLimits()
        parsers = default_parsers()
        parsers[PDF] = PdfParser(self.limits)  # also used when the pool is closed
        self.registry = registry or ParserRegistry(parsers)
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize[[ProcessPool], IsolatedParser] | None = None

    def resolve(self, media_type: str, filename: str) -> str:
        return self.registry.resolve(media_type, filename)

    def supported(self, media_type: str, filename: str) -> str:
        return self.registry.supported(media_type, filename)

    def parse(self, data: bytes, media_type: str, filename: str) -> ParsedDocument:
        resolved = self.registry.supported(media_type, filename)
        if resolved not in ISOLATED:
            return self.registry.parse(data, media_type, filename)
        future = self._workers().schedule(
            _parse_pdf, args=(data, media_type, filename, self.limits), timeout=self.limits.timeout_seconds
        )
        try:
            outcome = future.result()
        except concurrent.futures.TimeoutError:
            raise UnparseableDocument(
                filename,
                f"parsing took longer than the limit of {self.limits.timeout_seconds:g} s"
                " and was stopped (PARSE_TIMEOUT_SECONDS)",
            ) from None
        except ProcessExpired as died:
            raise UnparseableDocument(
                filename, f"the parser's process died ({died}); the file cannot be read"
            ) from None
        if isinstance(outcome, _Refused):
            raise UnparseableDocument(filename, outcome.problem)
        return outcome

    def close(self) -> None:
        """Stop the worker processes (a running parse is killed); a later PDF starts new ones."""
        with self._lock:
            pool, self._pool = self._pool, None
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None
        if pool is not None:
            _stop(pool)

    def _workers(self) -> ProcessPool:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPool(
                    max_workers=self.limits.workers,
                    initializer=_background_priority,
                    context=multiprocessing.get_context("spawn"),
                )
                self._finalizer = weakref.finalize(self, _stop, self._pool)
            return self._pool


def _background_priority() -> None:
    """Runs in each worker process: parsing yields the CPU to the server when both want it."""
    if hasattr(os, "nice"):
        os.nice(_NICENESS)


def _stop(pool: ProcessPool) -> None:
    pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
    pool.join()
