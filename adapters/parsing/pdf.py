"""PDF: one segment per page that has text, with its 1-based page number.

pypdf reads the text layer only: a scanned PDF without one parses to no segments
(there is no OCR here), which the document's ``page_count`` lets a caller explain.
"""

from __future__ import annotations

import io
from typing import Any

from pypdf import PageObject, PasswordType, PdfReader
from pypdf.errors import DependencyError

from tenantrag.adapters.parsing.limits import ParseLimits
from tenantrag.domain.ports.parser import ParsedDocument, Segment, UnparseableDocument

_HEADER = b"%PDF-"
# Readers accept a header anywhere in the first kilobyte (some files start with junk).
_HEADER_WINDOW = 1024


class PdfParser:
    """A :class:`~tenantrag.domain.ports.parser.Parser` for ``application/pdf``.

    Segments carry ``{"page": n}``; the document carries ``{"page_count": n}``, and
    ``{"unreadable_pages": [...]}`` when some pages' text could not be extracted: those
    pages are skipped rather than failing the whole file, and are named so that the
    gap is not silent. A PDF encrypted with an empty user password (common for
    "no printing" restrictions) is read; one that needs a password is refused.

    A file with more pages than ``limits.max_pages``, or whose pages' content streams
    inflate past ``limits.max_inflated_bytes`` in all, is refused naming the limit. Time is
    bounded by whoever runs the parser (``isolation.py``: a process killed at the limit).
    """

    def __init__(self, limits: ParseLimits | None = None) -> None:
        self.limits = limits or ParseLimits()

    def parse(self, data: bytes, media_type: str, filename: str) -> ParsedDocument:
        reader = _open(data, filename)
        pages = len(reader.pages)
        if pages > self.limits.max_pages:
            raise UnparseableDocument(
                filename, f"has {pages} pages, over the limit of {self.limits.max_pages} (PARSE_MAX_PAGES)"
            )
        # Counted for every page before any text is extracted (which interprets each operator).
        unreadable = self._check_inflated(reader, filename)
        segments: list[Segment] = []
        for number, page in enumerate(reader.pages, start=1):
            if number in unreadable:
                continue
            try:
                text = page.extract_text()
            # pypdf raises many kinds of error on damaged content streams; none is ours to fix.
            except Exception:
                unreadable.append(number)
                continue
            text = _clean(text)
            if text:
                segments.append(Segment(text, {"page": number}))
        metadata: dict[str, Any] = {"page_count": pages}
        if unreadable:
            metadata["unreadable_pages"] = sorted(unreadable)
        return ParsedDocument(tuple(segments), title=_title(reader), metadata=metadata)

    def _check_inflated(self, reader: PdfReader, filename: str) -> list[int]:
        """The pages whose content cannot be decoded; UnparseableDocument past the limit."""
        unreadable: list[int] = []
        inflated = 0
        for number, page in enumerate(reader.pages, start=1):
            try:
                inflated += _content_bytes(page)
            except Exception:  # a damaged stream costs its page, as in extraction
                unreadable.append(number)
                continue
            if inflated > self.limits.max_inflated_bytes:
                raise UnparseableDocument(
                    filename,
                    f"its page content inflates past the limit of {self.limits.max_inflated_bytes} bytes"
                    f" by page {number} (PARSE_MAX_INFLATED_BYTES)",
                )
        return unreadable


def _content_bytes(page: PageObject) -> int:
    """The page's content streams as decoded: what text extraction would interpret."""
    contents = page.get_contents()
    return 0 if contents is None else len(contents.get_data())


def _open(data: bytes, filename: str) -> PdfReader:
    if _HEADER not in data[:_HEADER_WINDOW]:
        # Checked first: pypdf would dig through any bytes for objects, and say less clearly why it failed.
        raise UnparseableDocument(filename, "not a valid PDF (no %PDF- header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                decrypted = reader.decrypt("")
            except DependencyError:
                # AES needs the optional `cryptography` package, which tenantrag does not install.
                raise UnparseableDocument(
                    filename, "is encrypted with AES, which cannot be decrypted here"
                ) from None
            if decrypted == PasswordType.NOT_DECRYPTED:
                raise UnparseableDocument(filename, "is protected by a password")
        len(reader.pages)  # reads the page tree: a broken one fails here, not mid-parse
    except UnparseableDocument:
        raise
    # Untrusted bytes can break pypdf in any number of ways (PdfReadError, but also
    # KeyError, ValueError... from malformed objects): each means "not a PDF we can read".
    except Exception as error:
        raise UnparseableDocument(filename, f"not a valid PDF ({_diagnose(data, error)})") from error
    return reader


def _diagnose(data: bytes, error: Exception) -> str:
    """Why the file is broken, as precisely as pypdf can say.

    Lenient reading logs the first problem ("EOF marker not found") and fails later on
    a consequence of it ("Stream has ended unexpectedly"); strict reading, tried only
    once lenient reading has failed, raises the first problem itself.
    """
    try:
        len(PdfReader(io.BytesIO(data), strict=True).pages)
    except Exception as strict_error:
        return _message(strict_error)
    return _message(error)


def _message(error: Exception) -> str:
    return str(error) or type(error).__name__


def _clean(text: str) -> str:
    # NUL can appear in text extracted from odd fonts, and PostgreSQL text cannot hold it.
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _title(reader: PdfReader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata is not None else None
    except Exception:  # a damaged info dictionary costs the title, not the text
        return None
    if not isinstance(title, str):
        return None
    return " ".join(title.split()) or None
