"""Choosing the parser for an upload, by its media type or, failing that, its file name.

Browsers and HTTP clients often send ``application/octet-stream`` (or nothing) for
files they do not recognise, Markdown above all; the extension is then the best
evidence of the format. A declared type is otherwise trusted: guessing past it would
hide a client's mistake instead of reporting it.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import PurePath

from tenantrag.adapters.parsing.html import HtmlParser
from tenantrag.adapters.parsing.markdown import MarkdownParser
from tenantrag.adapters.parsing.pdf import PdfParser
from tenantrag.adapters.parsing.plain_text import PlainTextParser
from tenantrag.domain.model.document import parse_media_type
from tenantrag.domain.ports.parser import ParsedDocument, Parser, UnsupportedMediaType

PLAIN_TEXT = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"
PDF = "application/pdf"
OCTET_STREAM = "application/octet-stream"

# Ours first: mimetypes reads the host's /etc/mime.types, and older tables lack Markdown.
_EXTENSIONS: Mapping[str, str] = {
    ".txt": PLAIN_TEXT,
    ".text": PLAIN_TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".html": HTML,
    ".htm": HTML,
    ".pdf": PDF,
}
# Other names in use for the same formats.
_ALIASES: Mapping[str, str] = {"text/x-markdown": MARKDOWN, "application/xhtml+xml": HTML}
# Types that say nothing about the format (S3 defaults to the binary/ one).
_GENERIC = frozenset({"", OCTET_STREAM, "binary/octet-stream"})


def media_type_for(filename: str) -> str:
    """The media type a file name suggests, ``application/octet-stream`` if none."""
    known = _EXTENSIONS.get(PurePath(filename).suffix.lower())
    if known is not None:
        return known
    guessed, _encoding = mimetypes.guess_type(filename, strict=False)
    return guessed or OCTET_STREAM


def essence(media_type: str) -> str:
    """The type without parameters, lower-cased: ``Text/Markdown; charset=utf-8`` is ``text/markdown``."""
    return media_type.partition(";")[0].strip().lower()


def default_parsers() -> dict[str, Parser]:
    """tenantrag's parsers, by the media type each reads."""
    return {
        PLAIN_TEXT: PlainTextParser(),
        MARKDOWN: MarkdownParser(),
        HTML: HtmlParser(),
        PDF: PdfParser(),
    }


class ParserRegistry:
    """A :class:`~tenantrag.domain.ports.parser.Parser` that hands each file to the parser for its type.

    ``parsers`` maps media types (without parameters) to parsers; by default
    :func:`default_parsers`. Parameters of the declared type, such as ``charset``,
    are passed on to the chosen parser.
    """

    def __init__(self, parsers: Mapping[str, Parser] | None = None) -> None:
        chosen = default_parsers() if parsers is None else parsers
        self._parsers = {essence(media_type): parser for media_type, parser in chosen.items()}

    @property
    def media_types(self) -> tuple[str, ...]:
        """The media types this registry reads, in registration order."""
        return tuple(self._parsers)

    def resolve(self, media_type: str, filename: str) -> str:
        """The media type ``parse`` would read the file as (supported or not), without parameters."""
        declared = essence(media_type)
        if declared in _GENERIC:
            declared = media_type_for(filename)
        return _ALIASES.get(declared, declared)

    def supported(self, media_type: str, filename: str) -> str:
        """The media type ``parse`` would read the file as; UnsupportedMediaType if none reads it
        (InvalidInput naming ``media_type`` if it is not a media type at all)."""
        checked = media_type if essence(media_type) in _GENERIC else parse_media_type(media_type)
        resolved = self.resolve(checked, filename)
        if resolved not in self._parsers:
            raise UnsupportedMediaType(filename, self._unsupported(media_type))
        return resolved

    def parse(self, data: bytes, media_type: str, filename: str) -> ParsedDocument:
        resolved = self.supported(media_type, filename)
        parser = self._parsers[resolved]
        parameters = media_type.partition(";")[2].strip()
        return parser.parse(data, f"{resolved}; {parameters}" if parameters else resolved, filename)

    def _unsupported(self, media_type: str) -> str:
        declared = essence(media_type)
        problem = (
            f"media type {declared or OCTET_STREAM} is not supported; "
            f"supported: {', '.join(self.media_types)}"
        )
        if declared in _GENERIC:
            extensions = sorted(ext for ext, type_ in _EXTENSIONS.items() if type_ in self._parsers)
            problem += (
                f" (a file sent without a specific type is read by its extension: {', '.join(extensions)})"
            )
        return problem
