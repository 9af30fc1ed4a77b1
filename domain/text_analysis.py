"""How text becomes index terms for full-text search on the backends without a search engine.

SQLite indexes chunks with FTS5's ``porter unicode61 remove_diacritics 2`` tokenizer; the
memory backend has to find exactly the rows SQLite finds, so this module is that tokenizer
in Python:

- **words** are maximal runs of letters, digits and private-use characters (Unicode
  categories L*, N*, Co) and combining marks; everything else separates them;
- **folding** lower-cases a word and removes its diacritics (``é`` -> ``e``);
- **stemming** is the Porter (1980) algorithm as FTS5 implements it: on the UTF-8 bytes,
  only for words of 3 to 64 bytes, ``y`` a vowel after a consonant.

PostgreSQL stems with its own text search configuration (Snowball ``english`` by default),
which agrees with Porter on ordinary inflections (cats/cat, running/run) and differs on
rarer ones; it keeps diacritics. ``STOP_WORDS`` is PostgreSQL's ``english`` list: its
configuration drops those words from documents and queries, so the other backends drop
them from queries too, and the three agree on what a query like "the cat" means.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

# PostgreSQL 18's share/tsearch_data/english.stop, in its order.
_STOP_LIST = """i me my myself we our ours ourselves you your yours yourself yourselves he him his
himself she her hers herself it its itself they them their theirs themselves what which who whom
this that these those am is are was were be been being have has had having do does did doing a an
the and but if or because as until while of at by for with about against between into through
during before after above below to from up down in out on off over under again further then once
here there when where why how all any both each few more most other some such no nor not only own
same so than too very s t can will just don should now"""
STOP_WORDS = frozenset(_STOP_LIST.split())

_MIN_STEMMED, _MAX_STEMMED = 3, 64  # bytes, as FTS5's porter tokenizer


def is_word_character(character: str) -> bool:
    category = unicodedata.category(character)
    return category[0] in "LN" or category in ("Co", "Mn")


def split_words(text: str) -> list[str]:
    """The words of ``text`` as written (not folded), in order."""
    words: list[str] = []
    start = -1
    for index, character in enumerate(text):
        if is_word_character(character):
            if start < 0:
                start = index
        elif start >= 0:
            words.append(text[start:index])
            start = -1
    if start >= 0:
        words.append(text[start:])
    return words


def fold(word: str) -> str:
    """Lower case, character by character, without the diacritics of Latin letters (as FTS5's
    ``remove_diacritics 2``; stray combining marks go too)."""
    return "".join(_fold_character(character) for character in word)


def _fold_character(character: str) -> str:
    lower = character.lower()
    if unicodedata.category(character) == "Mn":
        return ""
    if character.isascii() or not unicodedata.name(character, "").startswith("LATIN"):
        return lower
    return "".join(c for c in unicodedata.normalize("NFD", lower) if unicodedata.category(c) != "Mn")


def terms(text: str) -> list[str]:
    """The index terms of ``text``, one per word, in order (positions are indexes)."""
    return [stem(fold(word)) for word in split_words(text)]


def is_stop_word(word: str) -> bool:
    return fold(word) in STOP_WORDS


# --- the Porter stemmer, as sqlite/ext/fts5/fts5_tokenize.c -------------------------------


def stem(word: str) -> str:
    data = word.encode()
    if not _MIN_STEMMED <= len(data) <= _MAX_STEMMED:
        return word
    buffer = bytearray(data)
    _step_1a(buffer)
    if _step_1b(buffer) and not _apply(buffer, _STEP_1B2):
        last = buffer[-1]
        if not _is_vowel(last, False) and last not in b"lsz" and last == buffer[-2]:
            del buffer[-1]
        elif _m_eq_1(buffer) and _o_star(buffer):
            buffer.append(ord("e"))
    if buffer[-1] == ord("y") and _has_vowel(buffer[:-1]):  # step 1c
        buffer[-1] = ord("i")
    for rules in (_STEP_2, _STEP_3, _STEP_4):
        _apply(buffer, rules)
    if buffer[-1] == ord("e"):  # step 5a
        stem_ = buffer[:-1]
        if _m_gt_1(stem_) or (_m_eq_1(stem_) and not _o_star(stem_)):
            del buffer[-1]
    if len(buffer) > 1 and buffer[-1] == buffer[-2] == ord("l") and _m_gt_1(buffer[:-1]):  # step 5b
        del buffer[-1]
    return buffer.decode(errors="replace")


def _is_vowel(byte: int, y_is_vowel: bool) -> bool:
    return byte in b"aeiou" or (y_is_vowel and byte == ord("y"))


def _gobble_vc(word: bytes | bytearray, previous_consonant: bool) -> int:
    """Past one vowel run then one consonant: the length consumed, 0 if there is none."""
    consonant = previous_consonant
    index = 0
    while index < len(word):
        consonant = not _is_vowel(word[index], consonant)
        if not consonant:
            break
        index += 1
    index += 1
    while index < len(word):
        consonant = not _is_vowel(word[index], consonant)
        if consonant:
            return index + 1
        index += 1
    return 0


def _m_gt_0(word: bytes | bytearray) -> bool:
    return bool(_gobble_vc(word, False))


def _m_gt_1(word: bytes | bytearray) -> bool:
    n = _gobble_vc(word, False)
    return bool(n and _gobble_vc(word[n:], True))


def _m_eq_1(word: bytes | bytearray) -> bool:
    n = _gobble_vc(word, False)
    return bool(n and not _gobble_vc(word[n:], True))


def _o_star(word: bytes | bytearray) -> bool:
    if word[-1] in b"wxy":
        return False
    mask, consonant = 0, False
    for byte in word:
        consonant = not _is_vowel(byte, consonant)
        mask = (mask << 1) + consonant
    return (mask & 0x7) == 0x5


def _m_gt_1_and_s_or_t(word: bytes | bytearray) -> bool:
    return word[-1] in b"st" and _m_gt_1(word)


def _has_vowel(word: bytes | bytearray) -> bool:
    return any(_is_vowel(byte, index > 0) for index, byte in enumerate(word))


Rule = tuple[bytes, Callable[[bytearray], bool] | None, bytes]


def _apply(buffer: bytearray, rules: tuple[Rule, ...]) -> bool:
    """The first rule whose suffix ends the word (and is shorter than it) is the only one tried."""
    for suffix, condition, replacement in rules:
        if len(buffer) > len(suffix) and buffer.endswith(suffix):
            stem_ = buffer[: len(buffer) - len(suffix)]
            if condition is None or condition(stem_):
                buffer[len(stem_) :] = replacement
                return True
            return False
    return False


def _step_1a(buffer: bytearray) -> None:
    if buffer[-1] != ord("s"):
        return
    if buffer[-2] == ord("e"):
        sses = len(buffer) > 4 and buffer[-4:-2] == b"ss"
        ies = len(buffer) > 3 and buffer[-3] == ord("i")
        del buffer[-2 if sses or ies else -1 :]
    elif buffer[-2] != ord("s"):
        del buffer[-1]


def _step_1b(buffer: bytearray) -> bool:
    """True when "ed" or "ing" was removed (which the rest of step 1b then tidies)."""
    if len(buffer) > 3 and buffer.endswith(b"eed"):
        if _m_gt_0(buffer[:-3]):
            del buffer[-1]
        return False
    for suffix in (b"ed", b"ing"):
        if len(buffer) > len(suffix) and buffer.endswith(suffix):
            if _has_vowel(buffer[: -len(suffix)]):
                del buffer[-len(suffix) :]
                return True
            return False
    return False


_STEP_1B2: tuple[Rule, ...] = ((b"at", None, b"ate"), (b"bl", None, b"ble"), (b"iz", None, b"ize"))
_STEP_2: tuple[Rule, ...] = (
    (b"ational", _m_gt_0, b"ate"),
    (b"tional", _m_gt_0, b"tion"),
    (b"enci", _m_gt_0, b"ence"),
    (b"anci", _m_gt_0, b"ance"),
    (b"izer", _m_gt_0, b"ize"),
    (b"logi", _m_gt_0, b"log"),
    (b"bli", _m_gt_0, b"ble"),
    (b"alli", _m_gt_0, b"al"),
    (b"entli", _m_gt_0, b"ent"),
    (b"eli", _m_gt_0, b"e"),
    (b"ousli", _m_gt_0, b"ous"),
    (b"ization", _m_gt_0, b"ize"),
    (b"ation", _m_gt_0, b"ate"),
    (b"ator", _m_gt_0, b"ate"),
    (b"alism", _m_gt_0, b"al"),
    (b"iveness", _m_gt_0, b"ive"),
    (b"fulness", _m_gt_0, b"ful"),
    (b"ousness", _m_gt_0, b"ous"),
    (b"aliti", _m_gt_0, b"al"),
    (b"iviti", _m_gt_0, b"ive"),
    (b"biliti", _m_gt_0, b"ble"),
)
_STEP_3: tuple[Rule, ...] = (
    (b"ical", _m_gt_0, b"ic"),
    (b"ness", _m_gt_0, b""),
    (b"icate", _m_gt_0, b"ic"),
    (b"iciti", _m_gt_0, b"ic"),
    (b"ful", _m_gt_0, b""),
    (b"ative", _m_gt_0, b""),
    (b"alize", _m_gt_0, b"al"),
)
_STEP_4: tuple[Rule, ...] = (
    (b"al", _m_gt_1, b""),
    (b"ance", _m_gt_1, b""),
    (b"ence", _m_gt_1, b""),
    (b"er", _m_gt_1, b""),
    (b"ic", _m_gt_1, b""),
    (b"able", _m_gt_1, b""),
    (b"ible", _m_gt_1, b""),
    (b"ant", _m_gt_1, b""),
    (b"ement", _m_gt_1, b""),
    (b"ment", _m_gt_1, b""),
    (b"ent", _m_gt_1, b""),
    (b"ion", _m_gt_1_and_s_or_t, b""),
    (b"ou", _m_gt_1, b""),
    (b"ism", _m_gt_1, b""),
    (b"ate", _m_gt_1, b""),
    (b"iti", _m_gt_1, b""),
    (b"ous", _m_gt_1, b""),
    (b"ive", _m_gt_1, b""),
    (b"ize", _m_gt_1, b""),
)
