"""Turn paragraphs into numbers, for whole batches at once with numpy.

Two kinds of features, both computed over one code-point array of the entire batch so that the
cost is a few numpy passes rather than a Python loop per n-gram:

- *text*: hashed character n-grams (the model says which orders; 3-4 by default) and word
  1-2-grams of the lower-cased text, each kind scaled to unit norm (words in any script);
- *shape*: length, case, digits, punctuation, list markers, URLs, terminal punctuation.

Context (neighbours, position, repeats, shared words) is added later from stage-one scores: see
`context`, which also receives each paragraph's word buckets from here.
Character tables (class and lower-case of each BMP code point) are data of the model, so a
model gives the same answers whatever Unicode version the running Python has.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Character classes of the table.
SPACE, LOWER, UPPER, LETTER, HAN, MARK, DIGIT, PUNCT, SYMBOL, OTHER, PAD_CLASS = range(11)
_WORDY = np.zeros(256, dtype=bool)
_WORDY[[LOWER, UPPER, LETTER, MARK, DIGIT, HAN]] = True
_CATEGORY_CLASS = {
    "Ll": LOWER, "Lu": UPPER, "Lt": UPPER, "Lo": LETTER, "Lm": LETTER,
    "Mn": MARK, "Mc": MARK, "Me": MARK, "Nd": DIGIT, "Nl": DIGIT, "No": DIGIT,
    "Zs": SPACE, "Zl": SPACE, "Zp": SPACE,
    "Pc": PUNCT, "Pd": PUNCT, "Ps": PUNCT, "Pe": PUNCT, "Pi": PUNCT, "Pf": PUNCT, "Po": PUNCT,
    "Sm": SYMBOL, "Sc": SYMBOL, "Sk": SYMBOL, "So": SYMBOL,
}
# Scripts written without spaces: each character is a word of its own.
_HAN_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_TERMINAL = ".!?。！？…؟।"
_BULLETS = "-–—•·*▪►>»‣◦"

SHAPE_NAMES = (
    "log_chars", "log_words", "upper_share", "digit_share", "punct_share", "symbol_share",
    "han_share", "title_share", "starts_upper", "starts_lower", "starts_digit", "starts_bullet",
    "starts_punct", "ends_terminal", "ends_colon", "ends_other_punct", "ends_word",
    "has_pipe", "has_at", "has_url", "has_currency", "has_copyright", "one_word", "short",
)


def build_char_tables() -> tuple[np.ndarray, np.ndarray]:
    """Class and folded form of every BMP code point, from this Python's Unicode data.

    Folding lower-cases, maps every digit to "0" and every space to " ", so that n-grams see
    "page 12" and "Page 47" alike. Code point 0 is the pad between paragraphs; U+FFFF stands
    for every code point beyond the BMP (mostly emoji), a symbol.
    """
    classes = np.full(0x10000, OTHER, dtype=np.uint8)
    fold = np.arange(0x10000, dtype=np.uint32)
    for cp in range(0x10000):
        char = chr(cp)
        classes[cp] = _CATEGORY_CLASS.get(unicodedata.category(char), OTHER)
        low = char.lower()
        if len(low) == 1:
            fold[cp] = ord(low)
    for first, last in _HAN_RANGES:
        classes[first : last + 1][classes[first : last + 1] == LETTER] = HAN
    classes[[9, 10, 11, 12, 13]] = SPACE
    fold[classes == DIGIT] = ord("0")
    fold[classes == SPACE] = ord(" ")
    classes[0], fold[0] = PAD_CLASS, 0
    classes[0xFFFF] = SYMBOL
    return classes, fold


def pack_weights(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Two weight columns as float32 pairs packed into one uint64 per bucket: one look-up fetches both."""
    return np.ascontiguousarray(np.column_stack([first, second]).astype(np.float32)).view(np.uint64).ravel()


@dataclass(frozen=True)
class Hashed:
    """Sparse text features: value `vals[k]` at (`rows[k]`, `cols[k]`); duplicates add up."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    n_rows: int


@dataclass(frozen=True)
class Words:
    """Each word of a batch as (paragraph, bucket): what context needs to tell which words recur."""

    rows: np.ndarray
    ids: np.ndarray

    def shifted(self, offset: int) -> Words:
        """The same words for a batch that starts `offset` paragraphs later."""
        return Words(self.rows + offset, self.ids)


@dataclass(frozen=True)
class _Batch:
    """A batch laid out as one array: each paragraph is `PAD` then its text, then a final `PAD`.

    With `PAD` as long as the longest n-gram minus one, no n-gram spans two paragraphs, so
    every position starts a valid n-gram of the paragraph that owns it: no masks, only slices.
    """

    cp: np.ndarray  # folded code points (see `build_char_tables`), pads as 0
    raw: np.ndarray  # original code points
    cls: np.ndarray  # character class of each position (pads are PAD_CLASS)
    owner: np.ndarray  # paragraph of each position (pads belong to the paragraph after them)
    block_starts: np.ndarray  # first position of each paragraph's block (its pad)
    lengths: np.ndarray  # characters of each paragraph
    n: int


_PAD_LEN = 3
_N_CLASSES = PAD_CLASS + 1
# Characters whose mere presence is a shape feature.
_NO_FLAG, _PIPE, _AT, _CURRENCY, _COPYRIGHT = range(5)
_N_FLAGS = 5
_FLAG_TABLE = np.zeros(0x10000, dtype=np.int64)
_FLAG_TABLE[ord("|")] = _PIPE
_FLAG_TABLE[ord("@")] = _AT
_FLAG_TABLE[[ord(x) for x in "$€£¥₽₹₩₴₺"]] = _CURRENCY
_FLAG_TABLE[0xA9] = _COPYRIGHT  # © only: ® and ™ mark product names in body text as often as in footers
# Characters a paragraph may start with as a list marker, or end with as a sentence's end.
_IS_BULLET = np.zeros(0x10000, dtype=bool)
_IS_BULLET[[ord(x) for x in _BULLETS]] = True
_IS_TERMINAL = np.zeros(0x10000, dtype=bool)
_IS_TERMINAL[[ord(x) for x in _TERMINAL]] = True
_MAX_WORD_POWER = 31  # characters past this in a word share one power: long tokens still hash
_P32 = np.uint32(0x01000193)  # FNV prime
_GOLDEN = np.uint32(0x9E3779B1)


def _char_scale(b: _Batch, orders: int) -> np.ndarray:
    """1 / sqrt(character n-grams) per paragraph (every position of its block, per order), and 0
    for the final pad's row: each kind of feature gets unit norm."""
    return np.append(1.0 / np.sqrt((b.lengths + _PAD_LEN) * orders), 0.0).astype(np.float32)


def _count_scale(rows: np.ndarray, n: int) -> np.ndarray:
    """1 / sqrt(features) per paragraph, for features listed by their paragraph `rows`."""
    counts = np.bincount(rows, minlength=n + 1)[:n]
    return np.append(1.0 / np.sqrt(np.maximum(counts, 1)), 0.0).astype(np.float32)


class Featurizer:
    """Computes text and shape features for a batch of paragraphs."""

    def __init__(self, bits: int, char_orders: Sequence[int], classes: np.ndarray, lower: np.ndarray):
        if max(char_orders) > _PAD_LEN + 1:
            raise ValueError(f"character n-grams longer than {_PAD_LEN + 1} need a longer pad")
        self.bits = bits
        self.char_orders = tuple(char_orders)
        self.classes = classes
        self.lower = lower

    def _bucket(self, h: np.ndarray, salt: int) -> np.ndarray:
        """Fibonacci hashing of 32-bit hashes into `bits` bits."""
        return ((h ^ np.uint32(salt)) * _GOLDEN) >> np.uint32(32 - self.bits)

    def _batch(self, texts: Sequence[str]) -> _Batch:
        texts = list(map(str.strip, texts))
        pad = "\x00" * _PAD_LEN
        joined = pad + pad.join(texts) + pad if texts else pad
        raw = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        block_starts = np.cumsum(lengths + _PAD_LEN) - (lengths + _PAD_LEN)
        owner = np.repeat(np.arange(len(texts) + 1), np.append(lengths + _PAD_LEN, _PAD_LEN))
        small = np.minimum(raw, 0xFFFF)
        return _Batch(self.lower[small], raw, self.classes[small], owner, block_starts, lengths, len(texts))

    def _char_hashes(self, b: _Batch) -> list[np.ndarray]:
        """Bucket of every character n-gram, one array per order, each aligned with `b.owner`."""
        usable = len(b.cp) - _PAD_LEN  # n-grams may not start in the final pad
        out = []
        h = b.cp
        for order in range(2, max(self.char_orders) + 1):
            h = h[:-1] * _P32 + b.cp[order - 1 :]
            if order in self.char_orders:
                out.append(self._bucket(h[:usable], 0x51 + order))
        return out

    def _word_hashes(self, b: _Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Word and word-bigram buckets with their paragraphs, and each word's first class."""
        cls = b.cls
        is_word = _WORDY[cls]
        han = cls == HAN
        starts_word = is_word.copy()
        starts_word[1:] &= ~is_word[:-1] | han[1:] | han[:-1]
        positions = np.flatnonzero(is_word)
        if len(positions) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.astype(np.uint32), empty, empty.astype(np.uint32), empty.astype(np.uint8)
        first = starts_word[positions]
        word_starts = np.flatnonzero(first)  # where each word starts, as an index into positions
        offset = np.arange(len(positions)) - word_starts[np.cumsum(first) - 1]
        powers = np.cumprod(np.full(_MAX_WORD_POWER + 1, _P32, dtype=np.uint32)) * np.uint32(0x2545F491)
        word_hash = np.add.reduceat(b.cp[positions] * powers[np.minimum(offset, _MAX_WORD_POWER)], word_starts, dtype=np.uint32)
        start_positions = positions[word_starts]
        word_para = b.owner[start_positions]
        same = word_para[1:] == word_para[:-1]
        bigram_hash = word_hash[:-1][same] * _P32 + word_hash[1:][same]
        return (
            word_para, self._bucket(word_hash, 0x77),
            word_para[:-1][same], self._bucket(bigram_hash, 0x99),
            cls[start_positions],
        )

    def transform(self, texts: Sequence[str]) -> tuple[Hashed, np.ndarray, Words]:
        """Hashed text features (for training), the (n, len(SHAPE_NAMES)) shape matrix, the words."""
        b = self._batch(texts)
        n = b.n
        char_buckets = self._char_hashes(b)
        char_rows = b.owner[: len(char_buckets[0])]
        word_rows, word_cols, bigram_rows, bigram_cols, first_cls = self._word_hashes(b)
        char_scale = _char_scale(b, len(char_buckets))
        kinds = [(char_rows, buckets, char_scale) for buckets in char_buckets] + [
            (word_rows, word_cols, _count_scale(word_rows, n)),
            (bigram_rows, bigram_cols, _count_scale(bigram_rows, n)),
        ]
        rows, cols, vals = [], [], []
        for kind_rows, kind_cols, scale in kinds:
            rows.append(kind_rows)
            cols.append(kind_cols.astype(np.int64))
            vals.append(scale[kind_rows])
        hashed = Hashed(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals).astype(np.float32), n)
        return hashed, self._shape(b, word_rows, first_cls), Words(word_rows, word_cols.astype(np.int64))

    def linear_scores(self, texts: Sequence[str], table: np.ndarray) -> tuple[np.ndarray, np.ndarray, Words]:
        """Weights summed over each paragraph's scaled n-grams, the shape matrix and the words.

        The same numbers as `transform` followed by a sparse product, without building it.
        `table` holds two float32 weights per bucket packed in one uint64 (see `pack_weights`).
        """
        b = self._batch(texts)
        n = b.n
        char_buckets = self._char_hashes(b)
        total = table[char_buckets[0]].view(np.float32).reshape(-1, 2)
        for buckets in char_buckets[1:]:
            total = total + table[buckets].view(np.float32).reshape(-1, 2)
        scores = np.add.reduceat(total, b.block_starts, axis=0).astype(np.float64) if n else np.zeros((0, 2))
        scores *= _char_scale(b, len(char_buckets))[:n, None]
        word_rows, word_cols, bigram_rows, bigram_cols, first_cls = self._word_hashes(b)
        for rows, cols in ((word_rows, word_cols), (bigram_rows, bigram_cols)):
            weights = table[cols].view(np.float32).reshape(-1, 2).astype(np.float64)
            scale = _count_scale(rows, n)[:n]
            for k in range(2):
                scores[:, k] += np.bincount(rows, weights=weights[:, k], minlength=n + 1)[:n] * scale
        return scores, self._shape(b, word_rows, first_cls), Words(word_rows, word_cols.astype(np.int64))

    def _shape(self, b: _Batch, word_rows: np.ndarray, first_cls: np.ndarray) -> np.ndarray:
        n = b.n
        # One histogram of (paragraph, class, flag) instead of a pass per count; pads are left
        # out by giving them the row n, which the slicing drops.
        small = np.minimum(b.raw, 0xFFFF)
        key = (b.owner * _N_CLASSES + b.cls) * _N_FLAGS + _FLAG_TABLE[small]
        hist = np.bincount(key, minlength=(n + 1) * _N_CLASSES * _N_FLAGS)
        hist = hist[: n * _N_CLASSES * _N_FLAGS].reshape(n, _N_CLASSES, _N_FLAGS).astype(np.float64)
        by_class = hist.sum(axis=2)
        by_flag = hist.sum(axis=1)

        chars = by_class.sum(axis=1) - by_class[:, SPACE] - by_class[:, PAD_CLASS]
        letters = by_class[:, UPPER] + by_class[:, LOWER]
        safe = np.maximum(chars, 1.0)
        n_words = np.bincount(word_rows, minlength=n + 1)[:n].astype(np.float64)
        title = np.bincount(word_rows, weights=first_cls == UPPER, minlength=n + 1)[:n]
        has_text = b.lengths > 0
        first = np.where(has_text, b.block_starts + _PAD_LEN, 0)
        last = np.where(has_text, b.block_starts + _PAD_LEN + b.lengths - 1, 0)
        first_cls, last_cls = b.cls[first], b.cls[last]
        first_cp, last_cp = b.raw[first], b.raw[last]
        bullet, terminal = _IS_BULLET[np.minimum(first_cp, 0xFFFF)], _IS_TERMINAL[np.minimum(last_cp, 0xFFFF)]
        r = b.raw
        url = (r[:-2] == ord(":")) & (r[1:-1] == ord("/")) & (r[2:] == ord("/"))
        url_count = np.bincount(b.owner[:-2][url], minlength=n + 1)[:n]
        columns = [
            np.log1p(chars) / 5.0,
            np.log1p(n_words) / 4.0,
            by_class[:, UPPER] / np.maximum(letters, 1.0),
            by_class[:, DIGIT] / safe,
            by_class[:, PUNCT] / safe,
            by_class[:, SYMBOL] / safe,
            by_class[:, HAN] / safe,
            title / np.maximum(n_words, 1.0),
            has_text & (first_cls == UPPER),
            has_text & (first_cls == LOWER),
            has_text & (first_cls == DIGIT),
            has_text & bullet,
            has_text & (first_cls == PUNCT) & ~bullet,
            has_text & terminal,
            has_text & (last_cp == ord(":")),
            has_text & (last_cls == PUNCT) & ~terminal & (last_cp != ord(":")),
            has_text & np.isin(last_cls, [LOWER, UPPER, LETTER, HAN, DIGIT, MARK]),
            by_flag[:, _PIPE] > 0,
            by_flag[:, _AT] > 0,
            url_count > 0,
            by_flag[:, _CURRENCY] > 0,
            by_flag[:, _COPYRIGHT] > 0,
            n_words <= 1,
            n_words <= 4,
        ]
        return np.column_stack(columns).astype(np.float32)
