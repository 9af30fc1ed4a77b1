"""Parsers: uploaded bytes of a known media type to text segments with metadata.

:class:`ParserRegistry` is the :class:`~tenantrag.domain.ports.parser.Parser` to wire
into ingestion; the per-format parsers are exported for callers that know the format.
"""

from tenantrag.adapters.parsing.html import HtmlParser
from tenantrag.adapters.parsing.markdown import MarkdownParser
from tenantrag.adapters.parsing.outline import SECTION_SEPARATOR
from tenantrag.adapters.parsing.pdf import PdfParser
from tenantrag.adapters.parsing.plain_text import PlainTextParser
from tenantrag.adapters.parsing.registry import (
    HTML,
    MARKDOWN,
    OCTET_STREAM,
    PDF,
    PLAIN_TEXT,
    ParserRegistry,
    default_parsers,
    essence,
    media_type_for,
)

__all__ = [
    "HTML",
    "MARKDOWN",
    "OCTET_STREAM",
    "PDF",
    "PLAIN_TEXT",
    "SECTION_SEPARATOR",
    "HtmlParser",
    "MarkdownParser",
    "ParserRegistry",
    "PdfParser",
    "PlainTextParser",
    "default_parsers",
    "essence",
    "media_type_for",
]
