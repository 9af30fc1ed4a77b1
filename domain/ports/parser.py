"""The parser port: an uploaded file's bytes to the text segments worth indexing.

Parsers return *segments* rather than one string because where a piece of text sits
(a Markdown section, a PDF page) is what lets a search result say where it came from;
ingestion chunks each segment on its own and copies the segment's metadata onto its
chunks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from tenantrag.domain.errors import InvalidInput, TenantRagError


def _copy(metadata: Mapping[str, Any]) -> dict[str, Any]:
    # A copy, so that the caller's later changes to its dict cannot reach a frozen value.
    return dict(metadata)


@attrs.frozen
class Segment:
    """A contiguous piece of a document's visible text, and where it sits.

    ``metadata`` holds what the format knows about the place: ``{"section": "Intro >
    Setup", "heading_level": 2}`` for Markdown and HTML, ``{"page": 3}`` for PDF. It
    takes no part in hashing (a dict cannot be hashed), only in equality.
    """

    text: str
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_copy, hash=False)


@attrs.frozen
class ParsedDocument:
    """What a parser read: the segments in document order, a title if the file names one.

    ``metadata`` describes the file as a whole (``{"encoding": "utf-8"}``,
    ``{"page_count": 12}``). ``declared`` is what the file says about itself, as JSON
    (Markdown front matter: ``{"title": "Plan", "year": 2024}``); ingestion merges it into
    the document's metadata, under the keys the caller gave. A document with no text has
    no segments; whether that is an error is for the caller to decide.
    """

    segments: tuple[Segment, ...]
    title: str | None = None
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_copy, hash=False)
    declared: dict[str, Any] = attrs.field(factory=dict, converter=_copy, hash=False)

    @property
    def text(self) -> str:
        """All the segments' text, separated by blank lines (paragraph breaks to a chunker)."""
        return "\n\n".join(segment.text for segment in self.segments)


class Parser(Protocol):
    def parse(self, data: bytes, media_type: str, filename: str) -> ParsedDocument:
        """Read ``data``; raise :class:`UnparseableDocument` if it cannot be read as ``media_type``.

        ``media_type`` may carry parameters (``text/plain; charset=iso-8859-1``);
        ``filename`` names the file in error messages and may stand in for an
        uninformative media type.
        """
        ...


class MediaTypeParser(Parser, Protocol):
    """A parser for several media types, which also says which one a file would be read as."""

    def resolve(self, media_type: str, filename: str) -> str:
        """The media type (without parameters) ``parse`` would read the file as."""
        ...

    def supported(self, media_type: str, filename: str) -> str:
        """:meth:`resolve`, or :class:`UnsupportedMediaType` when no parser reads that type:
        checked before an upload is stored, so an unreadable format costs nothing."""
        ...


class UnparseableDocument(InvalidInput):
    """An uploaded file could not be read: an unsupported media type, or bytes that are not what they claim.

    An :class:`InvalidInput` of the upload (``field == "file"``), so whatever handles bad
    input handles it too; the message names the file rather than the field, because a
    batch upload needs to say *which* file was bad.
    """

    code = "unparseable_document"

    def __init__(self, filename: str, problem: str) -> None:
        TenantRagError.__init__(
            self, f"{filename}: {problem}", details={"field": "file", "filename": filename}
        )
        self.field = "file"
        self.problem = problem
        self.filename = filename


class UnsupportedMediaType(UnparseableDocument):
    """No parser reads the file's media type (an image, an archive...): refused up front
    (HTTP 415), unlike bytes that fail to parse as a supported type."""

    code = "unsupported_media_type"
