"""Plain text: the whole file as one segment, decoded strictly (see :mod:`.decoding`).

Plain text has no structure to record, so there is a single segment; the chunker finds
the paragraph breaks.
"""

from __future__ import annotations

from tenantrag.adapters.parsing.decoding import charset_parameter, decode
from tenantrag.domain.ports.parser import ParsedDocument, Segment


class PlainTextParser:
    """A :class:`~tenantrag.domain.ports.parser.Parser` for ``text/plain``."""

    def parse(self, data: bytes, media_type: str, filename: str) -> ParsedDocument:
        text, encoding = decode(data, filename, charset_parameter(media_type))
        body = strip_blank_lines(text)
        segments = (Segment(body),) if body else ()
        return ParsedDocument(segments, title=None, metadata={"encoding": encoding})


def strip_blank_lines(text: str) -> str:
    """``text`` without blank lines at either end or trailing whitespace.

    Leading spaces of the first line stay: in Markdown they can make an indented code block.
    """
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    return "\n".join(lines[first:]).rstrip()
