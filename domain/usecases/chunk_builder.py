"""From a parsed document to its chunks, embedding only what is new.

Each segment (a section, a page) is chunked on its own, so no chunk straddles two
and each carries its segment's metadata (``section``, ``page``...) over the document's.
A chunk whose text (by SHA-256) is already among the document's current chunks keeps
that chunk's id and embedding: re-ingesting an edited document embeds only the
edited parts, and ids of unchanged chunks stay stable for caches and query logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import attrs

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.chunk import Chunk, check_dimension
from tenantrag.domain.model.document import Document, sha256_hex
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.ports.chunker import Chunker
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.domain.ports.parser import ParsedDocument

# Text this short is chunked in place (well under a millisecond).
_INLINE_CHARACTERS = 16_000


@attrs.frozen
class _Piece:
    text: str
    metadata: dict[str, object]


@attrs.frozen
class BuiltChunks:
    chunks: list[Chunk]
    reused: int


def pieces(parsed: ParsedDocument, chunker: Chunker) -> list[_Piece]:
    found = []
    for number, segment in enumerate(parsed.segments):
        for span in chunker.split(segment.text):
            # Without the whitespace the chunker cut at: a chunk's identity is its words.
            text = span.text.strip()
            if not text:
                continue
            start = span.start + len(span.text) - len(span.text.lstrip())
            where = {"segment": number, "char_start": start, "char_end": start + len(text)}
            found.append(_Piece(text, {**segment.metadata, **where}))
    return found


async def build_chunks(
    document: Document,
    parsed: ParsedDocument,
    *,
    chunker: Chunker,
    embedder: Embedder,
    current: Sequence[Chunk],
    dimension: int,
    now: datetime,
) -> BuiltChunks:
    """The chunks of ``parsed`` for ``document``, reusing ``current`` chunks' embeddings by content."""
    # A long document is chunked in a worker thread: the event loop keeps serving meanwhile.
    if sum(len(segment.text) for segment in parsed.segments) > _INLINE_CHARACTERS:
        found = await asyncio.to_thread(pieces, parsed, chunker)
    else:
        found = pieces(parsed, chunker)
    known: dict[str, Chunk] = {}
    for chunk in current:
        known.setdefault(chunk.content_sha256, chunk)
    hashes = [sha256_hex(piece.text) for piece in found]
    # One embedding per new distinct text, however often it repeats.
    missing = list(dict.fromkeys(h for h in hashes if h not in known))
    texts = {h: piece.text for h, piece in zip(hashes, found, strict=True)}
    vectors = await embedder.embed_documents([texts[h] for h in missing]) if missing else []
    if len(vectors) != len(missing):
        raise InvalidInput("embedder", f"returned {len(vectors)} vectors for {len(missing)} texts")
    embedded = dict(zip(missing, vectors, strict=True))
    chunks: list[Chunk] = []
    used: set[str] = set()
    reused = 0
    for ordinal, (piece, digest) in enumerate(zip(found, hashes, strict=True)):
        previous = known.get(digest)
        metadata = {**document.metadata, **piece.metadata}
        if previous is not None and digest not in used:
            # The same text again: keep its id and embedding (a repeat gets a new id).
            used.add(digest)
            reused += 1
            chunks.append(attrs.evolve(previous, ordinal=ordinal, metadata=metadata))
            continue
        vector = previous.embedding if previous is not None else embedded[digest]
        if previous is not None:
            reused += 1
        check_dimension(tuple(vector), dimension)
        chunks.append(
            Chunk(
                id=new_id(),
                tenant_id=document.tenant_id,
                document_id=document.id,
                ordinal=ordinal,
                content=piece.text,
                content_sha256=digest,
                embedding=vector,
                token_count=len(piece.text.split()),
                metadata=metadata,
                created_at=now,
            )
        )
    return BuiltChunks(chunks, reused)
