"""A seeded synthetic corpus: clustered unit vectors, Zipf-sized tenants, short texts.

Vectors have the shape real text embeddings have: each of ``CLUSTERS`` topics is a
centre plus a random ``LATENT_DIMENSIONS``-dimensional subspace the points of the
topic vary in, plus a little noise in every dimension. Real embeddings have a low
intrinsic dimension (tens, not hundreds), which is what gives a query true nearest
neighbours, and what graph indexes rely on. (An earlier version drew points with
isotropic noise in all 384 dimensions: every point of a cluster was then about as far
from a query as every other, and even an HNSW graph of one tenant alone found 0.95 of
the top 10 only at ``ef_search`` 800. With this model, pgvector's HNSW finds about 0.95
at ``ef_search`` 40 and 0.99 at 100, in line with its published results on real
embeddings.) Queries are new draws from the tenant's own topics: a question about what
the tenant stores.

Four tenants are fixed at about 0.1%, 1%, 10% and 40% of the rows (the size classes
the results are reported by), never fewer than ``MIN_CLASS_ROWS`` rows so that top-10
means something at smoke scale; the remaining rows are spread over ``ZIPF_TENANTS``
tenants with Zipf-skewed sizes. Texts are a few words from a controlled vocabulary, so
full-text queries of known selectivity can be written against them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import attrs
import numpy as np
import numpy.typing as npt

SIZE_CLASSES: dict[str, float] = {"0.1%": 0.001, "1%": 0.01, "10%": 0.10, "40%": 0.40}
MIN_CLASS_ROWS = 20
ZIPF_TENANTS = 20
ZIPF_EXPONENT = 1.1
CLUSTERS = 64
LATENT_DIMENSIONS = 32
CLUSTER_SPREAD = 0.6  # norm of a point's offset from its centre, within the topic's subspace
ISOTROPIC_NOISE = 0.3  # norm of the noise added in every dimension
TOPICS_PER_TENANT = 4
WORDS_PER_TEXT = 8
# A small vocabulary: common words (in many rows) and rare ones (in few).
COMMON_WORDS = ("cat", "dog", "house", "river", "engine", "garden", "market", "letter")
RARE_WORDS = tuple(f"rare{index:03d}" for index in range(200))

Matrix = npt.NDArray[np.float32]


@attrs.frozen
class Corpus:
    """``rows`` rows; row ``i`` has ``ids[i]``, ``tenant_of[i]`` (an index into ``tenants``),
    ``vectors[i]`` (unit, float32) and ``texts[i]``."""

    dimension: int
    ids: list[uuid.UUID]
    tenants: list[uuid.UUID]
    tenant_of: npt.NDArray[np.int64]
    vectors: Matrix
    texts: list[str]
    # Size class name -> index of its tenant.
    classes: dict[str, int]
    centres: Matrix
    # Per topic, the basis of the subspace its points vary in (LATENT_DIMENSIONS x dimension).
    bases: npt.NDArray[np.float64]
    # Per tenant, the topics its rows are drawn from.
    tenant_topics: npt.NDArray[np.int64]

    @property
    def rows(self) -> int:
        return len(self.ids)

    def rows_of(self, tenant: int) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self.tenant_of == tenant)

    def tenant_sizes(self) -> list[int]:
        return [int(x) for x in np.bincount(self.tenant_of, minlength=len(self.tenants))]


def tenant_sizes(scale: int) -> list[int]:
    """The size of every tenant: the four class tenants first, then the Zipf-sized rest."""
    fixed = [max(MIN_CLASS_ROWS, round(scale * fraction)) for fraction in SIZE_CLASSES.values()]
    rest = max(scale - sum(fixed), ZIPF_TENANTS)
    weights = 1.0 / np.arange(1, ZIPF_TENANTS + 1) ** ZIPF_EXPONENT
    zipf = np.maximum(1, np.floor(rest * weights / weights.sum())).astype(int)
    zipf[0] += rest - int(zipf.sum())
    return fixed + [int(x) for x in zipf]


def unit(matrix: npt.NDArray[np.float64]) -> Matrix:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    normalized: Matrix = (matrix / norms).astype(np.float32)
    return normalized


def generate(scale: int, dimension: int, seed: int) -> Corpus:
    rng = np.random.default_rng([seed, dimension])
    sizes = tenant_sizes(scale)
    tenant_of = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(tenant_of)
    rows = len(tenant_of)
    centres = unit(rng.standard_normal((CLUSTERS, dimension)))
    bases = rng.standard_normal((CLUSTERS, LATENT_DIMENSIONS, dimension)) / np.sqrt(dimension)
    # Each tenant draws from a few topics of its own, as documents of one customer would.
    tenant_topics = rng.integers(0, CLUSTERS, size=(len(sizes), TOPICS_PER_TENANT))
    picks = tenant_topics[tenant_of, rng.integers(0, TOPICS_PER_TENANT, size=rows)]
    vectors = _draw(centres, bases, picks, rng)
    ids = [
        uuid.UUID(bytes=bytes(b), version=4) for b in rng.integers(0, 256, size=(rows, 16), dtype=np.uint8)
    ]
    tenants = [
        uuid.UUID(bytes=bytes(b), version=4)
        for b in rng.integers(0, 256, size=(len(sizes), 16), dtype=np.uint8)
    ]
    common = rng.integers(0, len(COMMON_WORDS), size=(rows, WORDS_PER_TEXT - 1))
    rare = rng.integers(0, len(RARE_WORDS), size=rows)
    texts = [" ".join([*(COMMON_WORDS[w] for w in common[i]), RARE_WORDS[rare[i]]]) for i in range(rows)]
    classes = {name: index for index, name in enumerate(SIZE_CLASSES)}
    return Corpus(dimension, ids, tenants, tenant_of, vectors, texts, classes, centres, bases, tenant_topics)


def _draw(
    centres: Matrix, bases: npt.NDArray[np.float64], topics: npt.NDArray[np.int64], rng: np.random.Generator
) -> Matrix:
    """One unit vector per entry of ``topics``: the topic's centre, an offset in its
    subspace, and a little noise in every dimension."""
    dimension = centres.shape[1]
    out = np.empty((len(topics), dimension), dtype=np.float32)
    scale = CLUSTER_SPREAD / np.sqrt(LATENT_DIMENSIONS)
    for topic in np.unique(topics):
        rows = np.flatnonzero(topics == topic)
        latent = rng.standard_normal((len(rows), LATENT_DIMENSIONS)) * scale
        noise = rng.standard_normal((len(rows), dimension)) * (ISOTROPIC_NOISE / np.sqrt(dimension))
        out[rows] = unit(centres[topic].astype(np.float64) + latent @ bases[topic] + noise)
    return out


def queries(corpus: Corpus, tenant: int, count: int, rng: np.random.Generator) -> Matrix:
    """Queries about the tenant's data: new draws from the tenant's own topics."""
    topics = corpus.tenant_topics[tenant, rng.integers(0, TOPICS_PER_TENANT, size=count)]
    return _draw(corpus.centres, corpus.bases, topics, rng)


def exact_top_k(corpus: Corpus, tenant: int, vectors: Matrix, k: int) -> list[list[uuid.UUID]]:
    """The reference: cosine top-k over the tenant's rows, in float64."""
    own = corpus.rows_of(tenant)
    scores = vectors.astype(np.float64) @ corpus.vectors[own].astype(np.float64).T
    found: list[list[uuid.UUID]] = []
    for row in scores:
        order = np.argsort(-row, kind="stable")[:k]
        found.append([corpus.ids[own[i]] for i in order])
    return found


def batches(items: Sequence[int], size: int) -> list[Sequence[int]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
