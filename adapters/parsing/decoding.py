"""Bytes to text for the text formats (plain text, Markdown, HTML): strict, never guessed.

The order is the one browsers use: a byte order mark wins, then an encoding the upload
declared (the media type's ``charset``, or a ``<meta charset>`` for HTML), then UTF-8.
Bytes that do not decode are refused with the offset of the first bad byte rather than
decoded as Latin-1 or with replacement characters: a wrong guess would index mojibake
that no query matches, silently, while an error tells the uploader what to fix.
"""

from __future__ import annotations

import codecs

from tenantrag.domain.ports.parser import UnparseableDocument

# UTF-32 first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def charset_parameter(media_type: str) -> str | None:
    """The ``charset`` parameter of a media type (``text/plain; charset="utf-8"``), if any."""
    for parameter in media_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').strip() or None
    return None


def decode(data: bytes, filename: str, declared: str | None = None) -> tuple[str, str]:
    """``(text, encoding)``: the text with ``\\n`` line ends, and the codec that read it.

    ``declared`` is the encoding the upload names, if any; a byte order mark overrides it.
    """
    encoding, body = _sniff(data, declared)
    try:
        text = body.decode(encoding)
    except LookupError:
        # Unknown names, and codecs that do not make text (``base64``) alike.
        raise UnparseableDocument(filename, f"unknown character encoding {encoding!r}") from None
    except UnicodeDecodeError as error:
        bad = body[error.start : error.start + 1].hex()
        raise UnparseableDocument(
            filename,
            f"not valid {encoding} text (byte 0x{bad} at offset {error.start + len(data) - len(body)}); "
            "save the file as UTF-8",
        ) from None
    if "\x00" in text:
        # Text files do not hold NUL characters (and PostgreSQL text cannot): this is
        # a binary file sent with a text media type.
        raise UnparseableDocument(filename, "contains NUL characters; is it a binary file?")
    return _unify_line_ends(text), encoding


def _sniff(data: bytes, declared: str | None) -> tuple[str, bytes]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, data[len(bom) :]
    if declared is None:
        return "utf-8", data
    try:
        # The canonical name, for the document's metadata: "latin-1" and "ISO-8859-1" alike.
        return codecs.lookup(declared).name, data
    except LookupError:
        return declared, data


def _unify_line_ends(text: str) -> str:
    # Markdown line numbers, the chunker's paragraph breaks and stored text all count on "\n" alone.
    return text.replace("\r\n", "\n").replace("\r", "\n")
