"""The state machine's inputs: emails, names, texts, queries... mostly valid, sometimes not."""

from __future__ import annotations

from typing import TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle

from tenantrag.domain.policy import Role
from tests.contract.state_views import FOUNDER, Actor, Founder

T = TypeVar("T")


def mostly(valid: st.SearchStrategy[T], invalid: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """``valid`` seven times in eight, else ``invalid`` (shrinking leans towards valid)."""
    return st.integers(min_value=0, max_value=7).flatmap(lambda n: invalid if n == 7 else valid)


EMAILS = st.sampled_from(
    [f"{name}@example.com" for name in ("ada", "ADA", "bob", "cy", "dee", "eve", "fay")] + ["not-an-email"]
)
TENANT_NAMES = mostly(st.sampled_from(["Acme", "acme", "Globex", "Initech", "Umbrella Corp"]), st.just("!!!"))
ROLES: st.SearchStrategy[Role | str] = mostly(st.sampled_from([*Role]), st.just("superadmin"))
ROLE_CAPS = st.sampled_from([*Role])
FILENAMES = mostly(st.sampled_from(["a.md", "b.txt", "notes.md"]), st.just(" "))
TAG_WORDS = ["red", "green", "blue"]
TAGS = mostly(st.lists(st.sampled_from(TAG_WORDS), max_size=3), st.just(["red", " "]))
VOCABULARY = ["cat", "cats", "dog", "purr", "bark", "fish", "swim", "tree", "green", "small", "the", "a"]
WORDS = st.sampled_from(VOCABULARY)
SENTENCES = st.lists(WORDS, min_size=1, max_size=8).map(lambda ws: " ".join(ws).capitalize() + ".")
# A few fixed texts besides random ones, so that re-ingesting often sends the same content
# again (no new version) and documents share chunks (search ties).
KNOWN_TEXTS = ["The cat purrs.", "A small dog barks. The dog swims.", "Fish swim.\n\nCats purr."]
TEXTS = mostly(
    st.sampled_from(KNOWN_TEXTS)
    | st.lists(SENTENCES, min_size=1, max_size=6).map(" ".join)
    | st.lists(SENTENCES, min_size=2, max_size=4).map("\n\n".join),
    st.sampled_from(["", "   "]),
)
QUERIES = mostly(st.lists(WORDS, min_size=1, max_size=4).map(" ".join) | st.just("zebra"), st.just(" "))
KS = mostly(st.integers(min_value=1, max_value=6), st.just(0))
# A filter on tags, a quarter of the time: ("$any" or "$all", tags).
TagFilter = tuple[str, list[str]] | None
TAG_FILTERS: st.SearchStrategy[TagFilter] = st.integers(min_value=0, max_value=3).flatmap(
    lambda n: (
        st.tuples(
            st.sampled_from(["$any", "$all"]), st.lists(st.sampled_from(TAG_WORDS), min_size=1, max_size=2)
        )
        if n == 3
        else st.none()
    )
)
KEY_NAMES = mostly(st.sampled_from(["ci", "laptop"]), st.just(""))
EXPIRIES = mostly(st.none() | st.integers(min_value=1, max_value=120), st.just(-1))

ACTORS: Bundle[Actor] = Bundle("actors")
# Who acts on a tenant: half the time its founder, so that permitted paths are walked
# as often as refused ones; else anyone (a user, an API key or the system).
ACTING: st.SearchStrategy[Actor | Founder] = st.one_of(st.just(FOUNDER), ACTORS)
