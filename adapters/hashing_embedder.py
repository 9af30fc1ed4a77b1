"""An offline embedder by feature hashing: lexical overlap, not meaning.

Two texts score close when they share words and word pairs; synonyms,
paraphrases and other languages score as unrelated. That is enough for tests,
demos and keyword-like retrieval without a model download, and it is the same
on every machine and in every process, so stored vectors stay comparable.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.embedding_model import MAX_DIMENSION

_TOKEN = re.compile(r"\w+")
# Hashed when a text has no words, so that every output is still a unit vector.
_EMPTY_FEATURE = "\x00empty"
# Separates this scheme's hashes from any other use of BLAKE2b; change it only
# together with the embedder's name, since stored vectors depend on it.
_PERSON = b"tenantrag.fh.v1"
# A batch this small (in characters) is embedded in place, in well under a millisecond;
# a larger one in a worker thread, so the event loop keeps serving meanwhile.
_INLINE_CHARACTERS = 16_000


class HashingEmbedder:
    """An :class:`~tenantrag.domain.ports.embedder.Embedder` by signed feature hashing.

    Features are the NFKC-normalised, case-folded words of a text and its pairs of
    adjacent words, weighted ``1 + log(count)`` so repetition helps less and less.
    Each is hashed with BLAKE2b, never ``hash()``, whose per-process salt would make
    vectors differ between runs, to a bucket and a sign; the signs make collisions
    cancel out on average rather than pile up. Outputs have unit L2 norm, so the
    dot product is the cosine.
    """

    def __init__(self, dimension: int = 384) -> None:
        if isinstance(dimension, bool) or not isinstance(dimension, int):
            raise InvalidInput("dimension", f"must be an integer, not {type(dimension).__name__}")
        if not 1 <= dimension <= MAX_DIMENSION:
            raise InvalidInput("dimension", f"must be between 1 and {MAX_DIMENSION} (got {dimension})")
        self._dimension = dimension

    def __repr__(self) -> str:
        return f"HashingEmbedder(dimension={self._dimension})"

    @property
    def name(self) -> str:
        return f"hashing-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        if sum(len(text) for text in texts) <= _INLINE_CHARACTERS:
            return [self.embed(text) for text in texts]
        return await asyncio.to_thread(lambda: [self.embed(text) for text in texts])

    async def embed_query(self, text: str) -> tuple[float, ...]:
        return self.embed(text)

    def embed(self, text: str) -> tuple[float, ...]:
        """The vector of one text; synchronous, for callers outside an event loop."""
        vector = [0.0] * self._dimension
        for feature, count in _features(text).items():
            bucket, sign = _slot(feature, self._dimension)
            vector[bucket] += sign * (1.0 + math.log(count))
        norm = math.sqrt(math.fsum(x * x for x in vector))
        if norm == 0.0:
            # No words, or features that cancelled each other out in shared buckets.
            bucket, sign = _slot(_EMPTY_FEATURE, self._dimension)
            vector = [0.0] * self._dimension
            vector[bucket] = sign
            return tuple(vector)
        return tuple(x / norm for x in vector)


def _features(text: str) -> Counter[str]:
    tokens = _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())
    features = Counter(tokens)
    # A space cannot occur inside a \w+ token, so a pair never collides with a word.
    features.update(f"{a} {b}" for a, b in itertools.pairwise(tokens))
    return features


@lru_cache(maxsize=1 << 16)
def _slot(feature: str, dimension: int) -> tuple[int, float]:
    # "surrogatepass": a lone surrogate from a badly decoded file must not make embedding fail.
    digest = hashlib.blake2b(feature.encode("utf-8", "surrogatepass"), digest_size=8, person=_PERSON)
    value = int.from_bytes(digest.digest(), "big")
    # The top bit picks the sign, the other 63 the bucket: independent, and the
    # modulo bias over 2**63 is negligible.
    bucket = (value & ((1 << 63) - 1)) % dimension
    return bucket, -1.0 if value >> 63 else 1.0
