"""The peers of the quality benchmark, on the same text as tenantrag: BM25 (bm25s), exact
cosine (NumPy) over the same embedder, and their reciprocal-rank fusion.

Each ranks documents: a ranking is the collection's document ids, best first, at most
``depth`` of them, holding only documents the system actually found (bm25s scores every
document; those scoring 0, sharing no word with the query, are not hits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from tenantrag.domain.ports.embedder import Embedder

Ranking = list[str]
EMBED_BATCH = 256
RRF_K = 60
CHUNKS_PER_DOCUMENT = 3  # chunks retrieved per document wanted, when ranking documents by chunks


def bm25s_rankings(
    documents: Mapping[str, str], queries: Mapping[str, str], depth: int
) -> dict[str, Ranking]:
    """bm25s, Lucene's BM25 variant (k1 1.5, b 0.75), with the Snowball English stemmer
    (PyStemmer) and bm25s' English stop words: each query's best ``depth`` documents."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    ids = list(documents)
    corpus = bm25s.tokenize([documents[d] for d in ids], stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25(method="lucene")
    retriever.index(corpus, show_progress=False)
    vocabulary = corpus.vocab
    found: dict[str, Ranking] = {}
    k = min(depth, len(ids))
    for query, text in queries.items():
        tokens = bm25s.tokenize(
            [text], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
        )[0]
        known = [t for t in tokens if t in vocabulary]
        if not known:
            found[query] = []
            continue
        results, scores = retriever.retrieve([known], k=k, show_progress=False)
        found[query] = [ids[int(i)] for i, s in zip(results[0], scores[0], strict=True) if s > 0]
    return found


def bm25s_chunk_rankings(
    chunks: Sequence[tuple[str, str]], queries: Mapping[str, str], depth: int
) -> dict[str, Ranking]:
    """bm25s over chunks (``(document id, text)`` pairs), a document at its best chunk: BM25
    on the units tenantrag ranks, which tells chunking's cost from the ranking function's."""
    units = {str(i): text for i, (_, text) in enumerate(chunks)}
    owner = {str(i): document for i, (document, _) in enumerate(chunks)}
    found: dict[str, Ranking] = {}
    for query, ranked in bm25s_rankings(units, queries, CHUNKS_PER_DOCUMENT * depth).items():
        found[query] = list(dict.fromkeys(owner[unit] for unit in ranked))[:depth]
    return found


async def embed_chunks(
    embedder: Embedder, chunks: Sequence[tuple[str, str]]
) -> tuple[npt.NDArray[np.float32], list[str]]:
    """The unit vectors of the chunks' texts (``(document id, text)`` pairs), and each row's
    document id."""
    rows: list[tuple[float, ...]] = []
    for start in range(0, len(chunks), EMBED_BATCH):
        rows.extend(await embedder.embed_documents([text for _, text in chunks[start : start + EMBED_BATCH]]))
    return _unit(np.asarray(rows, dtype=np.float32)), [document for document, _ in chunks]


async def cosine_rankings(
    embedder: Embedder,
    chunks: Sequence[tuple[str, str]],
    queries: Mapping[str, str],
    depth: int,
) -> dict[str, Ranking]:
    """Exact cosine between each query's embedding and every chunk's; a document ranks at its
    best chunk."""
    matrix, owners = await embed_chunks(embedder, chunks)
    documents = list(dict.fromkeys(owners))
    column = {d: i for i, d in enumerate(documents)}
    owner_columns = np.asarray([column[d] for d in owners], dtype=np.int64)
    found: dict[str, Ranking] = {}
    for query, text in queries.items():
        vector = _unit(np.asarray([await embedder.embed_query(text)], dtype=np.float32))[0]
        scores = matrix @ vector
        best = np.full(len(documents), -np.inf, dtype=np.float32)
        np.maximum.at(best, owner_columns, scores)
        # Ties by document id, as tenantrag breaks them by its ids: stable and deterministic.
        order = np.lexsort((np.arange(len(documents)), -best))[:depth]
        found[query] = [documents[i] for i in order]
    return found


def _unit(matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)


def rrf(*rankings: Ranking, rrf_k: int = RRF_K, depth: int = 100) -> Ranking:
    """Reciprocal-rank fusion, equal weights: a document at 1-based rank ``r`` of a list
    scores ``1 / (rrf_k + r)`` from it, over the first ``depth`` of each list."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, document in enumerate(ranking[:depth], start=1):
            scores[document] = scores.get(document, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(scores, key=lambda d: (-scores[d], d))[:depth]


def fused_rankings(
    first: Mapping[str, Ranking], second: Mapping[str, Ranking], depth: int
) -> dict[str, Ranking]:
    return {q: rrf(first.get(q, []), second.get(q, []), depth=depth) for q in {*first, *second}}
